import { type PayOSClient, PayOSRequestError } from "@payments/adapters/payos";
import { mRefundId, type ZaloPayClient } from "@payments/adapters/zalopay";
import {
  type CommandHandler,
  decidePayment,
  type EventStore,
  foldPayment,
  foldPaymentView,
  GatewayDeclinedError,
  GatewayRequestError,
  InvalidAmountError,
  isPayment,
  isPendingRefund,
  type Payment,
  type PaymentCommand,
  type PaymentGateway,
  PaymentNotFoundError,
  type PaymentView,
  UniquenessConflictError,
} from "@payments/core";
import type { BillingAddress, CaptureMethod, EventMetadata } from "@payments/events";
import type { ChargeRequest, OrderOutcome } from "../process-payment/process-order";

/** An order that already has a payment for another amount or currency: nothing is charged (409). */
export class OrderConflictError extends Error {
  override readonly name = "OrderConflictError";
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** The gateway refused a capture, refund or cancel that our rules allowed (409, with its reason). */
export class GatewayRefusedError extends Error {
  override readonly name = "GatewayRefusedError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CreatePaymentInput {
  readonly orderId: string;
  readonly customerId?: string;
  readonly amount: number;
  readonly currency: string;
  readonly captureMethod: CaptureMethod;
  readonly billingAddress?: BillingAddress;
  readonly metadata?: Readonly<Record<string, string>>;
  /** A card payment through Stripe… */
  readonly paymentMethodId?: string;
  /** …or one that ZaloPay or PayOS collects, which waits for the provider's webhook. */
  readonly provider?: "zalopay" | "payos";
  readonly providerReference?: string;
}

export interface PaymentServiceDeps {
  readonly store: EventStore;
  readonly handle: CommandHandler;
  readonly gateway: PaymentGateway;
  /** initiate → screen → charge, as the order queue does it (process-order.ts). */
  readonly charge: (request: ChargeRequest, causationId: string) => Promise<OrderOutcome>;
  readonly newPaymentId: () => string;
  /** ZaloPay's API and our app id there: refunds of ZaloPay payments (SPEC §4.5). */
  readonly zalopay: () => { readonly client: ZaloPayClient; readonly appId: number };
  /** PayOS's API: a link is canceled there before the payment is (SPEC §4.5). */
  readonly payos: () => PayOSClient;
  /** How long to wait between ZaloPay's refund answers; tests shorten it. */
  readonly zaloPayRefundPollsMs?: readonly number[];
  readonly now?: () => Date;
}

/** ZaloPay settles a refund asynchronously: asked again after these pauses, then left to the reconciler. */
const ZALOPAY_REFUND_POLLS_MS = [250, 500, 1000];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Who asked and why: becomes the events' metadata. */
export interface RequestContext {
  readonly correlationId: string;
  readonly causationId: string;
  readonly source: "api" | "step-functions" | "console";
  /** The W3C trace the request belongs to (SPEC §5), kept in each event's metadata. */
  readonly traceparent?: string;
  /** A person's repair from the console (SPEC §6.1): who, why, and what it settles. */
  readonly repair?: EventMetadata["repair"];
}

/**
 * The payment commands of the REST API and the Step Functions tasks (SPEC §4.2, §4.4): each checks
 * the lifecycle's rules on the stream before the gateway is asked, calls the gateway with an
 * idempotency key of the payment and step, and appends what the gateway did. A refund's amount is
 * held back (PaymentRefundRequested) before Stripe is asked, so concurrent refunds can never return
 * more than was captured.
 */
export function createPaymentService(deps: PaymentServiceDeps) {
  const metadataOf = (ctx: RequestContext): EventMetadata => ({
    correlationId: ctx.correlationId,
    causationId: ctx.causationId,
    source: ctx.source,
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    ...(ctx.repair ? { repair: ctx.repair } : {}),
  });

  async function load(paymentId: string) {
    const events = await deps.store.load(paymentId);
    const { state, version } = foldPayment(events);
    if (!isPayment(state)) throw new PaymentNotFoundError(paymentId);
    return { events, state, version };
  }

  async function view(paymentId: string): Promise<PaymentView> {
    const found = foldPaymentView(await deps.store.load(paymentId));
    if (!found) throw new PaymentNotFoundError(paymentId);
    return found;
  }

  /** Judges a command on the stream as it is, without appending: the gateway is asked only if it passes. */
  function check(command: PaymentCommand, paymentId: string, state: Payment) {
    decidePayment(command, state, { paymentId });
  }

  async function existingForOrder(orderId: string, input: CreatePaymentInput) {
    const paymentId = await deps.store.findOwner({ kind: "orderId", value: orderId });
    if (!paymentId) return undefined;
    const found = await view(paymentId);
    if (found.amount !== input.amount || found.currency !== input.currency) {
      throw new OrderConflictError(
        orderId,
        paymentId,
        `order ${orderId} already has payment ${paymentId} for ${found.amount} ${found.currency}, not ${input.amount} ${input.currency}`,
      );
    }
    return found;
  }

  /**
   * A refund at ZaloPay, which answers "processing" and settles later (SPEC §4.5): asked once (or,
   * for a retry of a refund already asked, only queried), then queried a few times; a success
   * completes the hold, a failure releases it, and one still processing keeps it for the reconciler.
   */
  async function refundAtZaloPay(
    paymentId: string,
    state: Payment,
    input: { refundId: string; reason?: string },
    alreadyAsked: boolean,
    metadata: EventMetadata,
  ): Promise<PaymentView> {
    const { client } = deps.zalopay();
    const asked = (await deps.store.load(paymentId)).find(
      (e) => e.type === "PaymentRefundRequested" && e.data.refundId === input.refundId,
    );
    const id = asked?.type === "PaymentRefundRequested" ? asked.data.gatewayRefundId : undefined;
    const amount = state.pendingRefunds[input.refundId]!;
    if (!id || !state.gatewayPaymentId)
      throw new GatewayRefusedError(
        "zalopay_no_transaction",
        "this ZaloPay payment has no transaction to refund",
      );
    let status = alreadyAsked
      ? await client.queryRefund(id)
      : await client.refund({
          mRefundId: id,
          zpTransId: state.gatewayPaymentId,
          amount,
          description: (input.reason || `refund ${input.refundId}`).slice(0, 100),
        });
    for (const pause of deps.zaloPayRefundPollsMs ?? ZALOPAY_REFUND_POLLS_MS) {
      if (status.returnCode !== 3) break;
      await sleep(pause);
      status = await client.queryRefund(id);
    }
    if (status.returnCode === 1) {
      await deps.handle({
        paymentId,
        metadata,
        command: { type: "RecordGatewayRefund", refundId: input.refundId, amount, reason: input.reason },
      });
    } else if (status.returnCode !== 3) {
      const code = `zalopay_${status.subReturnCode ?? status.returnCode}`;
      await deps.handle({
        paymentId,
        metadata,
        command: {
          type: "FailRefund",
          refundId: input.refundId,
          code,
          message: status.returnMessage || "ZaloPay refused the refund",
        },
      });
      throw new GatewayRefusedError(code, `ZaloPay refused the refund: ${status.returnMessage}`);
    }
    return view(paymentId);
  }

  return {
    view,

    /**
     * Creates a payment, or returns the order's existing one (`created: false`) when amount and
     * currency match. A card payment is screened and sent to Stripe; a ZaloPay or PayOS payment
     * waits in `initiated` for the provider's webhook.
     * @throws OrderConflictError; InvalidCommandError; GatewayUnavailableError (retry later)
     */
    async create(
      input: CreatePaymentInput,
      ctx: RequestContext,
    ): Promise<{ view: PaymentView; created: boolean }> {
      const existing = await existingForOrder(input.orderId, input);
      // A card payment an earlier attempt left initiated (a 503 after its intent was created) is
      // continued from its last recorded step by the charge below, never started again.
      const unfinished = existing?.status === "initiated" && existing.provider === "stripe";
      if (existing && !unfinished) return { view: existing, created: false };

      if (input.provider) {
        const paymentId = deps.newPaymentId();
        try {
          await deps.handle({
            paymentId,
            metadata: metadataOf(ctx),
            command: {
              type: "InitiatePayment",
              orderId: input.orderId,
              customerId: input.customerId,
              amount: input.amount,
              currency: input.currency,
              paymentMethod: { type: input.provider },
              captureMethod: "automatic",
              source: "api",
              provider: input.provider,
              providerReference: input.providerReference,
              billingAddress: input.billingAddress,
              metadata: input.metadata,
            },
            unique: () => [
              { kind: "orderId", value: input.orderId },
              { kind: "providerReference", value: `${input.provider}:${input.providerReference}` },
            ],
          });
        } catch (error) {
          // Lost a race for the order: the winner's payment is the answer, as above.
          if (error instanceof UniquenessConflictError && error.kind === "orderId") {
            const winner = await existingForOrder(input.orderId, input);
            if (winner) return { view: winner, created: false };
          }
          throw error;
        }
        return { view: await view(paymentId), created: true };
      }

      const outcome = await deps.charge(
        {
          orderId: input.orderId,
          customerId: input.customerId,
          amount: input.amount,
          currency: input.currency,
          paymentMethod: { type: "card", token: input.paymentMethodId },
          billingAddress: input.billingAddress,
          captureMethod: input.captureMethod,
          source: "api",
          correlationId: ctx.correlationId,
          traceparent: ctx.traceparent,
          metadata: input.metadata,
        },
        ctx.causationId,
      );
      if (outcome.kind === "order_conflict") {
        throw new OrderConflictError(input.orderId, outcome.paymentId, outcome.reason);
      }
      return { view: await view(outcome.paymentId), created: !existing && outcome.kind !== "already_done" };
    },

    /**
     * Collects a pre-authorized hold, in full or in part; the rest of the hold is released.
     * @throws PaymentNotFoundError; LifecycleRuleError; GatewayRefusedError; GatewayUnavailableError
     */
    async capture(paymentId: string, amount: number | undefined, ctx: RequestContext): Promise<PaymentView> {
      const { state } = await load(paymentId);
      const command: PaymentCommand = { type: "CapturePayment", amount };
      check(command, paymentId, state);
      const toCapture = amount ?? state.amountAuthorized;
      if (state.gatewayPaymentId && state.provider === "stripe") {
        try {
          await deps.gateway.capture({
            gatewayPaymentId: state.gatewayPaymentId,
            amount: toCapture,
            currency: state.currency,
            // One capture per payment: a retried request is answered from Stripe's cache.
            idempotencyKey: `${paymentId}:capture`,
          });
        } catch (error) {
          throw refused(error);
        }
      }
      await deps.handle({
        paymentId,
        metadata: metadataOf(ctx),
        command: { type: "CapturePayment", amount: toCapture },
      });
      return view(paymentId);
    },

    /**
     * Returns captured money, in full or in part. The amount is held back first; Stripe is asked with
     * a key of the payment and refund; its answer completes or releases the hold.
     * @throws PaymentNotFoundError; LifecycleRuleError (409); GatewayRefusedError; GatewayUnavailableError
     *   (the hold stays, and the same refund id continues it)
     */
    async refund(
      paymentId: string,
      input: { amount?: number; reason?: string; refundId: string; manual?: boolean; reference?: string },
      ctx: RequestContext,
    ): Promise<PaymentView> {
      const metadata = metadataOf(ctx);
      if (input.manual) {
        // Money an operator returned outside the gateway (any provider; PayOS's only refund).
        await deps.handle({
          paymentId,
          metadata,
          command: {
            type: "RefundPayment",
            refundId: input.refundId,
            amount: input.amount,
            reason: input.reason,
            method: "manual",
            reference: input.reference,
          },
        });
        return view(paymentId);
      }
      const before = await load(paymentId);
      const zalo = before.state.provider === "zalopay" ? deps.zalopay() : undefined;
      const requested = await deps.handle({
        paymentId,
        metadata,
        command: {
          type: "RequestRefund",
          refundId: input.refundId,
          amount: input.amount,
          reason: input.reason,
          gatewayRefundId: zalo
            ? mRefundId((deps.now ?? (() => new Date()))(), zalo.appId, input.refundId)
            : undefined,
        },
      });
      const state = requested.state;
      if (!isPayment(state)) throw new PaymentNotFoundError(paymentId);
      if (state.refundIds.includes(input.refundId)) return view(paymentId);
      if (zalo && isPendingRefund(state, input.refundId))
        return refundAtZaloPay(paymentId, state, input, requested.appended.length === 0, metadata);
      if (!isPendingRefund(state, input.refundId)) return view(paymentId);
      const amount = state.pendingRefunds[input.refundId]!;
      if (state.gatewayPaymentId && state.provider === "stripe") {
        try {
          await deps.gateway.refund({
            gatewayPaymentId: state.gatewayPaymentId,
            refundId: input.refundId,
            amount,
            currency: state.currency,
            reason: input.reason,
            idempotencyKey: `${paymentId}:refund:${input.refundId}`,
          });
        } catch (error) {
          const reason = refused(error);
          // Refused by Stripe, or an amount Stripe cannot represent (9.995 KWD): nothing moved, so the
          // hold is released before the error is answered. An outage keeps it: Stripe may have made
          // the refund, and the same refund id continues it (or the reconciler settles it).
          const release =
            reason instanceof GatewayRefusedError
              ? { code: reason.code, message: reason.message }
              : reason instanceof InvalidAmountError
                ? { code: "amount_not_representable", message: reason.message }
                : undefined;
          if (release) {
            await deps.handle({
              paymentId,
              metadata,
              command: { type: "FailRefund", refundId: input.refundId, ...release },
            });
          }
          throw reason;
        }
      }
      // What Stripe did is a fact: it completes our hold, or, if a refund made at Stripe meanwhile
      // released the hold, it is recorded as long as it fits what was captured.
      await deps.handle({
        paymentId,
        metadata,
        command: { type: "RecordGatewayRefund", refundId: input.refundId, amount, reason: input.reason },
      });
      return view(paymentId);
    },

    /**
     * Releases a hold that was never captured.
     * @throws PaymentNotFoundError; LifecycleRuleError (cancel after capture: 409); GatewayRefusedError
     */
    async cancel(paymentId: string, reason: string, ctx: RequestContext): Promise<PaymentView> {
      const { state } = await load(paymentId);
      const command: PaymentCommand = { type: "CancelPayment", reason };
      check(command, paymentId, state);
      if (state.provider === "payos" && state.status === "initiated") {
        // The link is canceled at PayOS first, so no one can pay it after the payment is canceled.
        const orderCode = Number(state.providerReference);
        try {
          await deps.payos().cancel(orderCode, reason || "canceled");
        } catch (error) {
          if (error instanceof PayOSRequestError)
            throw new GatewayRefusedError(`payos_${error.code}`, error.message);
          throw error;
        }
      }
      if (state.gatewayPaymentId && state.provider === "stripe") {
        try {
          await deps.gateway.cancel({
            gatewayPaymentId: state.gatewayPaymentId,
            idempotencyKey: `${paymentId}:cancel`,
          });
        } catch (error) {
          throw refused(error);
        }
      }
      await deps.handle({ paymentId, metadata: metadataOf(ctx), command });
      return view(paymentId);
    },
  };
}

/** A gateway's refusal as a 409 with its reason; anything else (an outage) as it is. */
function refused(error: unknown): Error {
  if (error instanceof GatewayRequestError || error instanceof GatewayDeclinedError) {
    return new GatewayRefusedError(error.code, error.message);
  }
  return error as Error;
}

export type PaymentService = ReturnType<typeof createPaymentService>;
