import {
  commandBillingAddress,
  commandCurrency,
  commandId,
  commandMetadata,
  MAX_CHARGE_MINOR_UNITS,
  minorUnitsAmount,
} from "@payments/core";
import { CaptureMethod, PaymentId } from "@payments/events";
import * as z from "zod";

/**
 * The REST API's request bodies (SPEC §4.2), built from the domain's own command schemas
 * (payment-commands.ts), so that the API refuses exactly what the domain would. Unknown fields are
 * refused, not ignored.
 */
export const CreatePaymentBody = z
  .strictObject({
    orderId: commandId(),
    customerId: commandId().optional(),
    amount: minorUnitsAmount(MAX_CHARGE_MINOR_UNITS),
    currency: commandCurrency,
    paymentMethodId: commandId().optional(),
    captureMethod: CaptureMethod.optional(),
    billingAddress: commandBillingAddress.optional(),
    metadata: commandMetadata.optional(),
    provider: z.enum(["zalopay", "payos"]).optional(),
    providerReference: commandId().optional(),
  })
  .superRefine((body, ctx) => {
    const card = body.paymentMethodId !== undefined;
    const provider = body.provider !== undefined || body.providerReference !== undefined;
    if (card === provider) {
      ctx.addIssue({
        code: "custom",
        path: ["paymentMethodId"],
        message: "give either paymentMethodId (a card through Stripe) or provider and providerReference",
      });
    } else if (provider && (body.provider === undefined || body.providerReference === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["providerReference"],
        message: "provider and providerReference go together",
      });
    } else if (provider && body.captureMethod === "manual") {
      ctx.addIssue({
        code: "custom",
        path: ["captureMethod"],
        message: "a provider payment cannot be pre-authorized",
      });
    }
  });
export type CreatePaymentBody = z.infer<typeof CreatePaymentBody>;

export const CaptureBody = z.strictObject({ amount: minorUnitsAmount().optional() });
/**
 * A refund at the gateway, or a manual one (`manual: true` with the `reference` of the transfer an
 * operator made): PayOS, which has no refund API, takes only the manual kind (SPEC §4.5).
 */
export const RefundBody = z
  .strictObject({
    amount: minorUnitsAmount().optional(),
    reason: z.string().max(500).optional(),
    manual: z.literal(true).optional(),
    reference: commandId().optional(),
  })
  .superRefine((body, ctx) => {
    if (body.manual && !body.reference)
      ctx.addIssue({
        code: "custom",
        path: ["reference"],
        message: "a manual refund needs the reference of the transfer",
      });
    if (!body.manual && body.reference !== undefined)
      ctx.addIssue({ code: "custom", path: ["reference"], message: "only a manual refund has a reference" });
  });
export const CancelBody = z.strictObject({ reason: z.string().max(500).optional() });

export const PaymentIdParam = z.strictObject({ id: PaymentId });

export const ListQuery = z
  .strictObject({
    orderId: commandId().optional(),
    customerId: commandId().optional(),
    cursor: z.string().max(1024).optional(),
    limit: z.coerce.number().int().min(1).max(100).optional(),
  })
  .refine((q) => (q.orderId === undefined) !== (q.customerId === undefined), {
    message: "give exactly one of orderId and customerId",
    path: ["orderId"],
  });

/** An Idempotency-Key: 1–255 visible ASCII characters. */
export const IdempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, "1–255 visible ASCII characters");

/** The payment view of SPEC §3, as the API returns it (checked against `foldPaymentView` in tests). */
export const PaymentViewSchema = z.strictObject({
  paymentId: PaymentId,
  transactionId: z.string(),
  orderId: z.string(),
  customerId: z.string().optional(),
  status: z.enum([
    "initiated",
    "authorized",
    "captured",
    "underpaid",
    "partially_refunded",
    "refunded",
    "failed",
    "canceled",
    "rejected",
  ]),
  amount: z.number().int().describe("minor units"),
  currency: z.string().describe("ISO 4217, lower case"),
  amountCaptured: z.number().int(),
  amountRefunded: z.number().int(),
  captureMethod: CaptureMethod,
  provider: z.enum(["stripe", "zalopay", "payos"]),
  providerReference: z.string().optional(),
  gatewayPaymentId: z.string().optional(),
  paymentMethod: z.strictObject({ type: z.string(), token: z.string().optional() }),
  fraud: z
    .strictObject({
      score: z.number().int(),
      decision: z.enum(["approve", "review", "reject"]),
      reasons: z.array(z.string()),
    })
    .optional(),
  gatewayResponse: z
    .strictObject({ status: z.string(), authorizationCode: z.string().optional(), timestamp: z.string() })
    .optional(),
  flags: z.array(z.string()),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  rule: z.string().optional(),
});
