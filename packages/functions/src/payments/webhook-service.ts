import {
  fromStripeAmount,
  ownString,
  refundFacts,
  type StripeLookup,
  type StripeRefundFacts,
} from "@payments/adapters/stripe";
import {
  ConcurrencyError,
  currencyExponent,
  decidePayment,
  type EventStore,
  evolvePayment,
  foldPayment,
  InvalidCommandError,
  isPayment,
  isPendingRefund,
  LifecycleRuleError,
  type Payment,
  type PaymentCommand,
  type PaymentState,
  type UniqueClaim,
  UniquenessConflictError,
} from "@payments/core";
import type { EventMetadata, PaymentEvent, Provider } from "@payments/events";
import type Stripe from "stripe";

/** What a notice means for a payment as it stands: commands, or why the lifecycle cannot apply it. */
export type NoticeDecision = readonly PaymentCommand[] | { readonly unapplied: string };

/** What a verified notification asks for, in the provider's terms already read. */
export interface Notification {
  readonly provider: Provider;
  /** The provider's id of this notification (Stripe event id; ZaloPay zp_trans_id; PayOS paymentLinkId:reference). */
  readonly dedupeKey: string;
  /** The provider's word for it: Stripe's event type, `payment` for a ZaloPay or PayOS payment notice. */
  readonly noticeType: string;
  /** Our payment, when the notification names it (Stripe's metadata.paymentId). */
  readonly paymentId?: string;
  /** The reference matching uses, and the unmatched order id is built from. */
  readonly reference: string;
  /** The gateway's id that a matched payment must have recorded (a Stripe PaymentIntent). */
  readonly gatewayPaymentId?: string;
  /** The money the notification is about, in the minor units of its currency (0: none of its own). */
  readonly amount: number;
  readonly currency: string;
  /**
   * Whether a notice for no known payment creates one holding its money (a payment notice), or only
   * holds the notice for a person (a refund of a PaymentIntent we never made: no amount is invented).
   */
  readonly createsPayment: boolean;
  readonly commands: (state: Payment) => NoticeDecision;
}

export type NotificationOutcome =
  | { readonly kind: "recorded"; readonly paymentId: string; readonly types: readonly string[] }
  | { readonly kind: "unapplied"; readonly paymentId: string; readonly reason: string }
  | { readonly kind: "duplicate" }
  | { readonly kind: "nothing_new"; readonly paymentId: string }
  /** Verified, but it cannot be a command at all (an unknown currency code): answered 400, nothing appended. */
  | { readonly kind: "invalid"; readonly reason: string };

const MAX_ATTEMPTS = 5;
const lower = (s: string | undefined | null) => (s ?? "").toLowerCase();

