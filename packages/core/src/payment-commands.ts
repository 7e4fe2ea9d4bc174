import {
  type BillingAddress,
  CaptureMethod,
  CommandSource,
  DriftClass,
  type PaymentMethod,
  Provider,
} from "@payments/events";
import * as z from "zod";
import { currencyExponent } from "./currencies";
import { InvalidCommandError } from "./errors";
import type { CustomerActivity, FraudThresholds } from "./fraud";
import { MAX_CHARGE_MINOR_UNITS } from "./money";

/** What can be asked of a payment: the input of the decider. */
export type PaymentCommand =
  | {
      readonly type: "InitiatePayment";
      readonly orderId: string;
      readonly customerId?: string;
      /** Minor units, already checked (see money.ts). */
      readonly amount: number;
      readonly currency: string;
      readonly paymentMethod: PaymentMethod;
      readonly captureMethod: CaptureMethod;
      readonly source: CommandSource;
      readonly provider: Provider;
      readonly providerReference?: string;
      readonly billingAddress?: BillingAddress;
      readonly metadata?: Readonly<Record<string, string>>;
    }
  | {
      readonly type: "ScreenPayment";
      readonly activity: CustomerActivity;
      readonly thresholds: FraudThresholds;
    }
  | { readonly type: "RecordPaymentIntent"; readonly gateway: Provider; readonly gatewayPaymentId: string }
  | {
      readonly type: "AuthorizePayment";
      readonly gateway: Provider;
      readonly gatewayPaymentId: string;
      readonly amountAuthorized: number;
      readonly authorizationCode?: string;
      /** The gateway also collected the funds (automatic capture): the whole authorized amount. */
      readonly captured: boolean;
    }
  | { readonly type: "CapturePayment"; readonly amount?: number }
  | {
      readonly type: "RefundPayment";
      readonly refundId: string;
      readonly amount?: number;
      readonly reason?: string;
      /** `manual`: an operator returned the money outside the gateway, under `reference`. */
      readonly method?: "gateway" | "manual";
      readonly reference?: string;
    }
  /** Holds a refund's amount back before the gateway is asked (see PaymentRefundRequested). */
  | {
      readonly type: "RequestRefund";
      readonly refundId: string;
      readonly amount?: number;
      readonly reason?: string;
      readonly gatewayRefundId?: string;
    }
  /** The gateway refused a requested refund. */
  | {
      readonly type: "FailRefund";
      readonly refundId: string;
      readonly code: string;
      readonly message: string;
    }
  /**
   * A provider's notice of money already received (ZaloPay, PayOS): each adds to what was
   * captured; short of the amount the payment is `underpaid` (SPEC §2).
   */
  | {
      readonly type: "RecordReceivedPayment";
      readonly gateway: Provider;
      readonly gatewayPaymentId: string;
      readonly amount: number;
    }
  /**
   * A refund the gateway reports as done (a refund made in Stripe's dashboard, or ours echoed back):
   * a fact, recorded even while refunds of ours are held back, as long as the total refunded stays
   * within what was captured; the holds that no longer fit are released.
   */
  | {
      readonly type: "RecordGatewayRefund";
      readonly refundId: string;
      readonly amount: number;
      readonly reason?: string;
    }
  /** A verified provider notice that the lifecycle cannot apply: recorded, and flagged for a person. */
  | {
      readonly type: "RecordUnappliedNotice";
      readonly provider: Provider;
      readonly noticeId: string;
      readonly noticeType: string;
      readonly amount?: number;
      readonly currency?: string;
      readonly reason: string;
    }
  | {
      readonly type: "FlagPayment";
      readonly flag: "unmatched" | "amount_mismatch";
      readonly detail: string;
      readonly receivedAmount?: number;
      readonly receivedCurrency?: string;
    }
  /** Reconciliation found what a program cannot settle: recorded, and flagged for a person (SPEC §6.1). */
  | {
      readonly type: "RecordDrift";
      readonly driftId: string;
      readonly driftClass: DriftClass;
      readonly provider: Provider;
      readonly detail: string;
      readonly ledger?: string;
      readonly providerSays?: string;
    }
  /** A person (or a repair) settled what needed attention: clears `needs_attention` (SPEC §2). */
  | { readonly type: "ResolveAttention"; readonly reason: string; readonly by: string }
  | { readonly type: "CancelPayment"; readonly reason: string }
  | {
      readonly type: "FailPayment";
      readonly code: string;
      readonly message: string;
      readonly retryable: boolean;
    };

/**
 * What every command must satisfy before it is decided on (SPEC §2): amounts are positive safe
 * integers in minor units, currencies known lower-case ISO 4217 codes, strings bounded and free of
 * control characters. A command that passes can only produce events that the read path loads again.
 */

