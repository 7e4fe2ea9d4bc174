import * as z from "zod";

/**
 * The public contract of the payment events (SPEC §2, §5): the `type` is the EventBridge
 * `detail-type` and the Kafka header `type`. Amounts are integers in the currency's minor unit.
 * A changed shape gets a new schemaVersion; old versions stay here so they can be read and upcast.
 */

const minorUnits = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const positiveMinorUnits = minorUnits.min(1);
const currency = z.string().regex(/^[a-z]{3}$/, "an ISO 4217 code in lower case, such as usd");

export const BillingAddress = z.strictObject({
  street: z.string(),
  city: z.string(),
  state: z.string(),
  zip: z.string(),
});
export type BillingAddress = z.infer<typeof BillingAddress>;

export const PaymentMethod = z.strictObject({
  /** What kind of instrument: `card`, `bank_transfer`, `wallet`, or the provider's own word. */
  type: z.string().min(1).max(64),
  /** A gateway token such as a Stripe PaymentMethod id; never a card number. */
  token: z.string().min(1).max(255).optional(),
});
export type PaymentMethod = z.infer<typeof PaymentMethod>;

export const Provider = z.enum(["stripe", "zalopay", "payos"]);
export type Provider = z.infer<typeof Provider>;
export const CaptureMethod = z.enum(["automatic", "manual"]);
export type CaptureMethod = z.infer<typeof CaptureMethod>;
export const CommandSource = z.enum(["queue", "api", "webhook"]);
export type CommandSource = z.infer<typeof CommandSource>;
export const FraudDecision = z.enum(["approve", "review", "reject"]);
export type FraudDecision = z.infer<typeof FraudDecision>;