/**
 * Records provider notifications (SPEC §4.3): every event one notification means is decided on the
 * payment as it stands and appended in ONE transaction with the notification's dedupe row, so the
 * same notification twice appends once, and a crash never leaves half of one. Nothing verified is
 * dropped: a notification for no known payment creates one (orderId
 * `unmatched:<provider>:<reference>`) flagged `unmatched`; one the lifecycle cannot apply, or whose
 * PaymentIntent or currency disagrees with the payment's, is recorded as `ProviderNoticeUnapplied`,
 * which flags the payment `needs_attention`.
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

  const unappliedCommand = (n: Notification, reason: string): PaymentCommand => {
    const currency = lower(n.currency);
    const known = /^[a-z]{3}$/.test(currency) && currencyExponent(currency) !== undefined;
    return {
      type: "RecordUnappliedNotice",
      provider: n.provider,
      noticeId: n.dedupeKey,
      noticeType: n.noticeType,
      ...(known ? { amount: n.amount, currency } : {}),
      reason: (known || !currency ? reason : `${reason} (notice currency ${JSON.stringify(currency)})`).slice(
        0,
        1000,
      ),
    };
  };

  /** Why a notice cannot be this payment's, though it names it: another PaymentIntent, another currency. */
  function disagreement(n: Notification, payment: Payment): string | undefined {
    const recorded = payment.gatewayPaymentId ?? payment.providerReference;
    if (n.gatewayPaymentId && recorded !== n.gatewayPaymentId)
      return `payment_intent_differs: the notice is about ${n.gatewayPaymentId}, the payment recorded ${recorded ?? "none"}`;
    if (n.currency && lower(n.currency) !== payment.currency)
      return `currency_differs: the notice is in ${lower(n.currency)}, the payment in ${payment.currency}`;
    return undefined;
  }

  /** Decides commands in order on a running state; a refused one throws LifecycleRuleError. */
  function decideAll(commands: readonly PaymentCommand[], state: PaymentState, paymentId: string) {
    const events: PaymentEvent[] = [];
    let running = state;
    for (const command of commands) {
      const decided = decidePayment(command, running, { paymentId });
      for (const event of decided) running = evolvePayment(running, event);
      events.push(...decided);
    }
    return { events, state: running };
  }

  /** The notice's own commands on a payment, or its record as unapplied when they cannot apply. */
  function decideNotice(n: Notification, state: Payment, paymentId: string) {
    const conflict = disagreement(n, state);
    const decision = conflict ? { unapplied: conflict } : n.commands(state);
    if (!("unapplied" in decision)) {
      try {
        return { events: decideAll(decision, state, paymentId).events, unapplied: undefined };
      } catch (error) {
        if (!(error instanceof LifecycleRuleError)) throw error;
        return unapplied(`${error.rule}: ${error.message}`);
      }
    }
    return unapplied(decision.unapplied);

    function unapplied(reason: string) {
      return { events: decideAll([unappliedCommand(n, reason)], state, paymentId).events, unapplied: reason };
    }
  }

  async function record(n: Notification, metadata: EventMetadata): Promise<NotificationOutcome> {
    const claim: UniqueClaim = { kind: "webhookEvent", value: `${n.provider}:${n.dedupeKey}` };
    for (let attempt = 1; ; attempt++) {
      if (await deps.store.findOwner(claim)) return { kind: "duplicate" };
      const existing = await findPayment(n);
      const paymentId = existing ?? deps.newPaymentId();
      const { state, version } = existing ? foldPayment(await deps.store.load(paymentId)) : foldPayment([]);
      const unique: UniqueClaim[] = [claim];
      let events: PaymentEvent[];
      let unapplied: string | undefined;
      try {
        if (isPayment(state)) {
          ({ events, unapplied } = decideNotice(n, state, paymentId));
        } else {
          const orderId = `unmatched:${n.provider}:${n.reference}`;
          unique.push(
            { kind: "orderId", value: orderId },
            { kind: "providerReference", value: `${n.provider}:${n.reference}` },
          );
          const created = decideAll(
            [
              {
                type: "InitiatePayment",
                orderId,
                amount: n.createsPayment ? n.amount : 0,
                currency: lower(n.currency),
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
            ],
            state,
            paymentId,
          );
          const then = n.createsPayment
            ? decideNotice(n, created.state as Payment, paymentId)
            : {
                events: decideAll(
                  [unappliedCommand(n, `no_payment: no payment of ours matches ${n.reference}`)],
                  created.state,
                  paymentId,
                ).events,
                unapplied: `no_payment: no payment of ours matches ${n.reference}`,
              };
          events = [...created.events, ...then.events];
          unapplied = then.unapplied;
        }
      } catch (error) {
        // Verified, but nothing in it can be recorded as given (a currency code no one knows).
        if (error instanceof InvalidCommandError) return { kind: "invalid", reason: error.message };
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
        return unapplied
          ? { kind: "unapplied", paymentId, reason: unapplied }
          : { kind: "recorded", paymentId, types: events.map((e) => e.type) };
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

/**
 * A provider's notice of money received (ZaloPay callback of type 1, PayOS signed `data.code`
 * "00"): each adds to what was received (SPEC §2); after a cancel, or once paid in full, the
 * lifecycle refuses it and it is recorded as unapplied.
 */
export function receivedCommands(
  provider: "zalopay" | "payos",
  transactionId: string,
  amount: number,
): (state: Payment) => NoticeDecision {
  return () => [
    { type: "RecordReceivedPayment", gateway: provider, gatewayPaymentId: transactionId, amount },
  ];
}

/** What one Stripe refund means for a payment: a fact to record, a hold of ours to release, or nothing yet. */
function refundCommands(refund: StripeRefundFacts, currency: string, state: Payment): NoticeDecision {
  const refundId = refund.ourRefundId ?? refund.id;
  if (refund.status === "succeeded")
    return [{ type: "RecordGatewayRefund", refundId, amount: fromStripeAmount(refund.amount, currency) }];
  if (refund.status === "failed" || refund.status === "canceled") {
    if (isPendingRefund(state, refundId))
      return [
        {
          type: "FailRefund",
          refundId,
          code: `stripe_refund_${refund.status}`,
          message: `Stripe reports refund ${refund.id} ${refund.status}`,
        },
      ];
    if (state.refundIds.includes(refundId))
      return {
        unapplied: `refund_reversed: refund ${refund.id}, recorded as refunded, is now ${refund.status} at Stripe`,
      };
  }
  // pending, requires_action: nothing has moved yet; its next notice will say.
  return [];
}

function allRefundCommands(refunds: readonly StripeRefundFacts[], currency: string) {
  return (state: Payment): NoticeDecision => {
    const commands: PaymentCommand[] = [];
    for (const refund of refunds) {
      const decision = refundCommands(refund, currency, state);
      if ("unapplied" in decision) return decision;
      commands.push(...decision);
    }
    return commands;
  };
}

const safeAmount = (value: unknown) =>
  Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : 0;
const ownValue = (object: unknown, key: string): unknown =>
  object !== null && typeof object === "object" && Object.hasOwn(object, key)
    ? (object as Record<string, unknown>)[key]
    : undefined;

/**
 * What a verified Stripe event means (SPEC §4.3), as the API version that the bundled stripe-node
 * pins sends it: a charge carries no `refunds` list (read through the API instead), and refunds
 * come as their own `refund.*` events. A payment is matched by its recorded PaymentIntent; the
 * intent's `metadata.paymentId` names it, and a notice whose intent or currency disagrees with the
 * payment's is unapplied, never applied to the wrong payment. Our own captures and refunds echoed
 * back add nothing: a capture already recorded is skipped, and refunds are matched by our refund id
 * (which Stripe keeps in the refund's metadata) or by Stripe's.
 */
export async function stripeNotification(
  event: Stripe.Event,
  lookup: StripeLookup,
): Promise<Notification | undefined> {
  const object: unknown = event.data.object;
  const currency = lower(ownString(object, "currency"));
  const base = { provider: "stripe" as const, dedupeKey: event.id, noticeType: event.type, currency };
  const paymentIdOf = async (intentId: string | undefined) =>
    intentId ? (await lookup.paymentIntent(intentId))?.paymentId : undefined;

  switch (event.type) {
    case "payment_intent.succeeded":
    case "payment_intent.payment_failed":
    case "payment_intent.canceled": {
      const intentId = ownString(object, "id");
      if (!intentId) return undefined;
      const common = {
        ...base,
        paymentId: ownString(ownValue(object, "metadata"), "paymentId"),
        reference: intentId,
        gatewayPaymentId: intentId,
        createsPayment: true,
      };
      if (event.type === "payment_intent.succeeded") {
        const received = fromStripeAmount(safeAmount(ownValue(object, "amount_received")), currency);
        return {
          ...common,
          amount: received,
          commands: (state) => {
            if (["captured", "partially_refunded", "refunded"].includes(state.status)) return [];
            if (state.status === "authorized") return [{ type: "CapturePayment", amount: received }];
            return [
              {
                type: "AuthorizePayment",
                gateway: "stripe",
                gatewayPaymentId: intentId,
                amountAuthorized: received,
                captured: state.captureMethod !== "manual" && state.fraud?.decision !== "review",
              },
            ];
          },
        };
      }
      const amount = fromStripeAmount(safeAmount(ownValue(object, "amount")), currency);
      if (event.type === "payment_intent.payment_failed") {
        const error = ownValue(object, "last_payment_error");
        return {
          ...common,
          amount,
          commands: (state) =>
            state.status === "initiated" || state.status === "authorized"
              ? [
                  {
                    type: "FailPayment",
                    code: (ownString(error, "code") ?? "payment_failed").slice(0, 100),
                    message: (ownString(error, "message") ?? "the payment failed at Stripe").slice(0, 1000),
                    retryable: false,
                  },
                ]
              : state.status === "failed"
                ? []
                : { unapplied: `payment_failed_after_${state.status}: Stripe reports the payment failed` },
        };
      }
      return {
        ...common,
        amount,
        commands: (state) =>
          state.status === "initiated" || state.status === "authorized"
            ? [
                {
                  type: "CancelPayment",
                  reason: `canceled at Stripe: ${ownString(object, "cancellation_reason") ?? "no reason given"}`,
                },
              ]
            : state.status === "canceled" || state.status === "failed"
              ? []
              : { unapplied: `canceled_after_${state.status}: Stripe reports the PaymentIntent canceled` },
      };
    }
    case "charge.refunded": {
      const chargeId = ownString(object, "id");
      if (!chargeId) return undefined;
      const intentId = ownString(object, "payment_intent");
      // Older API versions listed the refunds on the charge; the pinned one does not.
      const listed = ownValue(ownValue(object, "refunds"), "data");
      const refunds = Array.isArray(listed)
        ? listed.map(refundFacts).filter((r): r is StripeRefundFacts => r !== undefined)
        : await lookup.refundsOfCharge(chargeId);
      return {
        ...base,
        paymentId: await paymentIdOf(intentId),
        reference: intentId ?? chargeId,
        gatewayPaymentId: intentId,
        amount: refunds.reduce((sum, r) => sum + fromStripeAmount(r.amount, currency), 0),
        createsPayment: false,
        commands: allRefundCommands(refunds, currency),
      };
    }
    case "refund.created":
    case "refund.updated":
    case "refund.failed": {
      const refund = refundFacts(object);
      if (!refund) return undefined;
      const facts =
        event.type === "refund.failed" && refund.status === "succeeded"
          ? { ...refund, status: "failed" }
          : refund;
      return {
        ...base,
        paymentId: await paymentIdOf(refund.paymentIntentId),
        reference: refund.paymentIntentId ?? ownString(object, "charge") ?? refund.id,
        gatewayPaymentId: refund.paymentIntentId,
        amount: fromStripeAmount(refund.amount, currency),
        createsPayment: false,
        commands: allRefundCommands([facts], currency),
      };
    }
    default:
      return undefined;
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>;