/** Control characters (C0 and C1, Unicode's Cc): never part of an id, a code or a reference. */
export const CONTROL_CHARACTERS = /\p{Cc}/u;
const CONTROL = CONTROL_CHARACTERS;
/** Free text (reasons, messages) may hold line breaks and tabs, but no other control character. */
const TEXT_CONTROL = /(?![\t\n\r])\p{Cc}/u;

const noControl = (schema: z.ZodString, pattern = CONTROL) =>
  schema.refine((s) => !pattern.test(s), {
    params: { rule: "control_characters" },
    message: "must not contain control characters",
  });

/** An identifier or code: 1–`max` characters, no control characters. */
export const commandId = (max = 255) => noControl(z.string().min(1).max(max));
/** Free text of at most `max` characters, which may be empty. */
const freeText = (max: number) => noControl(z.string().max(max), TEXT_CONTROL);
/** Free text that must say something. */
const requiredText = (max: number) => noControl(z.string().min(1).max(max), TEXT_CONTROL);

/** A positive safe integer of minor units, at most `max`. */
export const minorUnitsAmount = (max = Number.MAX_SAFE_INTEGER) => z.number().int().positive().max(max);

export const commandCurrency = z
  .string()
  .refine((c) => /^[a-z]{3}$/.test(c) && currencyExponent(c) !== undefined, {
    params: { rule: "currency_unknown" },
    message: "must be a known ISO 4217 code in lower case, such as usd",
  });

/** Count of recent activity: a non-negative safe integer (NaN, fractions and negatives are refused). */
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const score = z.number().int().min(1).max(100);

export const FraudThresholdsSchema = z
  .strictObject({
    reviewAt: score,
    rejectAt: score,
    largeAmount: z.record(z.string(), minorUnitsAmount()).optional(),
  })
  .refine((t) => t.reviewAt <= t.rejectAt, {
    params: { rule: "thresholds_out_of_order" },
    message: "reviewAt must not be above rejectAt",
  });

/** A billing address: every field bounded free text (an incomplete one is a fraud signal, not an error). */
export const commandBillingAddress = z.strictObject({
  street: freeText(200),
  city: freeText(100),
  state: freeText(100),
  zip: freeText(20),
}) satisfies z.ZodType<BillingAddress>;

/** A caller's metadata, as Stripe bounds it: at most 20 keys of 40 characters, values of 500. */
export const commandMetadata = z
  .record(commandId(40), freeText(500))
  .refine((m) => Object.keys(m).length <= 20, { message: "at most 20 entries" });

