import type { PayOSClient } from "@payments/adapters/payos";
import { fromStripeAmount, type StripeLookup } from "@payments/adapters/stripe";
import type { ZaloPayClient } from "@payments/adapters/zalopay";
import {
  type CommandHandler,
  type EventStore,
  foldPayment,
  GatewayDeclinedError,
  type GatewayPayment,
  GatewayRequestError,
  GatewayUnavailableError,
  isPayment,
  LifecycleRuleError,
  type Payment,
  type PaymentCommand,
  type PaymentGateway,
  type RecordedEvent,
} from "@payments/core";
import type { EventMetadata, Provider } from "@payments/events";

/** What one look at a payment's provider came to. */
export type SettleOutcome =
  /** The provider's answer was appended (or another run appended it first). */
  | { readonly kind: "settled"; readonly appended: readonly string[] }
  /** The provider still has it in progress (or the order queue owns it): looked at again later. */
  | { readonly kind: "in_progress"; readonly reason: string }
  /** The provider did not answer: nothing appended, tried on the next run. */
  | { readonly kind: "provider_error"; readonly provider: Provider; readonly reason: string }
  /** Nothing is open any more (settled by a webhook or another run meanwhile). */
  | { readonly kind: "not_open" };

export interface SettlerDeps {
  readonly store: EventStore;
  readonly handle: CommandHandler;
  readonly gateway: PaymentGateway;
  readonly stripe: StripeLookup;
  readonly zalopay: () => ZaloPayClient;
  readonly payos: () => PayOSClient;
}

/** The code a payment fails with when it was never charged and nothing will go on with it (SPEC §6.1). */
export const ABANDONED = "abandoned";

/**
 * Asks a payment's provider what became of it and appends what the provider holds (SPEC §6.1). It
 * never starts a charge: a charge Stripe made is recorded; an intent never confirmed is canceled at
 * Stripe and the payment fails `abandoned`; an API payment with no intent fails `abandoned`. A refund
 * hold is settled by what the provider holds for that refund id, never released on a timer alone.
 * Every append goes through the decider on the stream as it is, so two settlers racing on one
 * payment append once: the loser's command is already done, or refused by the rule that the
 * winner's events now break, which is a no-op here.
 */
