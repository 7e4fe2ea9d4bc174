import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import { type LocalStack, linkedEnvironment, type StripeProxy, startStripeProxy } from "@payments/local";
import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silenceConsole } from "../helpers/output";
import { stackClients, testStack } from "../helpers/stack";

const stack: LocalStack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
let proxy: StripeProxy;
let app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
let issueToken: typeof import("@payments/functions/api/auth").issueToken;
let token: string;
let readOnly: string;
let restoreConsole: () => void;

beforeAll(async () => {
  restoreConsole = silenceConsole();
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_DEV: "true",
  });
  ({ app } = await import("@payments/functions/api"));
  ({ issueToken } = await import("@payments/functions/api/auth"));
  token = await issueToken(stack.secretValues.JwtSecret);
  readOnly = await issueToken(stack.secretValues.JwtSecret, { subject: "viewer", scopes: ["payments:read"] });
});
afterAll(async () => {
  restoreConsole();
  await proxy.stop();
  for (const client of Object.values(clients)) client.destroy();
});

const orderId = () => `ord-${randomUUID()}`;
const authed = (bearer = token, headers: Record<string, string> = {}) => ({
  authorization: `Bearer ${bearer}`,
  "content-type": "application/json",
  ...headers,
});
async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = authed(),
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await app.request(path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}
const createBody = (extra: Record<string, unknown> = {}) => ({
  orderId: orderId(),
  customerId: `cus-${randomUUID().slice(0, 8)}`,
  amount: 10_000,
  currency: "usd",
  paymentMethodId: "pm_card_visa",
  captureMethod: "manual",
  billingAddress: { street: "1 Main St", city: "Springfield", state: "IL", zip: "62701" },
  ...extra,
});
const ledgerOf = (order: string) =>
  proxy.ledger().byOrder.get(order) ?? { intents: 0, authorizations: 0, charges: 0, refunds: 0 };

