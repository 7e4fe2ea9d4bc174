import type { ReadModelStore } from "@payments/adapters/dynamodb";
import type { PayOSClient } from "@payments/adapters/payos";
import { fromStripeAmount, type StripeIntentFacts, type StripeLookup } from "@payments/adapters/stripe";
import type { ZaloPayClient } from "@payments/adapters/zalopay";
import {
  type CommandHandler,
  type EventStore,
  foldPayment,
  isPayment,
  LifecycleRuleError,
  type Payment,
  type PaymentCommand,
  type RecordedEvent,
} from "@payments/core";
import type { DriftClass, EventMetadata, Provider } from "@payments/events";

/** One disagreement between the ledger and a provider (SPEC §6.1). */
export interface Drift {
  /** Stable across runs: `<class>:<provider>:<provider object id>`. */
  readonly driftId: string;
  readonly driftClass: DriftClass;
  readonly provider: Provider;
  readonly paymentId?: string;
  /** The provider's object: a PaymentIntent, a refund, an order, a payment link. */
  readonly providerObject: string;
  readonly ledger: string;
  readonly providerSays: string;
  /** Minor units of `currency`: the money the drift is about. */
  readonly amount: number;
  readonly currency: string;
  /**
   * What `--repair` appends: the provider's record through the decider, or, where a program cannot
   * decide, a `RecordDrift` that flags the payment for a person. None when there is no payment to
   * append to.
   */
  readonly repair?: PaymentCommand;
  /** Recorded for a person by an earlier repair, and not settled yet. */
  readonly awaitingPerson: boolean;
}

export interface DriftReport {
  readonly window: { readonly since: string; readonly until: string };
  readonly providers: readonly Provider[];
  /** Provider objects and ledger payments compared. */
  readonly compared: number;
  readonly drifts: readonly Drift[];
  /** The drifts' amounts per currency, and per class within it. */
  readonly totals: Readonly<Record<string, { amount: number; byClass: Partial<Record<DriftClass, number>> }>>;
  /** Providers that did not answer: their part of the window was not compared. */
  readonly providerErrors: readonly string[];
}

export interface RepairResult {
  readonly driftId: string;
  readonly outcome: "repaired" | "flagged" | "nothing_to_do" | "failed";
  readonly events: readonly string[];
  readonly reason?: string;
}

export interface DriftDeps {
  readonly store: EventStore;
  readonly readModels: ReadModelStore;
  readonly handle: CommandHandler;
  readonly stripe: StripeLookup;
  readonly zalopay: () => ZaloPayClient;
  readonly payos: () => PayOSClient;
}

const CAPTURED = new Set(["captured", "underpaid", "partially_refunded", "refunded"]);
/** Classes a program cannot settle: the payment is flagged for a person (SPEC §6.1). */
const FOR_A_PERSON = new Set<DriftClass>(["missing_at_provider", "unapplied_notice"]);

interface Loaded {
  readonly paymentId: string;
  readonly payment: Payment;
  readonly events: readonly RecordedEvent[];
}

/**
 * Compares the providers' records of a window with the ledger and lists each drift (SPEC §6.1).
 * Stripe's PaymentIntents and Refunds created in the window are listed (all pages); ZaloPay and
 * PayOS have no list API, so each of the ledger's payments of the window is asked about. The
 * ledger's own payments of the window are compared too, for what the provider does not hold.
 */