const commandSchemas = {
  InitiatePayment: z
    .strictObject({
      type: z.literal("InitiatePayment"),
      orderId: commandId(),
      customerId: commandId().optional(),
      // Zero only for a payment created to hold a provider's notice that names no amount of its own
      // (a refund for an unknown PaymentIntent, SPEC §4.3): no amount is invented for it.
      amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      currency: commandCurrency,
      paymentMethod: z.strictObject({ type: commandId(64), token: commandId().optional() }),
      captureMethod: CaptureMethod,
      source: CommandSource,
      provider: Provider,
      providerReference: commandId().optional(),
      billingAddress: commandBillingAddress.optional(),
      metadata: commandMetadata.optional(),
    })
    .refine((c) => c.source === "webhook" || c.amount > 0, {
      path: ["amount"],
      params: { rule: "amount_not_positive" },
      message: "must be more than zero",
    })
    // A charge request is bounded by Stripe's ceiling; a provider's notice of money already received
    // is recorded whatever its size (SPEC §2).
    .refine((c) => c.source === "webhook" || c.amount <= MAX_CHARGE_MINOR_UNITS, {
      path: ["amount"],
      params: { rule: "amount_over_limit" },
      message: `must be at most ${MAX_CHARGE_MINOR_UNITS} minor units`,
    }),
  ScreenPayment: z.strictObject({
    type: z.literal("ScreenPayment"),
    activity: z.strictObject({
      paymentsLast10Minutes: count,
      paymentsLastHour: count,
      declinesLastHour: count,
      declinesLastDay: count,
      lifetimePayments: count,
    }),
    thresholds: FraudThresholdsSchema,
  }),
  RecordPaymentIntent: z.strictObject({
    type: z.literal("RecordPaymentIntent"),
    gateway: Provider,
    gatewayPaymentId: commandId(),
  }),
  AuthorizePayment: z.strictObject({
    type: z.literal("AuthorizePayment"),
    gateway: Provider,
    gatewayPaymentId: commandId(),
    amountAuthorized: minorUnitsAmount(),
    authorizationCode: commandId(64).optional(),
    captured: z.boolean(),
  }),
  CapturePayment: z.strictObject({
    type: z.literal("CapturePayment"),
    amount: minorUnitsAmount().optional(),
  }),
  RefundPayment: z.strictObject({
    type: z.literal("RefundPayment"),
    refundId: commandId(),
    amount: minorUnitsAmount().optional(),
    reason: freeText(500).optional(),
    method: z.enum(["gateway", "manual"]).optional(),
    reference: commandId().optional(),
  }),
  RequestRefund: z.strictObject({
    type: z.literal("RequestRefund"),
    refundId: commandId(),
    amount: minorUnitsAmount().optional(),
    reason: freeText(500).optional(),
    gatewayRefundId: commandId().optional(),
  }),
  FailRefund: z.strictObject({
    type: z.literal("FailRefund"),
    refundId: commandId(),
    code: commandId(100),
    message: freeText(1000),
  }),
  RecordReceivedPayment: z.strictObject({
    type: z.literal("RecordReceivedPayment"),
    gateway: Provider,
    gatewayPaymentId: commandId(),
    // Money already received is recorded whatever its size (SPEC §2).
    amount: minorUnitsAmount(),
  }),
  RecordGatewayRefund: z.strictObject({
    type: z.literal("RecordGatewayRefund"),
    refundId: commandId(),
    amount: minorUnitsAmount(),
    reason: freeText(500).optional(),
  }),
  RecordUnappliedNotice: z.strictObject({
    type: z.literal("RecordUnappliedNotice"),
    provider: Provider,
    noticeId: commandId(),
    noticeType: commandId(100),
    // The notice's own figures, whatever their size: they are what a person must look at.
    amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    currency: commandCurrency.optional(),
    reason: commandId(1000),
  }),
  FlagPayment: z.strictObject({
    type: z.literal("FlagPayment"),
    flag: z.enum(["unmatched", "amount_mismatch"]),
    detail: freeText(1000),
    receivedAmount: minorUnitsAmount().optional(),
    receivedCurrency: commandCurrency.optional(),
  }),
  RecordDrift: z.strictObject({
    type: z.literal("RecordDrift"),
    driftId: commandId(),
    driftClass: DriftClass,
    provider: Provider,
    detail: requiredText(1000),
    ledger: freeText(500).optional(),
    providerSays: freeText(500).optional(),
  }),
  ResolveAttention: z.strictObject({
    type: z.literal("ResolveAttention"),
    reason: requiredText(1000),
    by: commandId(),
  }),
  CancelPayment: z.strictObject({ type: z.literal("CancelPayment"), reason: freeText(500) }),
  FailPayment: z.strictObject({
    type: z.literal("FailPayment"),
    code: commandId(100),
    message: freeText(1000),
    retryable: z.boolean(),
  }),
} satisfies { [T in PaymentCommand["type"]]: z.ZodType };

/** The rule an issue breaks, in words a caller can match on. */
function ruleOf(issue: z.core.$ZodIssue): string {
  const explicit = (issue as { params?: { rule?: string } }).params?.rule;
  if (explicit) return explicit;
  const field = String(issue.path.at(-1) ?? "");
  const isAmount = /amount/i.test(field);
  switch (issue.code) {
    case "invalid_type":
      if (issue.expected === "number") return isAmount ? "amount_not_a_number" : "not_a_number";
      return "wrong_type";
    case "too_small":
      if (isAmount) return "amount_not_positive";
      return issue.origin === "string" ? "text_empty" : "number_too_small";
    case "too_big":
      if (isAmount) return "amount_over_limit";
      return issue.origin === "string" ? "text_too_long" : "number_too_large";
    case "invalid_value":
      return "value_not_allowed";
    case "unrecognized_keys":
      return "unknown_field";
    default:
      return isAmount && issue.code === "invalid_format" ? "amount_not_whole_minor_units" : "invalid_field";
  }
}

/**
 * Checks a command before it is decided on, and refuses it with the rule it breaks.
 * @example validatePaymentCommand({ type: "CapturePayment", amount: -500 })
 * // throws InvalidCommandError: CapturePayment amount: … (rule amount_not_positive)
 * @throws InvalidCommandError naming the field and the rule of the first problem
 */
export function validatePaymentCommand<C extends PaymentCommand>(command: C): C {
  const schema = commandSchemas[command?.type as PaymentCommand["type"]] as z.ZodType | undefined;
  if (!schema)
    throw new InvalidCommandError(String(command?.type), "unknown_command", "type", "is not a command");
  const result = schema.safeParse(command);
  if (result.success) return command;
  const issue = result.error.issues[0]!;
  const field = issue.path.join(".") || "command";
  // Non-integers are `invalid_type` in zod 4 ("expected int"); name them as the money rule they break.
  const rule =
    issue.code === "invalid_type" && issue.expected === "int"
      ? "amount_not_whole_minor_units"
      : ruleOf(issue);
  throw new InvalidCommandError(command.type, rule, field, issue.message);
}
