import type { CaptureMethod, FraudDecision, PaymentMethod, Provider } from "@payments/events";
import type { RecordedEvent } from "./event-envelope";
import { type PaymentStatus, statusAfterCapture, statusAfterRefund } from "./payment-state";

/**
 * The payment view of SPEC §3: the API's response body and the read model's item. Amounts are
 * integers in minor units; `version` is the stream version the view reflects.
 */
export interface PaymentView {
  readonly paymentId: string;
  readonly transactionId: string;
  readonly orderId: string;
  readonly customerId?: string;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
  readonly amountCaptured: number;
  readonly amountRefunded: number;
  readonly captureMethod: CaptureMethod;
  readonly provider: Provider;
  readonly providerReference?: string;
  readonly gatewayPaymentId?: string;
  readonly paymentMethod: PaymentMethod;
  readonly fraud?: {
    readonly score: number;
    readonly decision: FraudDecision;
    readonly reasons: readonly string[];
  };
  readonly gatewayResponse?: {
    readonly status: string;
    readonly authorizationCode?: string;
    readonly timestamp: string;
  };
  readonly flags: readonly string[];
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * Applies one recorded event to the view. This is the only definition of the view: the API folds a
 * stream with it, and the projector and replay (SPEC §6) evolve stored views with it. Pure; an event
 * at or below the view's version changes nothing, so duplicates and replays cannot move it back.
 *
 * @example evolvePaymentView(undefined, initiated) // { status: "initiated", version: 1, … }
 */
export function evolvePaymentView(
  view: PaymentView | undefined,
  event: RecordedEvent,
): PaymentView | undefined {
  if (view && event.version <= view.version) return view;
  if (event.type === "PaymentInitiated") {
    const d = event.data;
    return stripUndefined<PaymentView>({
      paymentId: event.paymentId,
      transactionId: `txn-${event.paymentId}`,
      orderId: d.orderId,
      customerId: d.customerId,
      status: "initiated",
      amount: d.amount,
      currency: d.currency,
      amountCaptured: 0,
      amountRefunded: 0,
      captureMethod: d.captureMethod,
      provider: d.provider,
      providerReference: d.providerReference,
      paymentMethod: d.paymentMethod,
      flags: [],
      version: event.version,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
    });
  }
  if (!view) return view;
  const next = { ...view, version: event.version, updatedAt: event.occurredAt };
  switch (event.type) {
    case "PaymentScreened":
      return { ...next, fraud: { ...event.data } };
    case "PaymentIntentCreated":
      return { ...next, gatewayPaymentId: event.data.gatewayPaymentId };
    case "PaymentAuthorized":
      return {
        ...next,
        status: "authorized",
        gatewayPaymentId: event.data.gatewayPaymentId,
        gatewayResponse: stripUndefined({
          status: "authorized",
          authorizationCode: event.data.authorizationCode,
          timestamp: event.occurredAt,
        }),
      };
    case "PaymentCaptured":
      return {
        ...next,
        status: statusAfterCapture(event.data.totalCaptured, view.amount, view.provider),
        amountCaptured: event.data.totalCaptured,
        gatewayPaymentId: event.data.gatewayPaymentId ?? view.gatewayPaymentId,
        gatewayResponse: stripUndefined({
          status: "captured",
          authorizationCode: view.gatewayResponse?.authorizationCode,
          timestamp: event.occurredAt,
        }),
      };
    case "PaymentRefunded":
      return {
        ...next,
        status: statusAfterRefund(event.data.totalRefunded, view.amountCaptured),
        amountRefunded: event.data.totalRefunded,
      };
    case "PaymentRefundRequested":
    case "PaymentRefundFailed":
      return next;
    case "PaymentCanceled":
      return { ...next, status: "canceled" };
    case "PaymentFailed":
      return {
        ...next,
        status: "failed",
        gatewayResponse: { status: `failed: ${event.data.code}`, timestamp: event.occurredAt },
      };
    case "PaymentRejected":
      return { ...next, status: "rejected" };
    case "PaymentFlagged":
      return view.flags.includes(event.data.flag)
        ? next
        : { ...next, flags: [...view.flags, event.data.flag] };
    case "ProviderNoticeUnapplied":
    case "PaymentDriftFound":
      return view.flags.includes("needs_attention")
        ? next
        : { ...next, flags: [...view.flags, "needs_attention"] };
    case "PaymentAttentionResolved":
      return { ...next, flags: view.flags.filter((f) => f !== "needs_attention") };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/**
 * The view of a whole stream, or undefined for a payment that does not exist.
 * @example foldPaymentView(await store.load(paymentId))
 */
export function foldPaymentView(events: readonly RecordedEvent[]): PaymentView | undefined {
  let view: PaymentView | undefined;
  for (const event of events) view = evolvePaymentView(view, event);
  return view;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
