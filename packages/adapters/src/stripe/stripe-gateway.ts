import {
  type CreateGatewayPayment,
  GatewayDeclinedError,
  type GatewayPayment,
  type GatewayPaymentStatus,
  GatewayRequestError,
  GatewayUnavailableError,
  type PaymentGateway,
} from "@payments/core";
import Stripe from "stripe";
import { fromStripeAmount, toStripeAmount } from "./stripe-amounts";

export interface StripeGatewayOptions {
  /** Read once per container by the caller (secret manager, SST secret) and never logged. */
  readonly secretKey: string;
  /** Another API endpoint, such as the local proxy in front of stripe-mock; Stripe's own when empty. */
  readonly apiUrl?: string;
  readonly timeoutMs?: number;
}

const STATUS: Record<Stripe.PaymentIntent.Status, GatewayPaymentStatus> = {
  requires_payment_method: "requires_confirmation",
  requires_confirmation: "requires_confirmation",
  requires_action: "requires_action",
  processing: "processing",
  requires_capture: "requires_capture",
  canceled: "canceled",
  succeeded: "succeeded",
};

function toGatewayPayment(intent: Stripe.PaymentIntent): GatewayPayment {
  const charge = typeof intent.latest_charge === "object" ? intent.latest_charge : undefined;
  return {
    gatewayPaymentId: intent.id,
    // A status this code does not know yet is treated as still in progress: looked at again later.
    status: STATUS[intent.status] ?? "processing",
    amount: fromStripeAmount(intent.amount, intent.currency),
    amountCaptured: fromStripeAmount(intent.amount_received ?? 0, intent.currency),
    authorizationCode: charge?.authorization_code ?? undefined,
  };
}

/**
 * Maps Stripe's errors onto the port's: card errors are declines (recorded, not retried);
 * 5xx, timeouts, connection errors, 429 and our own authentication faults are unavailability (the
 * queue retries); the rest are request errors that a retry cannot fix.
 */
export function mapStripeError(error: unknown): Error {
  if (!(error instanceof Stripe.errors.StripeError)) return error as Error;
  if (error instanceof Stripe.errors.StripeCardError) {
    return new GatewayDeclinedError(error.code ?? "card_declined", error.message, error.decline_code);
  }
  if (
    // Our key is wrong or lacks a permission: a configuration fault, not the customer's. Retried, so
    // the messages wait (then in the DLQ) until the key is fixed, instead of failing payments.
    error instanceof Stripe.errors.StripeAuthenticationError ||
    error instanceof Stripe.errors.StripePermissionError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeAPIError ||
    (error.statusCode !== undefined && (error.statusCode >= 500 || error.statusCode === 429)) ||
    // The same idempotency key is still being processed by Stripe: ask again later.
    error.code === "idempotency_key_in_use"
  ) {
    return new GatewayUnavailableError(`Stripe is unavailable: ${error.message}`, error.statusCode);
  }
  return new GatewayRequestError(error.code ?? error.type, `Stripe refused the request: ${error.message}`);
}

/** A stripe-node client with its own retries off (the callers retry), pointed at `apiUrl` when given. */
export function stripeClient(options: StripeGatewayOptions): Stripe {
  const url = options.apiUrl ? new URL(options.apiUrl) : undefined;
  return new Stripe(options.secretKey, {
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? 10_000,
    ...(url
      ? {
          host: url.hostname,
          port: Number(url.port || 80),
          protocol: url.protocol.replace(":", "") as "http" | "https",
        }
      : {}),
  });
}

export async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw mapStripeError(error);
  }
}

/**
 * The payment gateway on Stripe PaymentIntents, with `metadata.paymentId` on every intent (the
 * webhooks find payments by it). stripe-node's own retries are off: SQS retries the record, with
 * the same idempotency keys.
 *
 * @example
 * const gateway = createStripeGateway({ secretKey: Resource.StripeSecretKey.value });
 * const intent = await gateway.create({ paymentId, orderId, amount: 2599, currency: "usd", ... });
 */
export function createStripeGateway(options: StripeGatewayOptions): PaymentGateway {
  const stripe = stripeClient(options);

  return {
    name: "stripe",
    create: (input: CreateGatewayPayment) =>
      call(async () =>
        toGatewayPayment(
          await stripe.paymentIntents.create(
            {
              amount: toStripeAmount(input.amount, input.currency),
              currency: input.currency,
              payment_method: input.paymentMethodToken,
              capture_method: input.captureMethod === "manual" ? "manual" : "automatic",
              // A queued payment has nobody to send through a redirect.
              automatic_payment_methods: { enabled: true, allow_redirects: "never" },
              metadata: { paymentId: input.paymentId, orderId: input.orderId },
              ...(input.customer ? { customer: input.customer } : {}),
            },
            { idempotencyKey: input.idempotencyKey },
          ),
        ),
      ),
    confirm: (input) =>
      call(async () =>
        toGatewayPayment(
          await stripe.paymentIntents.confirm(
            input.gatewayPaymentId,
            {
              payment_method: input.paymentMethodToken,
              expand: ["latest_charge"],
              ...(input.offSession ? { off_session: true } : {}),
            },
            { idempotencyKey: input.idempotencyKey },
          ),
        ),
      ),
    retrieve: (gatewayPaymentId) =>
      call(async () =>
        toGatewayPayment(
          await stripe.paymentIntents.retrieve(gatewayPaymentId, { expand: ["latest_charge"] }),
        ),
      ),
    capture: (input) =>
      call(async () =>
        toGatewayPayment(
          await stripe.paymentIntents.capture(
            input.gatewayPaymentId,
            input.amount === undefined
              ? {}
              : { amount_to_capture: toStripeAmount(input.amount, input.currency) },
            { idempotencyKey: input.idempotencyKey },
          ),
        ),
      ),
    refund: (input) =>
      call(async () => {
        const refund = await stripe.refunds.create(
          {
            payment_intent: input.gatewayPaymentId,
            ...(input.amount === undefined ? {} : { amount: toStripeAmount(input.amount, input.currency) }),
            metadata: { refundId: input.refundId, ...(input.reason ? { reason: input.reason } : {}) },
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return { gatewayRefundId: refund.id, amount: fromStripeAmount(refund.amount, input.currency) };
      }),
    cancel: (input) =>
      call(async () =>
        toGatewayPayment(
          await stripe.paymentIntents.cancel(
            input.gatewayPaymentId,
            {},
            { idempotencyKey: input.idempotencyKey },
          ),
        ),
      ),
  };
}