describe("the REST API: payments", () => {
  it("continues a POST /payments retried after a 503 from its last recorded step, charging once", async () => {
    const body = createBody({ captureMethod: "automatic" });
    proxy.injectFaults([{ orderId: body.orderId, pathIncludes: "/confirm", respond: 503, times: 1 }]);
    const first = await call("POST", "/payments", body);
    expect(first.status).toBe(503);
    // The fault fired: the intent was created and recorded, its confirm answered 503.
    expect(proxy.calls().filter((c) => c.orderId === body.orderId && c.fault === 503)).toHaveLength(1);
    const retried = await call("POST", "/payments", body);
    expect(retried).toMatchObject({ status: 200, body: { status: "captured", amountCaptured: 10_000 } });
    expect(ledgerOf(body.orderId)).toEqual({ intents: 1, authorizations: 0, charges: 1, refunds: 0 });
  });

  it("pre-authorizes, captures part of the hold, and refunds it in two parts", async () => {
    const body = createBody();
    const created = await call("POST", "/payments", body);
    expect(created.status).toBe(201);
    expect(created.headers.get("x-request-id")).toBeTruthy();
    expect(created.body).toMatchObject({
      orderId: body.orderId,
      status: "authorized",
      amount: 10_000,
      currency: "usd",
      captureMethod: "manual",
      amountCaptured: 0,
      transactionId: `txn-${created.body.paymentId}`,
      fraud: { decision: "approve" },
      gatewayResponse: { status: "authorized", authorizationCode: "123456" },
      flags: [],
    });
    const id = created.body.paymentId as string;
    const captured = await call("POST", `/payments/${id}/capture`, { amount: 6_000 });
    expect(captured).toMatchObject({ status: 200, body: { status: "captured", amountCaptured: 6_000 } });
    const first = await call("POST", `/payments/${id}/refund`, { amount: 1_000, reason: "damaged" });
    expect(first).toMatchObject({
      status: 200,
      body: { status: "partially_refunded", amountRefunded: 1_000 },
    });
    const second = await call("POST", `/payments/${id}/refund`, { amount: 5_000 });
    expect(second).toMatchObject({ status: 200, body: { status: "refunded", amountRefunded: 6_000 } });
    expect(ledgerOf(body.orderId)).toEqual({ intents: 1, authorizations: 1, charges: 1, refunds: 2 });

    const fetched = await call("GET", `/payments/${id}`, undefined, authed(readOnly));
    expect(fetched.body).toEqual(second.body);
    const events = await call("GET", `/payments/${id}/events`, undefined, authed(readOnly));
    expect((events.body.items as Array<{ type: string; version: number }>).map((e) => e.type)).toEqual([
      "PaymentInitiated",
      "PaymentScreened",
      "PaymentIntentCreated",
      "PaymentAuthorized",
      "PaymentCaptured",
      "PaymentRefundRequested",
      "PaymentRefunded",
      "PaymentRefundRequested",
      "PaymentRefunded",
    ]);
    const byOrder = await call(
      "GET",
      `/payments?orderId=${encodeURIComponent(body.orderId)}`,
      undefined,
      authed(readOnly),
    );
    expect(byOrder.body).toEqual({ items: [second.body] });
  });

  it("charges at once with automatic capture, and answers the same order again with 200 and the same payment", async () => {
    const body = createBody({ captureMethod: "automatic" });
    const created = await call("POST", "/payments", body);
    expect(created).toMatchObject({ status: 201, body: { status: "captured", amountCaptured: 10_000 } });
    const again = await call("POST", "/payments", body);
    expect(again).toMatchObject({ status: 200, body: { paymentId: created.body.paymentId } });
    const other = await call("POST", "/payments", { ...body, amount: 5_000 });
    expect(other).toMatchObject({ status: 409, body: { type: "/problems/order-conflict" } });
    expect(ledgerOf(body.orderId).charges).toBe(1);
  });

  it("refuses to refund more than was captured, with 409 and the rule", async () => {
    const created = await call("POST", "/payments", createBody({ captureMethod: "automatic" }));
    const id = created.body.paymentId as string;
    const over = await call("POST", `/payments/${id}/refund`, { amount: 10_001 });
    expect(over.status).toBe(409);
    expect(over.headers.get("content-type")).toContain("application/problem+json");
    expect(over.body).toMatchObject({ status: 409, rule: "refund_exceeds_captured" });
    const twice = await call("POST", `/payments/${id}/capture`, {});
    expect(twice.body).toMatchObject({ status: 409, rule: "capture_requires_authorized" });
    const cancel = await call("POST", `/payments/${id}/cancel`, {});
    expect(cancel.body).toMatchObject({ status: 409, rule: "cancel_after_capture" });
  });

  it("lets exactly one of four concurrent refunds through when together they exceed the capture", async () => {
    const body = createBody({ captureMethod: "automatic" });
    const id = (await call("POST", "/payments", body)).body.paymentId as string;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => call("POST", `/payments/${id}/refund`, { amount: 6_000 })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    // Each 409 is our own rule, holding back what is pending, not the Stripe proxy's over-refund check:
    // only the one refund that was let through ever reached Stripe.
    for (const refused of results.filter((r) => r.status === 409))
      expect(refused.body).toMatchObject({
        type: "/problems/lifecycle-rule",
        rule: "refund_exceeds_captured",
      });
    const refundCalls = proxy.calls().filter((c) => c.paymentId === id && c.path.startsWith("/v1/refunds"));
    expect(refundCalls.map((c) => c.method)).toEqual(["POST"]);
    const view = await call("GET", `/payments/${id}`);
    expect(view.body).toMatchObject({ amountRefunded: 6_000, status: "partially_refunded" });
    expect(ledgerOf(body.orderId).refunds).toBe(1);
  });

  it("carries the caller's X-Correlation-Id into the events' metadata, and the request id as causation", async () => {
    const correlation = `checkout-${randomUUID()}`;
    const created = await call(
      "POST",
      "/payments",
      createBody(),
      authed(token, { "x-correlation-id": correlation }),
    );
    const events = await store.load(created.body.paymentId as string);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      expect(event.metadata).toMatchObject({
        correlationId: correlation,
        causationId: created.headers.get("x-request-id"),
        source: "api",
      });
    }
  });

  it("releases an uncaptured hold", async () => {
    const id = (await call("POST", "/payments", createBody())).body.paymentId as string;
    const canceled = await call("POST", `/payments/${id}/cancel`, { reason: "customer changed their mind" });
    expect(canceled).toMatchObject({ status: 200, body: { status: "canceled" } });
  });

  it("records a declined card as a failed payment", async () => {
    const body = createBody({ paymentMethodId: "pm_card_chargeDeclined" });
    const created = await call("POST", "/payments", body);
    expect(created).toMatchObject({ status: 201, body: { status: "failed" } });
    expect(ledgerOf(body.orderId).charges).toBe(0);
  });

  it("creates a ZaloPay payment that waits for its webhook", async () => {
    const created = await call("POST", "/payments", {
      orderId: orderId(),
      amount: 100_000,
      currency: "vnd",
      provider: "zalopay",
      providerReference: `251123_${randomUUID().slice(0, 8)}`,
    });
    expect(created).toMatchObject({ status: 201, body: { status: "initiated", provider: "zalopay" } });
  });

  it("answers a lookup by a customer with no payments with an empty list", async () => {
    const response = await call("GET", `/payments?customerId=cus-${randomUUID()}`);
    expect(response).toMatchObject({ status: 200, body: { items: [] } });
  });

  it("answers 404 for an unknown payment, and 400 for an id that cannot be one", async () => {
    expect((await call("GET", "/payments/pay_unknown")).status).toBe(404);
    expect((await call("GET", "/payments/not%20an%20id")).status).toBe(400);
    expect((await call("POST", "/payments/pay_unknown/capture", {})).status).toBe(404);
  });
});

