import { EventEnvelope } from "@payments/events";
import * as z from "zod";
import { AttachPaymentMethodBody } from "./customer-routes";
import {
  CancelBody,
  CaptureBody,
  CreatePaymentBody,
  PaymentViewSchema,
  ProblemSchema,
  RefundBody,
} from "./payment-schemas";

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (s: object) => ({ content: { "application/json": { schema: s } } });
const problems = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      String(code),
      {
        description: PROBLEM_DESCRIPTIONS[code],
        content: { "application/problem+json": { schema: ref("Problem") } },
      },
    ]),
  );
const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "the request fails its schema (malformed JSON, wrong types, a bad amount or currency, unknown fields)",
  401: "no token, or a bad, expired or non-HS256 one",
  403: "the token lacks the scope",
  404: "no such payment",
  409: "a rule of the lifecycle, a lost race, an order with another payment, or an Idempotency-Key still running",
  413: "a body over 64 KB",
  422: "an Idempotency-Key reused with another body (idempotency_key_reused)",
  503: "the payment gateway is unavailable: retry with the same Idempotency-Key",
};
const idempotencyKey = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "Scoped to the caller and route, kept 24 h: the same key and body replay the first response.",
  schema: { type: "string", maxLength: 255 },
};
const paymentId = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
};
const secured = (scope: string) => ({ security: [{ bearer: [scope] }] });
const command = (summary: string, body: string, extra: object = {}) => ({
  ...secured("payments:write"),
  summary,
  parameters: [paymentId, idempotencyKey],
  requestBody: { required: true, ...json(ref(body)) },
  responses: {
    "200": { description: "the payment view", ...json(ref("PaymentView")) },
    ...problems(400, 401, 403, 404, 409, 413, 422, 503),
  },
  ...extra,
});

/** A problem+json answer of the webhook routes, as every other route answers it. */
const webhookProblem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ref("Problem") } },
});
/** ZaloPay's own reply shape (SPEC §4.3): `return_code` 1 success, 0 call back again, -1 refused. */
const zaloPayReply = (description: string, codes: number[]) => ({
  description,
  ...json({
    type: "object",
    required: ["return_code", "return_message"],
    properties: { return_code: { type: "integer", enum: codes }, return_message: { type: "string" } },
  }),
});
const tooLarge = webhookProblem("a body over 64 KB");

/**
 * The three webhook routes, each with its provider's request and reply shapes (SPEC §4.3): a
 * provider reads our answer in its own format, ZaloPay's refusals included.
 */
const WEBHOOKS = {
  stripe: {
    summary: "stripe notifications, verified over the raw body (also at /webhook/stripe)",
    parameters: [
      {
        name: "Stripe-Signature",
        in: "header",
        required: false,
        description:
          "t=<timestamp>,v1=<hex HMAC-SHA256 of the timestamp, a dot and the body>; 300 s tolerance",
        schema: { type: "string" },
      },
    ],
    requestBody: {
      required: true,
      ...json({
        type: "object",
        description: "a Stripe event",
        properties: { id: { type: "string" }, type: { type: "string" }, data: { type: "object" } },
      }),
    },
    responses: {
      "200": {
        description:
          "received: handled (recorded, unapplied, a duplicate, nothing new) or a type not handled",
        ...json({
          type: "object",
          required: ["received", "handled"],
          properties: {
            received: { const: true },
            handled: { type: "boolean" },
            type: { type: "string" },
            outcome: { type: "string" },
          },
        }),
      },
      "400": webhookProblem("signed, but with an amount or currency no payment can hold"),
      "401": webhookProblem("the signature does not verify, or is older than 300 s"),
      "413": tooLarge,
    },
  },
  zalopay: {
    summary: "zalopay notifications, verified over the raw body (also at /webhook/zalopay)",
    requestBody: {
      required: true,
      ...json({
        type: "object",
        description: "ZaloPay's callback: mac = hex HMAC-SHA256(key2, data)",
        required: ["data", "mac"],
        properties: { data: { type: "string" }, mac: { type: "string" }, type: { type: "integer" } },
      }),
    },
    responses: {
      "200": zaloPayReply(
        "1: recorded (or not a payment callback); 0: a transient failure, call back again",
        [1, 0],
      ),
      "400": zaloPayReply("the mac verifies but the data is not a ZaloPay payment callback", [-1]),
      "401": zaloPayReply("the mac does not verify (mac not equal)", [-1]),
      "413": tooLarge,
    },
  },
  payos: {
    summary: "payos notifications, verified over the raw body (also at /webhook/payos)",
    requestBody: {
      required: true,
      ...json({
        type: "object",
        description: "PayOS's webhook: signature = hex HMAC-SHA256(checksum key, data's keys sorted)",
        required: ["data", "signature"],
        properties: {
          code: { type: "string" },
          desc: { type: "string" },
          success: { type: "boolean" },
          data: { type: "object" },
          signature: { type: "string" },
        },
      }),
    },
    responses: {
      "200": {
        description: "received; handled is false for a signed data.code other than 00 (no money moved)",
        ...json({
          type: "object",
          required: ["success"],
          properties: { success: { const: true }, handled: { type: "boolean" } },
        }),
      },
      "400": webhookProblem("signed, but its data is not a PayOS payment this service can read"),
      "401": webhookProblem("the signature does not verify"),
      "413": tooLarge,
    },
  },
};

