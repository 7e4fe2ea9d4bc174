import { fromStripeAmount } from "@payments/adapters/stripe";
import {
  ConcurrencyError,
  decidePayment,
  type EventStore,
  evolvePayment,
  foldPayment,
  isPayment,
  LifecycleRuleError,
  type PaymentCommand,
  type PaymentState,
  type UniqueClaim,
  UniquenessConflictError,
} from "@payments/core";
import type { EventMetadata, PaymentEvent, Provider } from "@payments/events";
import type Stripe from "stripe";

/** What a verified notification asks for, in the provider's terms already read. */
export interface Notification {
  readonly provider: Provider;
  /** The provider's id of this notification (Stripe event id; ZaloPay zp_trans_id; PayOS paymentLinkId:reference). */
  readonly dedupeKey: string;
  /** Our payment, when the notification names it (Stripe's metadata.paymentId). */
  readonly paymentId?: string;
  /** The reference matching uses, and the unmatched order id is built from. */
  readonly reference: string;
  /** The money the notification is about, in our minor units, and its currency. */
  readonly amount: number;
  readonly currency: string;
  /** The commands it means for a payment as it stands. */
  readonly commands: (state: PaymentState) => PaymentCommand[];
}

export type NotificationOutcome =
  | { readonly kind: "recorded"; readonly paymentId: string; readonly types: readonly string[] }
  | { readonly kind: "duplicate" }
  | { readonly kind: "nothing_new"; readonly paymentId: string; readonly reason?: string };

const MAX_ATTEMPTS = 5;

/**
 * Records provider notifications (SPEC §4.3): every event one notification means is decided on the
 * payment as it stands and appended in ONE transaction with the notification's dedupe row, so the
 * same notification twice appends once, and a crash never leaves half of one. A notification for no
 * known payment creates one (orderId `unmatched:<provider>:<reference>`) flagged `unmatched`, so a
 * verified notification is never dropped.
 */
export function createWebhookService(deps: {
  store: EventStore;
  newPaymentId: () => string;
  now?: () => Date;
  newId: () => string;
}) {
  const now = deps.now ?? (() => new Date());

  async function findPayment(n: Notification): Promise<string | undefined> {
    if (n.paymentId && (await deps.store.load(n.paymentId)).length > 0) return n.paymentId;
    return deps.store.findOwner({ kind: "providerReference", value: `${n.provider}:${n.reference}` });
  }

  async function record(n: Notification, metadata: EventMetadata): Promise<NotificationOutcome> {
    const claim: UniqueClaim = { kind: "webhookEvent", value: `${n.provider}:${n.dedupeKey}` };
    for (let attempt = 1; ; attempt++) {
      if (await deps.store.findOwner(claim)) return { kind: "duplicate" };
      const existing = await findPayment(n);
      const paymentId = existing ?? deps.newPaymentId();
      const { state, version } = existing ? foldPayment(await deps.store.load(paymentId)) : foldPayment([]);
      const unique: UniqueClaim[] = [claim];
      let commands: PaymentCommand[];
      if (isPayment(state)) {
        commands = n.commands(state);
      } else {
        const orderId = `unmatched:${n.provider}:${n.reference}`;
        unique.push(
          { kind: "orderId", value: orderId },
          { kind: "providerReference", value: `${n.provider}:${n.reference}` },
        );
        commands = [
          {
            type: "InitiatePayment",
            orderId,
            amount: n.amount,
            currency: n.currency,
            paymentMethod: { type: n.provider },
            captureMethod: "automatic",
            source: "webhook",
            provider: n.provider,
            providerReference: n.reference,
          },
          {
            type: "FlagPayment",
            flag: "unmatched",
            detail: `a verified ${n.provider} notification for ${n.reference}, which no payment matches`,
          },
        ];
      }
      let events: PaymentEvent[];
      let running = state;
      try {
        events = [];
        for (const command of commands) {
          const decided = decidePayment(command, running, { paymentId });
          for (const event of decided) running = evolvePayment(running, event);
          events.push(...decided);
          // An unmatched payment, once created, takes the notification's own commands.
          if (command.type === "FlagPayment" && command.flag === "unmatched") {
            for (const next of n.commands(running)) {
              const more = decidePayment(next, running, { paymentId });
              for (const event of more) running = evolvePayment(running, event);
              events.push(...more);
            }
          }
        }
      } catch (error) {
        // Verified but not applicable to the payment as it stands (a cancel after a capture): nothing
        // is appended, and the provider is told it was received, so it does not retry forever.
        if (error instanceof LifecycleRuleError)
          return { kind: "nothing_new", paymentId, reason: error.message };
        throw error;
      }
      if (events.length === 0) return { kind: "nothing_new", paymentId };
      try {
        await deps.store.append({
          paymentId,
          expectedVersion: version,
          events,
          metadata,
          unique,
          now: now(),
          newId: deps.newId,
        });
        return { kind: "recorded", paymentId, types: events.map((e) => e.type) };
      } catch (error) {
        const raced = error instanceof ConcurrencyError || error instanceof UniquenessConflictError;
        if (!raced || attempt >= MAX_ATTEMPTS) {
          if (error instanceof UniquenessConflictError && error.kind === "webhookEvent")
            return { kind: "duplicate" };
          throw error;
        }
      }
    }
  }

  return { record };
}

