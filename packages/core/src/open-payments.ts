import type { PaymentEvent } from "@payments/events";
import type { PaymentView } from "./payment-view";

/**
 * The refunds a payment holds back and the gateway has not answered (SPEC §6.1: a refund hold still
 * pending is open), after one more event. The read models keep them beside the view, so the
 * projector can tell an open payment from its last events alone.
 * @example evolvePendingRefunds([], { type: "PaymentRefundRequested", data: { refundId: "r1", … } }) // ["r1"]
 */
export function evolvePendingRefunds(pending: readonly string[], event: PaymentEvent): readonly string[] {
  switch (event.type) {
    case "PaymentRefundRequested":
      return pending.includes(event.data.refundId) ? pending : [...pending, event.data.refundId];
    case "PaymentRefunded":
    case "PaymentRefundFailed":
      return pending.filter((id) => id !== event.data.refundId);
    default:
      return pending;
  }
}

/** {@link evolvePendingRefunds} over a whole stream. */
export function pendingRefundsOf(events: readonly PaymentEvent[]): readonly string[] {
  return events.reduce<readonly string[]>(evolvePendingRefunds, []);
}

/**
 * Whether a payment may be stuck and is the reconciler's to look at (SPEC §6.1): still `initiated`
 * (waiting for the gateway, or for a provider's callback), or holding a refund back. An `authorized`
 * hold is not stuck: it waits for a person's capture or cancel.
 */
export function isOpenPayment(view: Pick<PaymentView, "status">, pendingRefunds: readonly string[]): boolean {
  return view.status === "initiated" || pendingRefunds.length > 0;
}