/** The OpenAPI 3.1 document of the API, generated from the same zod schemas the routes validate with. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "Payments API",
      version: "1.0.0",
      description:
        "An event-sourced payments service. Amounts are integers in the currency's minor unit; currencies lower-case ISO 4217. Errors are RFC 9457 problem+json.",
    },
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT (HS256; scope: payments:read payments:write)",
        },
      },
      schemas: {
        CreatePayment: schema(CreatePaymentBody),
        Capture: schema(CaptureBody),
        Refund: schema(RefundBody),
        Cancel: schema(CancelBody),
        PaymentView: schema(PaymentViewSchema),
        EventEnvelope: schema(EventEnvelope),
        Problem: schema(ProblemSchema),
        AttachPaymentMethod: schema(AttachPaymentMethodBody),
        SavedPaymentMethod: {
          type: "object",
          required: ["customerId", "gatewayCustomerId", "paymentMethodId", "default"],
          properties: {
            customerId: { type: "string" },
            gatewayCustomerId: { type: "string", description: "the Stripe Customer (cus_…)" },
            paymentMethodId: { type: "string" },
            default: { type: "boolean", description: "charged by order messages without a card token" },
          },
        },
      },
    },
    paths: {
      "/health": {
        get: {
          summary: "Liveness",
          responses: { "200": { description: "ok", ...json({ type: "object" }) } },
        },
      },
      "/payments": {
        post: {
          ...secured("payments:write"),
          summary:
            "Create a payment (a pre-authorization with captureMethod manual), or one that waits for a ZaloPay/PayOS webhook",
          parameters: [idempotencyKey],
          requestBody: { required: true, ...json(ref("CreatePayment")) },
          responses: {
            "201": { description: "created", ...json(ref("PaymentView")) },
            "200": {
              description: "the order's existing payment, same amount and currency",
              ...json(ref("PaymentView")),
            },
            ...problems(400, 401, 403, 409, 413, 422, 503),
          },
        },
        get: {
          ...secured("payments:read"),
          summary:
            "Find payments by orderId, or by customerId (newest first, from the read model, cursor-paginated)",
          parameters: [
            { name: "orderId", in: "query", schema: { type: "string" } },
            { name: "customerId", in: "query", schema: { type: "string" } },
            { name: "cursor", in: "query", schema: { type: "string" } },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100 } },
          ],
          responses: {
            "200": {
              description: "{items, nextCursor?}",
              ...json({
                type: "object",
                properties: {
                  items: { type: "array", items: ref("PaymentView") },
                  nextCursor: { type: "string" },
                },
              }),
            },
            ...problems(400, 401, 403),
          },
        },
      },
      "/payments/{id}": {
        get: {
          ...secured("payments:read"),
          summary: "The payment view, folded from its events",
          parameters: [paymentId],
          responses: {
            "200": { description: "the payment view", ...json(ref("PaymentView")) },
            ...problems(400, 401, 403, 404),
          },
        },
      },
      "/payments/{id}/events": {
        get: {
          ...secured("payments:read"),
          summary: "The event stream in version order",
          parameters: [paymentId],
          responses: {
            "200": {
              description: "{items}",
              ...json({
                type: "object",
                properties: { items: { type: "array", items: ref("EventEnvelope") } },
              }),
            },
            ...problems(400, 401, 403, 404),
          },
        },
      },
      "/payments/{id}/capture": { post: command("Collect a held payment, in full or in part", "Capture") },
      "/payments/{id}/refund": { post: command("Refund captured money, in full or in part", "Refund") },
      "/payments/{id}/cancel": { post: command("Release a hold that was never captured", "Cancel") },
      "/customers/{id}/payment-methods": {
        post: {
          ...secured("payments:write"),
          summary:
            "Save a payment method for a customer (its Stripe Customer made on first use); the default is charged by order messages without a card token",
          parameters: [
            {
              name: "id",
              in: "path",
              required: true,
              schema: { type: "string", minLength: 1, maxLength: 255 },
            },
          ],
          requestBody: { required: true, ...json(ref("AttachPaymentMethod")) },
          responses: {
            "200": { description: "the saved method", ...json(ref("SavedPaymentMethod")) },
            ...problems(400, 401, 403, 404, 413, 503),
          },
        },
      },
      "/webhooks/stripe": { post: WEBHOOKS.stripe },
      "/webhooks/zalopay": { post: WEBHOOKS.zalopay },
      "/webhooks/payos": { post: WEBHOOKS.payos },
    },
  };
}