const lower = (s: string | undefined | null) => (s ?? "").toLowerCase();

/**
 * A provider's notice of money received (ZaloPay callback, PayOS `code: "00"`): captured as notified;
 * a different currency is recorded as a flag, never as money in the payment's currency.
 */
export function receivedCommands(
  provider: "zalopay" | "payos",
  transactionId: string,
  amount: number,
  currency: string,
): (state: PaymentState) => PaymentCommand[] {
  return (state) => {
    if (!isPayment(state)) return [];
    if (lower(currency) !== state.currency) {
      return [
        {
          type: "FlagPayment",
          flag: "amount_mismatch",
          detail: `${provider} notified ${amount} ${lower(currency)} for a payment in ${state.currency}`,
          receivedAmount: amount,
        },
      ];
    }
    return [{ type: "RecordReceivedPayment", gateway: provider, gatewayPaymentId: transactionId, amount }];
  };
}

/**
 * What a verified Stripe event means (SPEC §4.3). Our own captures and refunds echoed back add
 * nothing: a capture already recorded is skipped, and refunds are matched by our refund id (which
 * Stripe keeps in the refund's metadata) or by Stripe's.
 */
export function stripeNotification(event: Stripe.Event): Notification | undefined {
  const object = event.data.object as unknown as Record<string, unknown>;
  const metadata = (object.metadata ?? {}) as Record<string, string>;
  const currency = lower(object.currency as string);
  const amountOf = (value: unknown) => (typeof value === "number" ? fromStripeAmount(value, currency) : 0);
  const base = { provider: "stripe" as const, dedupeKey: event.id, paymentId: metadata.paymentId, currency };
  switch (event.type) {
    case "payment_intent.succeeded": {
      const received = amountOf(object.amount_received);
      return {
        ...base,
        reference: String(object.id),
        amount: received,
        commands: (state) => {
          if (!isPayment(state)) return [];
          if (["captured", "partially_refunded", "refunded"].includes(state.status)) return [];
          if (state.status === "authorized") return [{ type: "CapturePayment", amount: received }];
          return [
            {
              type: "AuthorizePayment",
              gateway: "stripe",
              gatewayPaymentId: String(object.id),
              amountAuthorized: received,
              captured: state.captureMethod !== "manual" && state.fraud?.decision !== "review",
            },
          ];
        },
      };
    }
    case "payment_intent.payment_failed": {
      const error = (object.last_payment_error ?? {}) as { code?: string; message?: string };
      return {
        ...base,
        reference: String(object.id),
        amount: amountOf(object.amount),
        commands: (state) =>
          isPayment(state) && (state.status === "initiated" || state.status === "authorized")
            ? [
                {
                  type: "FailPayment",
                  code: (error.code || "payment_failed").slice(0, 100),
                  message: (error.message ?? "the payment failed at Stripe").slice(0, 1000),
                  retryable: false,
                },
              ]
            : [],
      };
    }
    case "payment_intent.canceled":
      return {
        ...base,
        reference: String(object.id),
        amount: amountOf(object.amount),
        commands: (state) =>
          isPayment(state) && (state.status === "initiated" || state.status === "authorized")
            ? [
                {
                  type: "CancelPayment",
                  reason: `canceled at Stripe: ${object.cancellation_reason ?? "no reason given"}`,
                },
              ]
            : [],
      };
    case "charge.refunded": {
      const refunds = ((object.refunds as { data?: unknown[] } | undefined)?.data ?? []) as Array<{
        id: string;
        amount: number;
        status?: string;
        metadata?: Record<string, string>;
      }>;
      return {
        ...base,
        reference: String(object.payment_intent ?? object.id),
        amount: amountOf(object.amount_captured ?? object.amount),
        commands: (state) => {
          if (!isPayment(state)) return [];
          const commands: PaymentCommand[] = [];
          for (const refund of refunds) {
            if (refund.status && refund.status !== "succeeded") continue;
            const ours = refund.metadata?.refundId;
            const refundId = ours ?? refund.id;
            if (state.refundIds.includes(refundId)) continue;
            commands.push(
              ours && ours in state.pendingRefunds
                ? { type: "RefundPayment", refundId }
                : { type: "RefundPayment", refundId, amount: fromStripeAmount(refund.amount, currency) },
            );
          }
          return commands;
        },
      };
    }
    default:
      return undefined;
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>;