export function createDriftFinder(deps: DriftDeps) {
  async function load(paymentId: string | undefined): Promise<Loaded | undefined> {
    if (!paymentId) return undefined;
    const events = await deps.store.load(paymentId);
    const { state } = foldPayment(events);
    return isPayment(state) ? { paymentId, payment: state, events } : undefined;
  }

  /** A drift, with whether an earlier repair already handed it to a person (or a person settled it). */
  function drift(
    loaded: Loaded | undefined,
    fields: Omit<Drift, "awaitingPerson" | "paymentId" | "repair"> & { repair?: PaymentCommand },
  ): Drift | undefined {
    const recorded = loaded?.payment.drifts.includes(fields.driftId) ?? false;
    // Recorded, then resolved by a person: settled, not drift any more.
    if (recorded && !loaded!.payment.flags.includes("needs_attention")) return undefined;
    const forPerson = FOR_A_PERSON.has(fields.driftClass) || fields.repair === undefined;
    const repair: PaymentCommand | undefined = !loaded
      ? undefined
      : forPerson
        ? {
            type: "RecordDrift",
            driftId: fields.driftId,
            driftClass: fields.driftClass,
            provider: fields.provider,
            detail:
              `${fields.driftClass}: the ledger has ${fields.ledger}; ${fields.provider} has ${fields.providerSays}`.slice(
                0,
                1000,
              ),
            ledger: fields.ledger.slice(0, 500),
            providerSays: fields.providerSays.slice(0, 500),
          }
        : fields.repair;
    return { ...fields, paymentId: loaded?.paymentId, repair, awaitingPerson: recorded };
  }

  /** Notices a payment could not apply and no person has settled: drift of class `unapplied_notice`. */
  function unappliedNotices(loaded: Loaded): Drift[] {
    if (!loaded.payment.flags.includes("needs_attention")) return [];
    return loaded.events.flatMap((e) => {
      if (e.type !== "ProviderNoticeUnapplied") return [];
      const found = drift(loaded, {
        driftId: `unapplied_notice:${e.data.provider}:${e.data.noticeId}`,
        driftClass: "unapplied_notice",
        provider: e.data.provider,
        providerObject: e.data.noticeId,
        ledger: `notice ${e.data.noticeType} not applied (${e.data.reason.slice(0, 200)})`,
        providerSays: `${e.data.noticeType} of ${e.data.amount ?? "?"} ${e.data.currency ?? ""}`.trim(),
        amount: e.data.amount ?? 0,
        currency: e.data.currency ?? loaded.payment.currency,
      });
      return found ? [found] : [];
    });
  }

  async function stripeDrift(since: Date, until: Date, add: (d: Drift | undefined) => void) {
    const [intents, refunds] = await Promise.all([
      deps.stripe.paymentIntentsCreated(since, until),
      deps.stripe.refundsCreated(since, until),
    ]);
    const seenIntents = new Map<string, StripeIntentFacts>(intents.map((i) => [i.id, i]));
    let compared = intents.length + refunds.length;
    for (const intent of intents) {
      const loaded = await load(intent.paymentId);
      const amount = fromStripeAmount(intent.amountReceived, intent.currency);
      if (!loaded) {
        if (intent.amountReceived > 0)
          add(
            drift(undefined, {
              driftId: `missing_in_ledger:stripe:${intent.id}`,
              driftClass: "missing_in_ledger",
              provider: "stripe",
              providerObject: intent.id,
              ledger: "no payment",
              providerSays: `${intent.status}, ${amount} ${intent.currency} received`,
              amount,
              currency: intent.currency,
            }),
          );
        continue;
      }
      add(compareIntent(loaded, intent));
    }
    for (const refund of refunds) {
      if (!refund.paymentIntentId) continue;
      const paymentId =
        seenIntents.get(refund.paymentIntentId)?.paymentId ??
        (await deps.stripe.paymentIntent(refund.paymentIntentId))?.paymentId;
      const loaded = await load(paymentId);
      const currency = refund.currency || loaded?.payment.currency || "usd";
      const amount = fromStripeAmount(refund.amount, currency);
      const ours = refund.ourRefundId ?? refund.id;
      const recorded =
        loaded && (loaded.payment.refundIds.includes(ours) || loaded.payment.refundIds.includes(refund.id));
      const pending = loaded && Object.hasOwn(loaded.payment.pendingRefunds, ours);
      if (refund.status === "succeeded" && !recorded && !pending) {
        add(
          drift(loaded, {
            driftId: `missing_in_ledger:stripe:${refund.id}`,
            driftClass: "missing_in_ledger",
            provider: "stripe",
            providerObject: refund.id,
            ledger: loaded
              ? `refunded ${loaded.payment.amountRefunded} ${currency}, not this refund`
              : "no payment",
            providerSays: `refund ${refund.id} of ${amount} ${currency} succeeded`,
            amount,
            currency,
            repair: { type: "RecordGatewayRefund", refundId: ours, amount },
          }),
        );
      } else if ((refund.status === "failed" || refund.status === "canceled") && recorded) {
        add(
          drift(loaded, {
            driftId: `status_differs:stripe:${refund.id}`,
            driftClass: "status_differs",
            provider: "stripe",
            providerObject: refund.id,
            ledger: `refund ${ours} recorded as refunded`,
            providerSays: `refund ${refund.id} ${refund.status}`,
            amount,
            currency,
          }),
        );
      }
    }
    // The ledger's side: its Stripe payments of the window that Stripe's listing did not return.
    for (const paymentId of await deps.readModels.paymentsCreated({ provider: "stripe", since, until })) {
      const loaded = await load(paymentId);
      if (!loaded) continue;
      compared += 1;
      for (const d of unappliedNotices(loaded)) add(d);
      const intentId = loaded.payment.gatewayPaymentId;
      if (!intentId || seenIntents.has(intentId)) continue;
      const found = await deps.stripe.paymentIntent(intentId);
      if (!found && CAPTURED.has(loaded.payment.status))
        add(
          drift(loaded, {
            driftId: `missing_at_provider:stripe:${intentId}`,
            driftClass: "missing_at_provider",
            provider: "stripe",
            providerObject: intentId,
            ledger: `${loaded.payment.status}, ${loaded.payment.amountCaptured} ${loaded.payment.currency} captured`,
            providerSays: "no such PaymentIntent",
            amount: loaded.payment.amountCaptured,
            currency: loaded.payment.currency,
          }),
        );
    }
    return compared;
  }

  function compareIntent(loaded: Loaded, intent: StripeIntentFacts): Drift | undefined {
    const { payment } = loaded;
    const received = fromStripeAmount(intent.amountReceived, intent.currency);
    const authorized = fromStripeAmount(intent.amount, intent.currency);
    const base = { provider: "stripe" as const, providerObject: intent.id, currency: payment.currency };
    const ledger = `${payment.status}, ${payment.amountCaptured} ${payment.currency} captured`;
    const says = `${intent.status}, ${received} ${intent.currency} received`;
    if (intent.status === "succeeded" && payment.status === "initiated")
      return drift(loaded, {
        ...base,
        driftId: `missing_in_ledger:stripe:${intent.id}`,
        driftClass: "missing_in_ledger",
        ledger,
        providerSays: says,
        amount: received,
        repair: {
          type: "AuthorizePayment",
          gateway: "stripe",
          gatewayPaymentId: intent.id,
          amountAuthorized: authorized,
          captured: true,
        },
      });
    if (intent.status === "requires_capture" && payment.status === "initiated")
      return drift(loaded, {
        ...base,
        driftId: `missing_in_ledger:stripe:${intent.id}`,
        driftClass: "missing_in_ledger",
        ledger,
        providerSays: `${intent.status}, ${authorized} ${intent.currency} held`,
        amount: authorized,
        repair: {
          type: "AuthorizePayment",
          gateway: "stripe",
          gatewayPaymentId: intent.id,
          amountAuthorized: authorized,
          captured: false,
        },
      });
    if (intent.status === "succeeded" && payment.status === "authorized")
      return drift(loaded, {
        ...base,
        driftId: `status_differs:stripe:${intent.id}`,
        driftClass: "status_differs",
        ledger,
        providerSays: says,
        amount: received,
        repair: { type: "CapturePayment", amount: received },
      });
    if (intent.status === "canceled" && (payment.status === "authorized" || payment.status === "initiated"))
      return drift(loaded, {
        ...base,
        driftId: `status_differs:stripe:${intent.id}`,
        driftClass: "status_differs",
        ledger,
        providerSays: says,
        amount: 0,
        // Stripe's expiry of a hold (7 days) or a cancel made at Stripe: recorded as it is there.
        repair:
          payment.status === "authorized"
            ? { type: "CancelPayment", reason: `canceled at Stripe (PaymentIntent ${intent.id})` }
            : {
                type: "FailPayment",
                code: "gateway_canceled",
                message: `Stripe canceled PaymentIntent ${intent.id}`,
                retryable: false,
              },
      });
    if (CAPTURED.has(payment.status) && intent.status !== "succeeded")
      return drift(loaded, {
        ...base,
        driftId: `missing_at_provider:stripe:${intent.id}`,
        driftClass: "missing_at_provider",
        ledger,
        providerSays: says,
        amount: payment.amountCaptured,
      });
    if (CAPTURED.has(payment.status) && received !== payment.amountCaptured)
      return drift(loaded, {
        ...base,
        driftId: `amount_differs:stripe:${intent.id}`,
        driftClass: "amount_differs",
        ledger,
        providerSays: says,
        amount: Math.abs(received - payment.amountCaptured),
      });
    return undefined;
  }

  async function zaloPayDrift(since: Date, until: Date, add: (d: Drift | undefined) => void) {
    const ids = await deps.readModels.paymentsCreated({ provider: "zalopay", since, until });
    for (const paymentId of ids) {
      const loaded = await load(paymentId);
      if (!loaded?.payment.providerReference) continue;
      const { payment } = loaded;
      for (const d of unappliedNotices(loaded)) add(d);
      const order = await deps.zalopay().query(payment.providerReference!);
      const reference = payment.providerReference!;
      const ledger = `${payment.status}, ${payment.amountCaptured} ${payment.currency} received`;
      if (order.returnCode === 1 && order.amount !== undefined && order.zpTransId) {
        if (!payment.receivedIds.includes(order.zpTransId) && payment.status === "initiated")
          add(
            drift(loaded, {
              driftId: `missing_in_ledger:zalopay:${order.zpTransId}`,
              driftClass: "missing_in_ledger",
              provider: "zalopay",
              providerObject: reference,
              ledger,
              providerSays: `paid ${order.amount} vnd (zp_trans_id ${order.zpTransId})`,
              amount: order.amount,
              currency: payment.currency,
              repair: {
                type: "RecordReceivedPayment",
                gateway: "zalopay",
                gatewayPaymentId: order.zpTransId,
                amount: order.amount,
              },
            }),
          );
        else if (CAPTURED.has(payment.status) && order.amount !== payment.amountCaptured)
          add(
            drift(loaded, {
              driftId: `amount_differs:zalopay:${reference}`,
              driftClass: "amount_differs",
              provider: "zalopay",
              providerObject: reference,
              ledger,
              providerSays: `paid ${order.amount} vnd`,
              amount: Math.abs(order.amount - payment.amountCaptured),
              currency: payment.currency,
            }),
          );
      } else if (order.returnCode !== 1 && CAPTURED.has(payment.status)) {
        add(
          drift(loaded, {
            driftId: `missing_at_provider:zalopay:${reference}`,
            driftClass: "missing_at_provider",
            provider: "zalopay",
            providerObject: reference,
            ledger,
            providerSays: `order not paid (return_code ${order.returnCode})`,
            amount: payment.amountCaptured,
            currency: payment.currency,
          }),
        );
      }
      // Refunds asked of ZaloPay that it settled and the ledger does not show settled.
      for (const e of loaded.events) {
        if (e.type !== "PaymentRefundRequested" || !e.data.gatewayRefundId) continue;
        const done =
          payment.refundIds.includes(e.data.refundId) || payment.refundIds.includes(e.data.gatewayRefundId);
        const held = Object.hasOwn(payment.pendingRefunds, e.data.refundId);
        if (held) continue; // the reconciler's to settle, by the same query
        const status = await deps.zalopay().queryRefund(e.data.gatewayRefundId);
        if (status.returnCode === 1 && !done)
          add(
            drift(loaded, {
              driftId: `missing_in_ledger:zalopay:${e.data.gatewayRefundId}`,
              driftClass: "missing_in_ledger",
              provider: "zalopay",
              providerObject: e.data.gatewayRefundId,
              ledger: `refund ${e.data.refundId} released`,
              providerSays: `refund ${e.data.gatewayRefundId} succeeded`,
              amount: e.data.amount,
              currency: payment.currency,
              // Released here and made at ZaloPay: recorded as the fact it is, under ZaloPay's id.
              repair: {
                type: "RecordGatewayRefund",
                refundId: e.data.gatewayRefundId,
                amount: e.data.amount,
              },
            }),
          );
        else if (status.returnCode === 2 && done)
          add(
            drift(loaded, {
              driftId: `status_differs:zalopay:${e.data.gatewayRefundId}`,
              driftClass: "status_differs",
              provider: "zalopay",
              providerObject: e.data.gatewayRefundId,
              ledger: `refund ${e.data.refundId} recorded as refunded`,
              providerSays: `refund ${e.data.gatewayRefundId} failed`,
              amount: e.data.amount,
              currency: payment.currency,
            }),
          );
      }
    }
    return ids.length;
  }

  async function payOSDrift(since: Date, until: Date, add: (d: Drift | undefined) => void) {
    const ids = await deps.readModels.paymentsCreated({ provider: "payos", since, until });
    for (const paymentId of ids) {
      const loaded = await load(paymentId);
      if (!loaded?.payment.providerReference) continue;
      const { payment } = loaded;
      for (const d of unappliedNotices(loaded)) add(d);
      const link = await deps.payos().get(Number(payment.providerReference));
      const ledger = `${payment.status}, ${payment.amountCaptured} ${payment.currency} received`;
      const missing = link.transactions.filter((t) => !payment.receivedIds.includes(t.reference));
      for (const t of missing) {
        // Paid after the payment ended: a notice that cannot apply, for a person.
        const ended = ["failed", "canceled", "rejected"].includes(payment.status);
        add(
          drift(loaded, {
            driftId: `${ended ? "unapplied_notice" : "missing_in_ledger"}:payos:${t.reference}`,
            driftClass: ended ? "unapplied_notice" : "missing_in_ledger",
            provider: "payos",
            providerObject: `${link.id}:${t.reference}`,
            ledger,
            providerSays: `transaction ${t.reference} of ${t.amount} vnd`,
            amount: t.amount,
            currency: payment.currency,
            repair: ended
              ? undefined
              : {
                  type: "RecordReceivedPayment",
                  gateway: "payos",
                  gatewayPaymentId: t.reference,
                  amount: t.amount,
                },
          }),
        );
      }
      if (missing.length > 0) continue;
      if ((link.status === "CANCELLED" || link.status === "EXPIRED") && payment.status === "initiated")
        add(
          drift(loaded, {
            driftId: `status_differs:payos:${link.id}`,
            driftClass: "status_differs",
            provider: "payos",
            providerObject: link.id,
            ledger,
            providerSays: `link ${link.status}`,
            amount: 0,
            currency: payment.currency,
            repair: {
              type: "CancelPayment",
              reason: `PayOS link ${link.id} is ${link.status.toLowerCase()}`,
            },
          }),
        );
      else if (CAPTURED.has(payment.status) && link.amountPaid < payment.amountCaptured)
        add(
          drift(loaded, {
            driftId: `${link.amountPaid === 0 ? "missing_at_provider" : "amount_differs"}:payos:${link.id}`,
            driftClass: link.amountPaid === 0 ? "missing_at_provider" : "amount_differs",
            provider: "payos",
            providerObject: link.id,
            ledger,
            providerSays: `${link.status}, ${link.amountPaid} vnd paid`,
            amount: payment.amountCaptured - link.amountPaid,
            currency: payment.currency,
          }),
        );
    }
    return ids.length;
  }

  return {
    /** Lists the drift of the window, provider by provider; a provider that does not answer is reported. */
    async find(input: {
      since: Date;
      until: Date;
      providers: readonly Provider[];
      onProgress?: (provider: Provider, done: boolean) => void;
    }): Promise<DriftReport> {
      const drifts = new Map<string, Drift>();
      const add = (d: Drift | undefined) => {
        if (d && !drifts.has(d.driftId)) drifts.set(d.driftId, d);
      };
      const providerErrors: string[] = [];
      let compared = 0;
      for (const provider of input.providers) {
        input.onProgress?.(provider, false);
        try {
          if (provider === "stripe") compared += await stripeDrift(input.since, input.until, add);
          if (provider === "zalopay") compared += await zaloPayDrift(input.since, input.until, add);
          if (provider === "payos") compared += await payOSDrift(input.since, input.until, add);
        } catch (error) {
          providerErrors.push(`${provider}: ${(error as Error).message.slice(0, 300)}`);
        }
        input.onProgress?.(provider, true);
      }
      const totals: Record<string, { amount: number; byClass: Partial<Record<DriftClass, number>> }> = {};
      for (const d of drifts.values()) {
        totals[d.currency] ??= { amount: 0, byClass: {} };
        const t = totals[d.currency]!;
        t.amount += d.amount;
        t.byClass[d.driftClass] = (t.byClass[d.driftClass] ?? 0) + d.amount;
      }
      return {
        window: { since: input.since.toISOString(), until: input.until.toISOString() },
        providers: input.providers,
        compared,
        drifts: [...drifts.values()],
        totals,
        providerErrors,
      };
    },

    /**
     * Appends each drift's repair through the decider, `metadata.repair: {by, reason, driftId}`:
     * nothing is deleted or edited. A drift already handed to a person, or one another run repaired
     * first, is nothing to do.
     */
    async repair(drift: Drift, by: string, runId: string): Promise<RepairResult> {
      if (!drift.paymentId || !drift.repair)
        return {
          driftId: drift.driftId,
          outcome: "failed",
          events: [],
          reason: "no payment of ours to append to",
        };
      if (drift.awaitingPerson) return { driftId: drift.driftId, outcome: "nothing_to_do", events: [] };
      const reason =
        drift.repair.type === "RecordDrift"
          ? `${drift.driftClass}: a person must decide`
          : `${drift.driftClass}: ${drift.provider} has ${drift.providerSays}`.slice(0, 1000);
      const metadata: EventMetadata = {
        correlationId: `reconcile:${runId}`,
        causationId: drift.driftId.slice(0, 255),
        source: "reconcile",
        repair: { by, reason, driftId: drift.driftId.slice(0, 255) },
      };
      try {
        const result = await deps.handle({ paymentId: drift.paymentId, metadata, command: drift.repair });
        const events = result.appended.map((e) => e.type);
        return {
          driftId: drift.driftId,
          outcome:
            events.length === 0
              ? "nothing_to_do"
              : drift.repair.type === "RecordDrift"
                ? "flagged"
                : "repaired",
          events,
        };
      } catch (error) {
        if (error instanceof LifecycleRuleError)
          return {
            driftId: drift.driftId,
            outcome: "failed",
            events: [],
            reason: `${error.rule}: ${error.message}`,
          };
        throw error;
      }
    },
  };
}

export type DriftFinder = ReturnType<typeof createDriftFinder>;
