/**
 * Typed errors of the domain. Each names what was wrong and carries the fields that explain it;
 * one place per entry point maps them (problem+json status, non-retried record failure, …).
 */

/** An amount that cannot be charged: too many decimals, zero, negative, not finite, too large. */
export class InvalidAmountError extends Error {
  override readonly name = "InvalidAmountError";
  constructor(
    message: string,
    readonly input: unknown,
    readonly currency?: string,
  ) {
    super(message);
  }
}

/** A currency that is not an ISO 4217 code we know. */
export class InvalidCurrencyError extends Error {
  override readonly name = "InvalidCurrencyError";
  constructor(readonly currency: unknown) {
    const shown =
      typeof currency === "string" && currency.length > 20 ? `${currency.slice(0, 20)}…` : currency;
    super(`currency ${JSON.stringify(shown) ?? String(shown)} is not an ISO 4217 code (for example "usd")`);
  }
}

/** The rules of the payment lifecycle (SPEC §2), named so that callers can tell them apart. */
export type LifecycleRule =
  | "payment_already_exists"
  | "screening_requires_initiated"
  | "already_screened"
  | "intent_requires_initiated"
  | "intent_already_recorded"
  | "authorization_requires_initiated"
  | "authorization_exceeds_amount"
  | "review_requires_manual_capture"
  | "capture_requires_authorized"
  | "capture_exceeds_authorized"
  | "refund_requires_capture"
  | "refund_exceeds_captured"
  | "refund_amount_differs"
  | "cancel_after_capture"
  | "payment_closed"
  | "failure_requires_pending"
  | "paid_after_end"
  | "paid_twice"
  | "provider_cannot_refund"
  | "nothing_needs_attention";

/** A command that breaks a rule of the lifecycle. Nothing is appended. */
export class LifecycleRuleError extends Error {
  override readonly name = "LifecycleRuleError";
  constructor(
    readonly rule: LifecycleRule,
    readonly paymentId: string,
    readonly status: string,
    detail: string,
  ) {
    super(`${detail} (rule ${rule}; payment ${paymentId} is ${status})`);
  }
}

export class PaymentNotFoundError extends Error {
  override readonly name = "PaymentNotFoundError";
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} does not exist`);
  }
}

/** A lost optimistic-concurrency race that retries from a fresh read did not win either. */
export class ConcurrencyError extends Error {
  override readonly name = "ConcurrencyError";
  constructor(
    readonly paymentId: string,
    readonly expectedVersion: number,
    readonly attempts = 1,
  ) {
    super(
      `payment ${paymentId} changed while the command ran: version ${expectedVersion + 1} was already written` +
        (attempts > 1 ? ` (gave up after ${attempts} attempts)` : ""),
    );
  }
}

/** Another payment already holds a unique value (an orderId, a provider reference, a webhook event id). */
export class UniquenessConflictError extends Error {
  override readonly name = "UniquenessConflictError";
  constructor(
    readonly kind: string,
    readonly value: string,
    readonly ownerPaymentId: string | undefined,
  ) {
    super(
      `${kind} ${JSON.stringify(value)} is already taken` +
        (ownerPaymentId ? ` by payment ${ownerPaymentId}` : ""),
    );
  }
}

/** An event too large for EventBridge's 256 KB entry limit; refused before any write. */
export class EventTooLargeError extends Error {
  override readonly name = "EventTooLargeError";
  constructor(
    readonly paymentId: string,
    readonly eventType: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `event ${eventType} of payment ${paymentId} would be ${bytes} bytes on EventBridge, over the ${limit}-byte entry limit`,
    );
  }
}

/** A stored event that no schema of its type and version accepts. */
export class EventSchemaError extends Error {
  override readonly name = "EventSchemaError";
  constructor(
    readonly eventType: string,
    readonly schemaVersion: number,
    detail: string,
  ) {
    super(`event ${eventType} v${schemaVersion} does not match its schema: ${detail}`);
  }
}

/**
 * A command that cannot be decided on at all: an amount that is not a positive whole number of
 * minor units, an unknown currency, an empty or over-long string. Refused before any read or write.
 */
export class InvalidCommandError extends Error {
  override readonly name = "InvalidCommandError";
  constructor(
    readonly commandType: string,
    readonly rule: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${commandType} ${field}: ${detail} (rule ${rule})`);
  }
}

/** Configuration the service refuses to start with, such as a fraud threshold that is not a number. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}