export function createSettler(deps: SettlerDeps) {
  async function apply(
    paymentId: string,
    commands: readonly PaymentCommand[],
    metadata: EventMetadata,
  ): Promise<string[]> {
    const appended: string[] = [];
    for (const command of commands) {
      try {
        const result = await deps.handle({ paymentId, metadata, command });
        appended.push(...result.appended.map((e) => e.type));
      } catch (error) {
        // Another run (or a webhook) got there first: what it appended already says this.
        if (error instanceof LifecycleRuleError) continue;
        throw error;
      }
    }
    return appended;
  }

  /** An `initiated` Stripe payment: what its intent says, or `abandoned` when it never got one. */
  async function stripeInitiated(payment: Payment): Promise<PaymentCommand[] | string> {
    if (!payment.gatewayPaymentId) {
      // A queue message is retried by SQS (or waits in the DLQ for a redrive): the queue owns it.
      if (payment.source !== "api") return "the order queue owns it (retried, or in its DLQ)";
      return [
        {
          type: "FailPayment",
          code: ABANDONED,
          message: "the API request stopped before a PaymentIntent was created; nothing was charged",
          retryable: false,
        },
      ];
    }
    let intent = await deps.gateway.retrieve(payment.gatewayPaymentId);
    if (intent.status === "requires_confirmation" || intent.status === "requires_action") {
      try {
        intent = await deps.gateway.cancel({
          gatewayPaymentId: intent.gatewayPaymentId,
          idempotencyKey: `${payment.gatewayPaymentId}:reconcile-cancel`,
        });
      } catch (error) {
        if (!(error instanceof GatewayRequestError || error instanceof GatewayDeclinedError)) throw error;
        // Confirmed meanwhile: the intent is no longer cancelable, and what it holds now is recorded.
        intent = await deps.gateway.retrieve(payment.gatewayPaymentId);
      }
      if (intent.status === "canceled")
        return [
          {
            type: "FailPayment",
            code: ABANDONED,
            message: `PaymentIntent ${intent.gatewayPaymentId} was never confirmed; canceled at Stripe, nothing was charged`,
            retryable: false,
          },
        ];
    }
    return intentCommands(intent);
  }

  function intentCommands(intent: GatewayPayment): PaymentCommand[] | string {
    switch (intent.status) {
      case "succeeded":
      case "requires_capture":
        return [
          {
            type: "AuthorizePayment",
            gateway: "stripe",
            gatewayPaymentId: intent.gatewayPaymentId,
            amountAuthorized: intent.amount,
            authorizationCode: intent.authorizationCode,
            captured: intent.status === "succeeded",
          },
        ];
      case "canceled":
        return [
          {
            type: "FailPayment",
            code: "gateway_canceled",
            message: `Stripe canceled PaymentIntent ${intent.gatewayPaymentId}`,
            retryable: false,
          },
        ];
      default:
        return `PaymentIntent ${intent.gatewayPaymentId} is ${intent.status} at Stripe`;
    }
  }

  /** An `initiated` ZaloPay order: paid (recorded as received), failed, or still waiting. */
  async function zaloPayInitiated(payment: Payment): Promise<PaymentCommand[] | string> {
    const status = await deps.zalopay().query(payment.providerReference!);
    if (status.returnCode === 1 && status.zpTransId && status.amount !== undefined)
      return [
        {
          type: "RecordReceivedPayment",
          gateway: "zalopay",
          gatewayPaymentId: status.zpTransId,
          amount: status.amount,
        },
      ];
    if (status.returnCode === 2)
      return [
        {
          type: "FailPayment",
          code: `zalopay_${status.subReturnCode ?? 2}`,
          message: `ZaloPay reports order ${payment.providerReference} failed: ${status.returnMessage}`.slice(
            0,
            1000,
          ),
          retryable: false,
        },
      ];
    return `ZaloPay order ${payment.providerReference} is still waiting to be paid`;
  }

  /** An `initiated` PayOS link: each transaction on it recorded as received; canceled or expired ends it. */
  async function payOSInitiated(payment: Payment): Promise<PaymentCommand[] | string> {
    const link = await deps.payos().get(Number(payment.providerReference));
    const received: PaymentCommand[] = link.transactions
      .filter((t) => !payment.receivedIds.includes(t.reference))
      .map((t) => ({
        type: "RecordReceivedPayment",
        gateway: "payos",
        gatewayPaymentId: t.reference,
        amount: t.amount,
      }));
    if (received.length > 0) return received;
    if (link.status === "CANCELLED" || link.status === "EXPIRED")
      return [{ type: "CancelPayment", reason: `PayOS link ${link.id} is ${link.status.toLowerCase()}` }];
    return `PayOS link ${link.id} is ${link.status}`;
  }

  /** Refund holds still pending: each settled by what the provider holds for that refund id. */
  async function pendingRefunds(
    payment: Payment,
    events: readonly RecordedEvent[],
  ): Promise<PaymentCommand[] | string> {
    const held = Object.entries(payment.pendingRefunds);
    if (payment.provider === "stripe") {
      if (!payment.gatewayPaymentId) return "a refund is held for a payment with no PaymentIntent";
      const atStripe = await deps.stripe.refundsOfPaymentIntent(payment.gatewayPaymentId);
      const commands: PaymentCommand[] = [];
      for (const [refundId] of held) {
        const refund = atStripe.find((r) => r.ourRefundId === refundId || r.id === refundId);
        if (!refund) {
          // Stripe holds no refund under this id: the request never reached it, nothing moved.
          commands.push({
            type: "FailRefund",
            refundId,
            code: "not_at_gateway",
            message: "Stripe holds no refund under this id: nothing was returned",
          });
        } else if (refund.status === "succeeded") {
          commands.push({
            type: "RecordGatewayRefund",
            refundId,
            amount: fromStripeAmount(refund.amount, payment.currency),
          });
        } else if (refund.status === "failed" || refund.status === "canceled") {
          commands.push({
            type: "FailRefund",
            refundId,
            code: `stripe_refund_${refund.status}`,
            message: `Stripe reports refund ${refund.id} ${refund.status}`,
          });
        }
      }
      return commands.length > 0 ? commands : "Stripe is still processing the refund";
    }
    if (payment.provider === "zalopay") {
      const commands: PaymentCommand[] = [];
      for (const [refundId, amount] of held) {
        const asked = events.find((e) => e.type === "PaymentRefundRequested" && e.data.refundId === refundId);
        const mRefundId = asked?.type === "PaymentRefundRequested" ? asked.data.gatewayRefundId : undefined;
        if (!mRefundId) {
          commands.push({
            type: "FailRefund",
            refundId,
            code: "not_at_gateway",
            message: "the refund was never sent to ZaloPay",
          });
          continue;
        }
        const status = await deps.zalopay().queryRefund(mRefundId);
        if (status.returnCode === 1) commands.push({ type: "RecordGatewayRefund", refundId, amount });
        else if (status.returnCode === 2)
          commands.push({
            type: "FailRefund",
            refundId,
            code: `zalopay_${status.subReturnCode ?? 2}`,
            message: (status.returnMessage || "ZaloPay refused the refund").slice(0, 1000),
          });
      }
      return commands.length > 0 ? commands : "ZaloPay is still processing the refund";
    }
    return `a refund is held for a ${payment.provider} payment, which has no refund API`;
  }

  return async function settle(paymentId: string, metadata: EventMetadata): Promise<SettleOutcome> {
    const events = await deps.store.load(paymentId);
    const { state } = foldPayment(events);
    if (!isPayment(state)) return { kind: "not_open" };
    const initiated = state.status === "initiated";
    if (!initiated && Object.keys(state.pendingRefunds).length === 0) return { kind: "not_open" };
    try {
      const decided = initiated
        ? state.provider === "stripe"
          ? await stripeInitiated(state)
          : state.provider === "zalopay"
            ? await zaloPayInitiated(state)
            : await payOSInitiated(state)
        : await pendingRefunds(state, events);
      if (typeof decided === "string") return { kind: "in_progress", reason: decided };
      return { kind: "settled", appended: await apply(paymentId, decided, metadata) };
    } catch (error) {
      if (error instanceof GatewayUnavailableError || isNetworkError(error))
        return { kind: "provider_error", provider: state.provider, reason: (error as Error).message };
      throw error;
    }
  };
}

/** A provider we could not reach at all, whatever client threw it. */
function isNetworkError(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name ?? "";
  return /Connection|Timeout|Abort|FetchError/i.test(name);
}

export type Settle = ReturnType<typeof createSettler>;