describe("the REST API: requests it refuses", () => {
  it.each([
    ["malformed JSON", "{", 400],
    ["an unknown field", { ...createBody(), surprise: true }, 400],
    ["an amount in major units", { ...createBody(), amount: 25.99 }, 400],
    ["an upper-case currency", { ...createBody(), currency: "USD" }, 400],
    ["a zero amount", { ...createBody(), amount: 0 }, 400],
    ["an amount over Stripe's ceiling", { ...createBody(), amount: 100_000_000 }, 400],
    ["neither a card nor a provider", { ...createBody(), paymentMethodId: undefined }, 400],
    ["an array", [1, 2], 400],
    ["a body over 64 KB", { ...createBody(), metadata: { note: "x".repeat(70_000) } }, 413],
  ])("%s → %i problem+json, nothing appended", async (_, body, status) => {
    const response = await call("POST", "/payments", body);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
    expect(response.headers.get("x-request-id")).toMatch(/^[\w-]{8,}$/);
    expect(response.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
    const order =
      typeof body === "object" && !Array.isArray(body) ? (body as { orderId?: string }).orderId : undefined;
    if (order) expect(await store.findOwner({ kind: "orderId", value: order })).toBeUndefined();
  });

  it("needs exp and sub in every token: one without either is 401, so no two callers share an Idempotency-Key space", async () => {
    const secret = stack.secretValues.JwtSecret;
    const now = Math.floor(Date.now() / 1000);
    const scope = "payments:read payments:write";
    for (const claims of [
      { sub: "x", scope },
      { scope, exp: now + 60 },
      { sub: "", scope, exp: now + 60 },
    ]) {
      const token = await sign(claims, secret, "HS256");
      const response = await call("GET", "/payments/pay_x", undefined, {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      });
      expect(response.status, JSON.stringify(claims)).toBe(401);
      expect(response.body).toMatchObject({ type: "/problems/unauthorized" });
    }
    // The same token with both claims is let through (to the 404 of a payment that does not exist).
    const whole = await sign({ sub: "x", scope, exp: now + 60 }, secret, "HS256");
    expect(
      (await call("GET", "/payments/pay_x", undefined, { authorization: `Bearer ${whole}` })).status,
    ).toBe(404);
  });

  it("checks iss and aud when JWT_ISSUER and JWT_AUDIENCE are set: another issuer or audience is 401", async () => {
    const secret = stack.secretValues.JwtSecret;
    const now = Math.floor(Date.now() / 1000);
    const base = { sub: "x", scope: "payments:read", exp: now + 60 };
    const saved = { issuer: process.env.JWT_ISSUER, audience: process.env.JWT_AUDIENCE };
    Object.assign(process.env, { JWT_ISSUER: "payments-test", JWT_AUDIENCE: "payments-api" });
    try {
      const statuses: Record<string, number> = {};
      for (const [name, claims] of Object.entries({
        neither: base,
        otherIssuer: { ...base, iss: "elsewhere", aud: "payments-api" },
        otherAudience: { ...base, iss: "payments-test", aud: "another-api" },
        noAudience: { ...base, iss: "payments-test" },
        both: { ...base, iss: "payments-test", aud: "payments-api" },
        audienceInList: { ...base, iss: "payments-test", aud: ["other", "payments-api"] },
      })) {
        const token = await sign(claims, secret, "HS256");
        statuses[name] = (
          await call("GET", "/payments/pay_x", undefined, { authorization: `Bearer ${token}` })
        ).status;
      }
      // 404: let through to a payment that does not exist.
      expect(statuses).toEqual({
        neither: 401,
        otherIssuer: 401,
        otherAudience: 401,
        noAudience: 401,
        both: 404,
        audienceInList: 404,
      });
    } finally {
      for (const [name, value] of [
        ["JWT_ISSUER", saved.issuer],
        ["JWT_AUDIENCE", saved.audience],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("needs a valid HS256 bearer token: none, a bad signature, another algorithm or an expired one → 401", async () => {
    const secret = stack.secretValues.JwtSecret;
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: "x", scope: "payments:read payments:write", exp: now + 60 };
    const tokens = [
      undefined,
      "not-a-jwt",
      await sign(claims, "another-secret", "HS256"),
      await sign(claims, secret, "HS512"),
      await sign({ ...claims, exp: now - 10 }, secret, "HS256"),
      // alg "none": header {"alg":"none"}, no signature.
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`,
    ];
    for (const bearer of tokens) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      const response = await call("GET", "/payments/pay_x", undefined, headers);
      expect(response.status, String(bearer)).toBe(401);
      expect(response.body).toMatchObject({ type: "/problems/unauthorized" });
    }
  });

  it("needs the write scope to act: a read-only token gets 403 and nothing is appended", async () => {
    const body = createBody();
    const response = await call("POST", "/payments", body, authed(readOnly));
    expect(response).toMatchObject({ status: 403, body: { type: "/problems/forbidden" } });
    expect(await store.findOwner({ kind: "orderId", value: body.orderId })).toBeUndefined();
  });

  it("serves /openapi.json and /docs without a token", async () => {
    const spec = await app.request("/openapi.json");
    expect(spec.status).toBe(200);
    expect(((await spec.json()) as { openapi: string }).openapi).toBe("3.1.0");
    const docs = await app.request("/docs");
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(await docs.text()).toContain("Payments API");
  });

  it("answers /health without a token", async () => {
    expect(await call("GET", "/health", undefined, {})).toMatchObject({
      status: 200,
      body: { status: "ok" },
    });
  });
});

describe("the REST API: Idempotency-Key", () => {
  it("replays the first response for the same key and body, and charges once", async () => {
    const body = createBody({ captureMethod: "automatic" });
    const key = { "idempotency-key": randomUUID() };
    const first = await call("POST", "/payments", body, authed(token, key));
    const again = await call("POST", "/payments", body, authed(token, key));
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(ledgerOf(body.orderId).charges).toBe(1);
  });

  it("refuses the same key with another body: 422 idempotency_key_reused", async () => {
    const key = { "idempotency-key": randomUUID() };
    await call("POST", "/payments", createBody(), authed(token, key));
    const reused = await call("POST", "/payments", createBody(), authed(token, key));
    expect(reused).toMatchObject({ status: 422, body: { type: "/problems/idempotency_key_reused" } });
  });

  it("answers 409 while the first request with the key is still running", async () => {
    const body = createBody({ captureMethod: "automatic" });
    proxy.injectFaults([{ orderId: body.orderId, respond: "slow", delayMs: 600, times: 1 }]);
    const key = { "idempotency-key": randomUUID() };
    const first = call("POST", "/payments", body, authed(token, key));
    await new Promise((resolve) => setTimeout(resolve, 250));
    const during = await call("POST", "/payments", body, authed(token, key));
    expect(during).toMatchObject({ status: 409, body: { type: "/problems/idempotency-key-in-progress" } });
    expect((await first).status).toBe(201);
    expect(ledgerOf(body.orderId).charges).toBe(1);
  });

  it("scopes keys to the caller and the route: the same key elsewhere is a new request", async () => {
    const key = randomUUID();
    const a = await call("POST", "/payments", createBody(), authed(token, { "idempotency-key": key }));
    const other = await issueToken(stack.secretValues.JwtSecret, { subject: "another-caller" });
    const b = await call("POST", "/payments", createBody(), authed(other, { "idempotency-key": key }));
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.paymentId).not.toBe(a.body.paymentId);
    const refund = await call(
      "POST",
      `/payments/${a.body.paymentId}/capture`,
      {},
      authed(token, { "idempotency-key": key }),
    );
    expect(refund.status).toBe(200);
  });

  it("continues the same refund when a refund request is retried with its key", async () => {
    const body = createBody({ captureMethod: "automatic" });
    const id = (await call("POST", "/payments", body)).body.paymentId as string;
    const key = { "idempotency-key": randomUUID() };
    proxy.injectFaults([{ orderId: body.orderId, pathIncludes: "/v1/refunds", respond: 503, times: 1 }]);
    const failed = await call("POST", `/payments/${id}/refund`, { amount: 2_500 }, authed(token, key));
    expect(failed).toMatchObject({ status: 503, body: { type: "/problems/gateway-unavailable" } });
    expect(failed.headers.get("retry-after")).toBe("2");
    const retried = await call("POST", `/payments/${id}/refund`, { amount: 2_500 }, authed(token, key));
    expect(retried).toMatchObject({ status: 200, body: { amountRefunded: 2_500 } });
    expect(ledgerOf(body.orderId).refunds).toBe(1);
  });
});

describe("the REST API over real HTTP (@hono/node-server)", () => {
  it("serves the same app on a socket", async () => {
    const server = serve({
      fetch: (app as unknown as { fetch: (r: Request) => Response }).fetch,
      port: 0,
      hostname: "127.0.0.1",
    });
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const url = `http://127.0.0.1:${port}`;
      const created = await fetch(`${url}/payments`, {
        method: "POST",
        headers: authed(),
        body: JSON.stringify(createBody({ captureMethod: "automatic" })),
      });
      expect(created.status).toBe(201);
      const view = (await created.json()) as { paymentId: string };
      const refunded = await fetch(`${url}/payments/${view.paymentId}/refund`, {
        method: "POST",
        headers: authed(),
        body: "{}",
      });
      expect(await refunded.json()).toMatchObject({ status: "refunded", amountRefunded: 10_000 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
