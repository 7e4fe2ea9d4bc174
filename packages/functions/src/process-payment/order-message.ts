import { assertStripeChargeable } from "@payments/adapters/stripe";
import {
  CONTROL_CHARACTERS,
  InvalidAmountError,
  InvalidCurrencyError,
  normalizeCurrency,
  toMinorUnits,
} from "@payments/core";
import type { BillingAddress, PaymentMethod } from "@payments/events";
import { parse as parseLosslessJson } from "lossless-json";
import * as z from "zod";

/**
 * The two message bodies the existing systems put on the order queue (SPEC §4.1). Fields they
 * add beyond these are ignored; the ones used are checked strictly, and every string is bounded,
 * so that nothing a sender writes can make an event too large to store or publish.
 */
const amount = z.union([z.number(), z.string().max(64)]);
/** No control characters: they have no place in an id, and they break logs and lookups. */
const printable = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL_CHARACTERS.test(s), "must not contain control characters");
const id = printable(255).trim().min(1);
const token = id.refine((s) => !looksLikeCardNumber(s), {
  message: "looks like a card number: send a payment method token, never card data",
});
const currency = z.string().max(8).optional();

export const OrderMessageA = z.object({
  order_id: id,
  customer_id: id.optional(),
  amount,
  currency,
  payment_method_id: token,
});

export const OrderMessageB = z.object({
  payment_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1–64 characters of A-Z, a-z, 0-9, _ and -"),
  order_id: id,
  customer_id: id,
  amount,
  currency,
  payment_method: printable(64).trim().min(1),
  payment_method_id: token.optional(),
  billing_address: z
    .object({ street: printable(200), city: printable(100), state: printable(100), zip: printable(20) })
    .optional(),
});

/** A run of 13–19 digits (spaces and dashes allowed between) that passes the Luhn check. */
export function looksLikeCardNumber(text: string): boolean {
  for (const run of text.match(/\d[\d -]{11,}\d/g) ?? []) {
    const digits = run.replace(/[ -]/g, "");
    if (digits.length < 13 || digits.length > 19) continue;
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 === 0) return true;
  }
  return false;
}

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
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "body"}: ${i.message}`)
    .join("; ");
}

/** A JSON number as it was written, so that 25.9999999999999999 is not read as 26. */
class NumberLiteral {
  constructor(readonly text: string) {}
}

/**
 * Parses a message body keeping the top-level `amount`'s literal when it is a JSON number: the
 * amount is converted from that text, exactly as the same digits sent as a string would be. Other
 * numbers become plain numbers. Duplicate keys are refused: which one would count is ambiguous.
 */
function parseBody(body: string): unknown {
  const json = parseLosslessJson(body, null, (text) => new NumberLiteral(text));
  const plain = (value: unknown): unknown => {
    if (value instanceof NumberLiteral) return Number(value.text);
    if (Array.isArray(value)) return value.map(plain);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    }
    return value;
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) return plain(json);
  return Object.fromEntries(
    Object.entries(json).map(([k, v]) => [
      k,
      k === "amount" && v instanceof NumberLiteral ? v.text : plain(v),
    ]),
  );
}

/**
 * Minor units of an amount the gateway can charge: exact, and representable at Stripe (1.234 kwd is
 * not: Stripe takes kwd in steps of 0.010), so that such a request is refused here, with its reason,
 * instead of failing at the gateway and being retried as if it were transient.
 */
function chargeable(input: number | string, currency: string): number {
  const minor = toMinorUnits(input, currency);
  assertStripeChargeable(minor, currency);
  return minor;
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
    json = parseBody(body);
  } catch {
    // The body itself is never quoted: it may hold anything, card data included.
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
      // A currency that is present is used (SPEC §4.1); only a missing one falls back to the default.
      const currency = normalizeCurrency(m.currency ?? defaultCurrency);
      return {
        format: "B",
        paymentId: m.payment_id,
        orderId: m.order_id,
        customerId: m.customer_id,
        amount: chargeable(m.amount, currency),
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
      amount: chargeable(m.amount, currency),
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
