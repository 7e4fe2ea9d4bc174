import {
  type CommandHandler,
  type CustomerActivityPort,
  type EventStore,
  type FraudThresholds,
  foldPayment,
  GatewayDeclinedError,
  type GatewayPayment,
  GatewayRequestError,
  GatewayUnavailableError,
  type HandleCommandResult,
  InvalidAmountError,
  initialPaymentState,
  isPayment,
  LifecycleRuleError,
  noActivity,
  type Payment,
  type PaymentCommand,
  type PaymentGateway,
  UniquenessConflictError,
} from "@payments/core";
import type { CaptureMethod, CommandSource, EventMetadata } from "@payments/events";
import type { PaymentRequest } from "./order-message";

/**
 * A request to charge a card, from the order queue or the REST API: the queue's formats read into
 * one shape, plus what only the API sets (a pre-authorization, the caller's correlation id).
 */
export interface ChargeRequest extends Omit<PaymentRequest, "format"> {
  /** `manual` holds the funds for a later capture (a pre-authorization). Default `automatic`. */
  readonly captureMethod?: CaptureMethod;
  readonly source?: CommandSource;
  readonly correlationId?: string;
  /** The W3C trace of the request (SPEC §5): the API's, or the order message's attribute, continued. */
  readonly traceparent?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface ProcessOrderDeps {
  readonly store: EventStore;
  readonly handle: CommandHandler;
  readonly gateway: PaymentGateway;
  readonly activity: CustomerActivityPort;
  readonly fraudThresholds: FraudThresholds;
  readonly newPaymentId: () => string;
  readonly now: () => Date;
  /**
   * A customer's saved default payment method at the gateway (format B without a card token, SPEC
   * §4.1); without it, such a message fails `payment_method_required`.
   */
  readonly savedMethods?: {
    defaultFor(
      customerId: string,
    ): Promise<{ gatewayCustomerId: string; paymentMethodId: string } | undefined>;
  };
}

/** What became of one request; transient failures are thrown instead, so that SQS retries them. */
export type OrderOutcome =
  | {
      readonly kind: "captured" | "authorized";
      readonly paymentId: string;
      readonly amount: number;
      readonly currency: string;
    }
  | { readonly kind: "failed"; readonly paymentId: string; readonly code: string }
  | { readonly kind: "rejected"; readonly paymentId: string; readonly score: number }
  /** Redelivered, or another message for the same order: the payment already went as far as it goes here. */
  | { readonly kind: "already_done"; readonly paymentId: string; readonly status: string }
  /** The order already has a payment for another amount or currency: nothing is charged. */
  | { readonly kind: "order_conflict"; readonly paymentId: string; readonly reason: string };

type Step = (command: PaymentCommand) => Promise<HandleCommandResult>;

/** The longest failure message a PaymentFailed event keeps. */
const MAX_FAILURE_MESSAGE = 1000;

/** Idempotency keys of gateway calls: derived from the payment and the step (SPEC §2). */
export const gatewayKey = (paymentId: string, step: "create" | "confirm") => `${paymentId}:${step}`;

/**
 * Takes one order request through the lifecycle: initiate → screen → gateway → append. Each step
 * is appended before the next one starts, so a retry resumes where the last attempt stopped: a
 * recorded PaymentIntent is continued, never created again (SPEC §2).
 */
export function createOrderProcessor(deps: ProcessOrderDeps) {
  async function initiate(request: ChargeRequest, metadata: EventMetadata) {
    const paymentId = request.paymentId ?? deps.newPaymentId();
    try {
      const initiated = await deps.handle({
        paymentId,
        metadata,
        // An id made just now has no stream to read; if it had one, the append would lose and read it.
        ...(request.paymentId === undefined ? { known: { state: initialPaymentState, version: 0 } } : {}),
        command: {
          type: "InitiatePayment",
          orderId: request.orderId,
          customerId: request.customerId,
          amount: request.amount,
          currency: request.currency,
          paymentMethod: request.paymentMethod,
          captureMethod: request.captureMethod ?? "automatic",
          source: request.source ?? "queue",
          provider: "stripe",
          billingAddress: request.billingAddress,
          metadata: request.metadata,
        },
        unique: () => [{ kind: "orderId", value: request.orderId }],
        // Counted for velocity in the same write: a payment initiated is a payment counted, once.
        ...(request.customerId ? { countPayment: { customerId: request.customerId } } : {}),
      });
      return {
        paymentId,
        known: { state: initiated.state, version: initiated.version },
        initiatedAt: initiated.appended[0]!.occurredAt,
      };
    } catch (error) {
      // One payment per order: a second message for the order continues the first payment.
      if (error instanceof UniquenessConflictError && error.ownerPaymentId) {
        return { paymentId: error.ownerPaymentId, known: undefined, initiatedAt: undefined };
      }
      if (error instanceof LifecycleRuleError && error.rule === "payment_already_exists") {
        return { paymentId, known: undefined, initiatedAt: undefined };
      }
      throw error;
    }
  }

  const fail = async (step: Step, paymentId: string, code: string, message: string) => {
    // A gateway's message is recorded as it came, up to the length the event keeps.
    await step({
      type: "FailPayment",
      code,
      message: message.slice(0, MAX_FAILURE_MESSAGE),
      retryable: false,
    });
    return { kind: "failed", paymentId, code } as const;
  };

  async function charge(
    step: Step,
    payment: Payment,
    paymentId: string,
    saved?: { gatewayCustomerId: string; paymentMethodId: string },
  ): Promise<OrderOutcome> {
    // A card token from the message, or the customer's saved default method, charged off session.
    const token = saved?.paymentMethodId ?? payment.paymentMethod.token!;
    // Held for a person when screening says review, or when the caller asked for a pre-authorization.
    const captureMethod =
      payment.fraud?.decision === "review" || payment.captureMethod === "manual" ? "manual" : "automatic";
    let intent: GatewayPayment | undefined;
    try {
      if (payment.gatewayPaymentId) {
        intent = await deps.gateway.retrieve(payment.gatewayPaymentId);
      } else {
        intent = await deps.gateway.create({
          paymentId,
          orderId: payment.orderId,
          amount: payment.amount,
          currency: payment.currency,
          paymentMethodToken: token,
          captureMethod,
          idempotencyKey: gatewayKey(paymentId, "create"),
          ...(saved ? { customer: saved.gatewayCustomerId } : {}),
        });
        // Recorded before confirming: a retry, even after the gateway's idempotency window, continues this intent.
        await step({
          type: "RecordPaymentIntent",
          gateway: deps.gateway.name,
          gatewayPaymentId: intent.gatewayPaymentId,
        });
      }
      if (intent.status === "requires_confirmation") {
        intent = await deps.gateway.confirm({
          gatewayPaymentId: intent.gatewayPaymentId,
          paymentMethodToken: token,
          idempotencyKey: gatewayKey(paymentId, "confirm"),
          ...(saved ? { offSession: true } : {}),
        });
      }
    } catch (error) {
      if (error instanceof GatewayDeclinedError) {
        // Counted before the failure is appended: the count is idempotent, so a retry after a crash
        // between the two counts it once, and a decline is never left uncounted.
        if (payment.customerId) await deps.activity.recordDecline(payment.customerId, paymentId, deps.now());
        // A decline that needs the customer (off session, nobody can authenticate): the intent is
        // canceled at the gateway, not left open waiting for an authentication that never comes.
        if (error.code === "authentication_required" && intent)
          await deps.gateway.cancel({
            gatewayPaymentId: intent.gatewayPaymentId,
            idempotencyKey: `${paymentId}:cancel`,
          });
        return fail(step, paymentId, error.code, error.message);
      }
      if (error instanceof InvalidAmountError) {
        // The gateway cannot represent the amount (parsing refuses these first; this is the backstop).
        return fail(step, paymentId, "amount_not_supported", error.message);
      }
      if (!(error instanceof GatewayRequestError)) throw error;
      // Not a clean decline: another delivery may already have confirmed this intent (Stripe then
      // answers payment_intent_unexpected_state). What the gateway holds is the truth; record that.
      const current = intent && (await deps.gateway.retrieve(intent.gatewayPaymentId));
      if (!current || current.status === "requires_confirmation")
        return fail(step, paymentId, error.code, error.message);
      intent = current;
    }

    switch (intent.status) {
      case "succeeded":
      case "requires_capture": {
        const captured = intent.status === "succeeded";
        await step({
          type: "AuthorizePayment",
          gateway: deps.gateway.name,
          gatewayPaymentId: intent.gatewayPaymentId,
          amountAuthorized: intent.amount,
          authorizationCode: intent.authorizationCode,
          captured,
        });
        return {
          kind: captured ? "captured" : "authorized",
          paymentId,
          amount: intent.amount,
          currency: payment.currency,
        };
      }
      case "requires_action":
        // Nobody is there to authenticate a queued payment: cancel the intent rather than leave it open.
        await deps.gateway.cancel({
          gatewayPaymentId: intent.gatewayPaymentId,
          idempotencyKey: `${paymentId}:cancel`,
        });
        return fail(
          step,
          paymentId,
          "authentication_required",
          "the card needs the customer to authenticate",
        );
      case "canceled":
        return fail(step, paymentId, "gateway_canceled", "the gateway canceled the payment");
      case "processing":
      case "requires_confirmation":
        throw new GatewayUnavailableError(
          `gateway payment ${intent.gatewayPaymentId} is still ${intent.status}`,
        );
      default: {
        const unreachable: never = intent.status;
        return unreachable;
      }
    }
  }

  return async function processOrder(request: ChargeRequest, causationId: string): Promise<OrderOutcome> {
    const metadata: EventMetadata = {
      correlationId: request.correlationId ?? request.orderId,
      causationId,
      source: request.source ?? "queue",
      ...(request.traceparent ? { traceparent: request.traceparent } : {}),
    };
    const initiated = await initiate(request, metadata);
    const { paymentId } = initiated;
    let initiatedAt = initiated.initiatedAt;
    let known = initiated.known;
    if (!known) {
      const events = await deps.store.load(paymentId);
      known = foldPayment(events);
      initiatedAt = events[0]?.occurredAt;
    }
    const { state } = known;
    /** Runs the next command on the state this message already holds, and keeps the result. */
    const step: Step = async (command) => {
      const result = await deps.handle({ paymentId, metadata, command, known });
      known = { state: result.state, version: result.version };
      return result;
    };
    if (!isPayment(state)) throw new Error(`payment ${paymentId} has no events after its initiation`);
    if (
      state.amount !== request.amount ||
      state.currency !== request.currency ||
      state.orderId !== request.orderId
    ) {
      return {
        kind: "order_conflict",
        paymentId,
        reason: `payment ${paymentId} of order ${state.orderId} is for ${state.amount} ${state.currency}, not ${request.amount} ${request.currency} of order ${request.orderId}`,
      };
    }
    if (state.status !== "initiated") return { kind: "already_done", paymentId, status: state.status };
    // Without a card token (every CloudCafe message), the customer's saved default method is charged.
    const saved =
      !state.paymentMethod.token && state.customerId && deps.savedMethods
        ? await deps.savedMethods.defaultFor(state.customerId)
        : undefined;
    if (!state.paymentMethod.token && !saved) {
      return fail(
        step,
        paymentId,
        "payment_method_required",
        state.customerId
          ? `the message has no payment_method_id, and customer ${state.customerId} has no saved default payment method`
          : "the message has no payment_method_id to charge",
      );
    }

    let payment = state;
    if (!payment.fraud) {
      // The payment was counted in the write that initiated it, by this attempt or (its order-id
      // claim says so) an earlier one: the activity before it is read. One initiated without its
      // count (before counts moved into the initiation) is counted now, once (its marker).
      const at = initiatedAt ? new Date(initiatedAt) : deps.now();
      const countedAtInitiation = async () => {
        const claim = await deps.store.findClaim({ kind: "orderId", value: payment.orderId });
        return claim?.paymentId === paymentId && claim.countedFor !== undefined;
      };
      const activity = !payment.customerId
        ? noActivity
        : initiated.known || (await countedAtInitiation())
          ? await deps.activity.before(payment.customerId, paymentId, at)
          : await deps.activity.recordPayment(payment.customerId, paymentId, at);
      const screened = await step({ type: "ScreenPayment", activity, thresholds: deps.fraudThresholds });
      if (!isPayment(screened.state)) throw new Error(`payment ${paymentId} vanished while screening`);
      payment = screened.state;
      if (payment.status === "rejected") return { kind: "rejected", paymentId, score: payment.fraud!.score };
    }
    return charge(step, payment, paymentId, saved);
  };
}