export const PaymentInitiatedData = z.strictObject({
  orderId: z.string().min(1).max(255),
  customerId: z.string().min(1).max(255).optional(),
  amount: minorUnits,
  currency,
  paymentMethod: PaymentMethod,
  captureMethod: CaptureMethod,
  source: CommandSource,
  provider: Provider,
  providerReference: z.string().min(1).max(255).optional(),
  billingAddress: BillingAddress.optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

export const PaymentScreenedData = z.strictObject({
  score: z.number().int().min(0).max(100),
  decision: FraudDecision,
  reasons: z.array(z.string()),
});

/** Recorded before the gateway is asked to confirm, so a retry continues this intent (SPEC §2). */
export const PaymentIntentCreatedData = z.strictObject({
  gateway: Provider,
  gatewayPaymentId: z.string().min(1),
});

export const PaymentAuthorizedData = z.strictObject({
  gateway: Provider,
  gatewayPaymentId: z.string().min(1),
  amountAuthorized: positiveMinorUnits,
  authorizationCode: z.string().optional(),
});

export const PaymentCapturedData = z.strictObject({
  amount: positiveMinorUnits,
  totalCaptured: positiveMinorUnits,
  gatewayPaymentId: z.string().min(1).optional(),
});

/** Version 1 had no `method` or `reference`: every v1 refund went through the gateway. */
export const PaymentRefundedDataV1 = z.strictObject({
  refundId: z.string().min(1),
  amount: positiveMinorUnits,
  totalRefunded: positiveMinorUnits,
  reason: z.string().max(500).optional(),
});

export const PaymentRefundedData = z.strictObject({
  refundId: z.string().min(1),
  amount: positiveMinorUnits,
  totalRefunded: positiveMinorUnits,
  reason: z.string().max(500).optional(),
  /** `gateway` (the default when absent), or `manual`: money an operator returned outside the gateway. */
  method: z.enum(["gateway", "manual"]).optional(),
  /** A manual refund's reference: the bank transfer or ticket that returned the money. */
  reference: z.string().min(1).max(255).optional(),
});

export const PaymentCanceledData = z.strictObject({
  reason: z.string().max(500),
});

/** Version 1 had no `retryable`; it is read as not retryable (see the upcaster in core). */
export const PaymentFailedDataV1 = z.strictObject({
  code: z.string().min(1),
  message: z.string(),
});

export const PaymentFailedData = z.strictObject({
  code: z.string().min(1),
  message: z.string(),
  retryable: z.boolean(),
});

/**
 * A refund asked for and not yet answered by the gateway: its amount is held back from what can
 * still be refunded, so concurrent refunds can never return more than was captured (SPEC §2).
 */
/** Version 1 had no `gatewayRefundId`: the gateway's refunds were matched by our refund id. */
export const PaymentRefundRequestedDataV1 = z.strictObject({
  refundId: z.string().min(1).max(255),
  amount: positiveMinorUnits,
  reason: z.string().max(500).optional(),
});

export const PaymentRefundRequestedData = z.strictObject({
  refundId: z.string().min(1).max(255),
  amount: positiveMinorUnits,
  reason: z.string().max(500).optional(),
  /** The provider's id of the refund, when it is ours to choose (ZaloPay's `m_refund_id`). */
  gatewayRefundId: z.string().min(1).max(255).optional(),
});

/** The gateway refused a requested refund: its amount is refundable again. */
export const PaymentRefundFailedData = z.strictObject({
  refundId: z.string().min(1).max(255),
  code: z.string().min(1).max(100),
  message: z.string().max(1000),
});

/**
 * Something a person must look at (SPEC §4.3): `unmatched`, a provider's notice for no known
 * payment; `amount_mismatch`, money received that differs from the payment's amount or currency.
 */
export const PaymentFlaggedData = z.strictObject({
  flag: z.enum(["unmatched", "amount_mismatch"]),
  detail: z.string().max(1000),
  receivedAmount: minorUnits.optional(),
  receivedCurrency: currency.optional(),
});

/**
 * A verified provider notice that the payment's lifecycle cannot apply (SPEC §4.3): paid after a
 * cancel, paid twice, a refund beyond what is refundable, a PaymentIntent or currency that
 * disagrees. Recorded, never dropped: the payment is flagged `needs_attention` for a person.
 * `amount` is in the minor units of `currency`, as the notice gave them, when it gave them.
 */
export const ProviderNoticeUnappliedData = z.strictObject({
  provider: Provider,
  noticeId: z.string().min(1).max(255),
  noticeType: z.string().min(1).max(100),
  amount: minorUnits.optional(),
  currency: currency.optional(),
  reason: z.string().min(1).max(1000),
});

/** The classes of drift between the ledger and a provider (SPEC §6.1). */
export const DriftClass = z.enum([
  "missing_in_ledger",
  "amount_differs",
  "status_differs",
  "missing_at_provider",
  "unapplied_notice",
]);
export type DriftClass = z.infer<typeof DriftClass>;

/**
 * Reconciliation found a drift that a program cannot settle (SPEC §6.1): `missing_at_provider` or
 * `unapplied_notice`. The payment is flagged `needs_attention` for a person; `driftId` names the
 * drift in the report that found it, and `ledger` and `provider` say what each side holds.
 */
export const PaymentDriftFoundData = z.strictObject({
  driftId: z.string().min(1).max(255),
  driftClass: DriftClass,
  provider: Provider,
  detail: z.string().min(1).max(1000),
  ledger: z.string().max(500).optional(),
  providerSays: z.string().max(500).optional(),
});

/**
 * What needed attention is settled (SPEC §2): by a repair or by a person from the console, who is
 * `by` (a token's `sub`, or `reconcile` for the CLI's own repairs). Clears `needs_attention`.
 */
export const PaymentAttentionResolvedData = z.strictObject({
  reason: z.string().min(1).max(1000),
  by: z.string().min(1).max(255),
});

export const PaymentRejectedData = z.strictObject({
  score: z.number().int().min(0).max(100),
  reasons: z.array(z.string()),
});

/** The current schema of every event type, with its schemaVersion. */
export const paymentEventSchemas = {
  PaymentInitiated: { schemaVersion: 1, data: PaymentInitiatedData },
  PaymentScreened: { schemaVersion: 1, data: PaymentScreenedData },
  PaymentIntentCreated: { schemaVersion: 1, data: PaymentIntentCreatedData },
  PaymentAuthorized: { schemaVersion: 1, data: PaymentAuthorizedData },
  PaymentCaptured: { schemaVersion: 1, data: PaymentCapturedData },
  PaymentRefunded: { schemaVersion: 2, data: PaymentRefundedData },
  PaymentCanceled: { schemaVersion: 1, data: PaymentCanceledData },
  PaymentFailed: { schemaVersion: 2, data: PaymentFailedData },
  PaymentRejected: { schemaVersion: 1, data: PaymentRejectedData },
  PaymentRefundRequested: { schemaVersion: 2, data: PaymentRefundRequestedData },
  PaymentRefundFailed: { schemaVersion: 1, data: PaymentRefundFailedData },
  PaymentFlagged: { schemaVersion: 1, data: PaymentFlaggedData },
  ProviderNoticeUnapplied: { schemaVersion: 1, data: ProviderNoticeUnappliedData },
  PaymentDriftFound: { schemaVersion: 1, data: PaymentDriftFoundData },
  PaymentAttentionResolved: { schemaVersion: 1, data: PaymentAttentionResolvedData },
} as const;

/** Schemas of versions that are no longer written but must stay readable. */
export const legacyPaymentEventSchemas = {
  PaymentFailed: { 1: PaymentFailedDataV1 },
  PaymentRefunded: { 1: PaymentRefundedDataV1 },
  PaymentRefundRequested: { 1: PaymentRefundRequestedDataV1 },
} as const;

export type PaymentEventType = keyof typeof paymentEventSchemas;
export const paymentEventTypes = Object.keys(paymentEventSchemas) as PaymentEventType[];

type DataOf<T extends PaymentEventType> = z.infer<(typeof paymentEventSchemas)[T]["data"]>;

/** A domain event as the decider sees it: a readonly discriminated union on `type`. */
export type PaymentEvent = {
  readonly [T in PaymentEventType]: { readonly type: T; readonly data: Readonly<DataOf<T>> };
}[PaymentEventType];

export type PaymentEventOf<T extends PaymentEventType> = Extract<PaymentEvent, { type: T }>;
