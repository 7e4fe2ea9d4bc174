import type { CaptureMethod } from "@payments/events";

/** Where a gateway payment stands, in the gateway-neutral words the processor acts on. */
export type GatewayPaymentStatus =
  /** Created, not confirmed yet: confirm it (again) with the same idempotency key. */
  | "requires_confirmation"
  /** Funds held, awaiting capture (manual capture). */
  | "requires_capture"
  /** Funds collected. */
  | "succeeded"
  /** The gateway is still working on it: look again later. */
  | "processing"
  /** The customer must act (3-D Secure): a queue payment cannot go on. */
  | "requires_action"
  | "canceled";

export interface GatewayPayment {
  readonly gatewayPaymentId: string;
  readonly status: GatewayPaymentStatus;
  /** Minor units, ISO 4217 exponent (the adapter converts the gateway's own). */
  readonly amount: number;
  readonly amountCaptured: number;
  readonly authorizationCode?: string;
}

export interface CreateGatewayPayment {
  readonly paymentId: string;
  readonly orderId: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentMethodToken: string;
  readonly captureMethod: CaptureMethod;
  readonly idempotencyKey: string;
  /** The gateway's customer whose saved method is charged, off session (format B, SPEC §4.1). */
  readonly customer?: string;
}

/**
 * The port to a card gateway. Every call carries an idempotency key derived from the payment
 * and the step, so a retried Lambda never charges twice.
 * @throws GatewayDeclinedError for a business refusal (not retried);
 *   GatewayUnavailableError for 5xx, timeouts and 429 (retried by the queue)
 */
export interface PaymentGateway {
  readonly name: "stripe";
  /** Creates the gateway payment without confirming it, so its id can be recorded first. */
  create(input: CreateGatewayPayment): Promise<GatewayPayment>;
  confirm(input: {
    gatewayPaymentId: string;
    paymentMethodToken: string;
    idempotencyKey: string;
    /** The customer is not there to authenticate: a bank's request to is a decline. */
    offSession?: boolean;
  }): Promise<GatewayPayment>;
  retrieve(gatewayPaymentId: string): Promise<GatewayPayment>;
  capture(input: {
    gatewayPaymentId: string;
    amount?: number;
    currency: string;
    idempotencyKey: string;
  }): Promise<GatewayPayment>;
  /**
   * Refunds captured money. `refundId` is ours (see PaymentRefundRequested); the gateway keeps it
   * with the refund, so its own notices of the refund can be matched to ours.
   */
  refund(input: {
    gatewayPaymentId: string;
    refundId: string;
    amount?: number;
    currency: string;
    reason?: string;
    idempotencyKey: string;
  }): Promise<{ gatewayRefundId: string; amount: number }>;
  cancel(input: { gatewayPaymentId: string; idempotencyKey: string }): Promise<GatewayPayment>;
}

/** The gateway refused: a declined card, a blocked payment method. Recorded, never retried. */
export class GatewayDeclinedError extends Error {
  override readonly name = "GatewayDeclinedError";
  constructor(
    readonly code: string,
    message: string,
    readonly declineCode?: string,
  ) {
    super(message);
  }
}

/** The gateway could not answer now (5xx, timeout, 429): the same request may succeed later. */
export class GatewayUnavailableError extends Error {
  override readonly name = "GatewayUnavailableError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The gateway rejected the request itself (bad parameters, a misused key): retrying cannot help. */
export class GatewayRequestError extends Error {
  override readonly name = "GatewayRequestError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
