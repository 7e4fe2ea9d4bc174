import { InvalidAmountError, InvalidCurrencyError, normalizeCurrency, toMinorUnits } from "@payments/core";
import type { BillingAddress, PaymentMethod } from "@payments/events";
import { z } from "zod";

/**
 * The two message bodies the existing systems put on the order queue (SPEC §4.1). Fields they
 * add beyond these are ignored; the ones used are checked strictly.
 */
const amount = z.union([z.number(), z.string()]);
const id = z.string().trim().min(1).max(255);

export const OrderMessageA = z.object({
  order_id: id,
  customer_id: id.optional(),
  amount,
  currency: z.string().optional(),
  payment_method_id: id,
});

export const OrderMessageB = z.object({
  payment_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1–64 characters of A-Z, a-z, 0-9, _ and -"),
  order_id: id,
  customer_id: id,
  amount,
  payment_method: z.string().trim().min(1).max(64),
  payment_method_id: id.optional(),
  billing_address: z
    .object({ street: z.string(), city: z.string(), state: z.string(), zip: z.string() })
    .optional(),
});

/** A payment request read from either format, with the amount in minor units. */
export interface PaymentRequest {
  readonly format: "A" | "B";
  readonly paymentId?: string;
  readonly orderId: string;
  readonly customerId?: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentMethod: PaymentMethod;
  readonly billingAddress?: BillingAddress;
}

/** A message that can never be processed: logged with its reason, not retried. */
export class MalformedMessageError extends Error {
  override readonly name = "MalformedMessageError";
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}

/**
 * Reads an order-queue message body. Format B is recognised by its `payment_id`.
 * @example parseOrderMessage('{"order_id":"o-1","amount":"25.99","payment_method_id":"pm_card_visa"}', "usd")
 * // { format: "A", orderId: "o-1", amount: 2599, currency: "usd", ... }
 * @throws MalformedMessageError saying what was wrong
 */
export function parseOrderMessage(body: string, defaultCurrency: string): PaymentRequest {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedMessageError(`body is not JSON (${body.length} bytes)`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new MalformedMessageError("body is not a JSON object");
  }
  try {
    if ("payment_id" in json) {
      const parsed = OrderMessageB.safeParse(json);
      if (!parsed.success) throw new MalformedMessageError(`format B: ${describe(parsed.error)}`);
      const m = parsed.data;
      const currency = normalizeCurrency(defaultCurrency);
      return {
        format: "B",
        paymentId: m.payment_id,
        orderId: m.order_id,
        customerId: m.customer_id,
        amount: toMinorUnits(m.amount, currency),
        currency,
        paymentMethod: {
          type: m.payment_method,
          ...(m.payment_method_id ? { token: m.payment_method_id } : {}),
        },
        billingAddress: m.billing_address,
      };
    }
    const parsed = OrderMessageA.safeParse(json);
    if (!parsed.success) throw new MalformedMessageError(`format A: ${describe(parsed.error)}`);
    const m = parsed.data;
    const currency = normalizeCurrency(m.currency ?? defaultCurrency);
    return {
      format: "A",
      orderId: m.order_id,
      customerId: m.customer_id,
      amount: toMinorUnits(m.amount, currency),
      currency,
      paymentMethod: { type: "card", token: m.payment_method_id },
    };
  } catch (error) {
    if (error instanceof InvalidAmountError || error instanceof InvalidCurrencyError) {
      throw new MalformedMessageError(error.message);
    }
    throw error;
  }
}
