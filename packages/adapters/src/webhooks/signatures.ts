import { createHmac, timingSafeEqual } from "node:crypto";
import Stripe from "stripe";

/**
 * Signature checks of the providers' webhooks (SPEC §4.3), each over the raw body exactly as it
 * arrived, before anything is parsed, and each compared in constant time.
 */

const hmacHex = (key: string, text: string) => createHmac("sha256", key).update(text, "utf8").digest("hex");

/** Constant-time equality of two hex digests (a malformed or short one is simply unequal). */
export function hexDigestsEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, "hex");
  const b = Buffer.from(given.toLowerCase(), "hex");
  return a.length > 0 && a.length === b.length && /^[0-9a-f]+$/i.test(given) && timingSafeEqual(a, b);
}

/** Stripe's tolerance for the signed timestamp (SPEC §4.3). */
export const STRIPE_TOLERANCE_SECONDS = 300;

/**
 * Verifies `Stripe-Signature: t=…,v1=…` (any v1 may match; |now − t| ≤ 300 s) with stripe-node's own
 * check, and returns the event. Throws on a bad or stale signature.
 * @example verifyStripeSignature(rawBody, c.req.header("stripe-signature"), secret)
 */
export function verifyStripeSignature(
  rawBody: string,
  header: string | undefined,
  secret: string,
  nowSeconds?: number,
): Stripe.Event {
  if (!header) throw new WebhookSignatureError("stripe", "no Stripe-Signature header");
  try {
    return Stripe.webhooks.constructEvent(
      rawBody,
      header,
      secret,
      STRIPE_TOLERANCE_SECONDS,
      undefined,
      nowSeconds,
    );
  } catch (error) {
    throw new WebhookSignatureError("stripe", (error as Error).message.split("\n")[0]!.slice(0, 200));
  }
}

/**
 * ZaloPay's callback: `mac` = hex HMAC-SHA256(key2, data), over the `data` string as received.
 * @example verifyZaloPayMac(body.data, body.mac, key2)
 */
export function verifyZaloPayMac(data: string, mac: string, key2: string): boolean {
  return hexDigestsEqual(hmacHex(key2, data), mac);
}

/**
 * PayOS's `signature` over `data`: its keys sorted, `key=value` joined by `&`, no URL encoding;
 * null or undefined as the empty string; arrays and objects as JSON with sorted keys.
 * @example payosSignature({ orderCode: 123, amount: 3000, … }, checksumKey) // "412e915d…"
 */
export function payosSignature(data: Record<string, unknown>, checksumKey: string): string {
  return hmacHex(checksumKey, payosQueryString(data));
}

export function payosQueryString(data: Record<string, unknown>): string {
  return Object.keys(data)
    .sort()
    .map((key) => `${key}=${payosValue(data[key])}`)
    .join("&");
}

function payosValue(value: unknown): string {
  if (value === null || value === undefined || value === "null" || value === "undefined") return "";
  if (Array.isArray(value) || typeof value === "object") return JSON.stringify(sortKeys(value));
  return String(value);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function verifyPayosSignature(
  data: Record<string, unknown>,
  signature: string,
  checksumKey: string,
): boolean {
  return hexDigestsEqual(payosSignature(data, checksumKey), signature);
}

/** A webhook whose signature does not verify: 401 (ZaloPay: its own reply), nothing appended. */
export class WebhookSignatureError extends Error {
  override readonly name = "WebhookSignatureError";
  constructor(
    readonly provider: string,
    detail: string,
  ) {
    super(`${provider} webhook signature refused: ${detail}`);
  }
}
