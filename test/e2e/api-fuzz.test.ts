import { randomUUID } from "node:crypto";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import { type LocalStack, linkedEnvironment, type StripeProxy, startStripeProxy } from "@payments/local";
import fc from "fast-check";
import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silenceConsole } from "../helpers/output";
import { propertyRuns } from "../helpers/property";
import { stackClients, testStack } from "../helpers/stack";

/**
 * Fuzzed and malformed input on every route of the API (SPEC §10): malformed bodies, headers,
 * tokens and signatures. Nothing a caller sends gets a 5xx, and a refused request appends nothing.
 */
const stack: LocalStack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
let proxy: StripeProxy;
let app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
let tokens: string[];
let target: { paymentId: string; events: number };
let restoreConsole: () => void;
const counts = { requests: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  restoreConsole = silenceConsole();
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_DEV: "true",
  });
  ({ app } = await import("@payments/functions/api"));
  const { issueToken } = await import("@payments/functions/api/auth");
  const secret = stack.secretValues.JwtSecret;
  const now = Math.floor(Date.now() / 1000);
  tokens = [
    await issueToken(secret),
    await issueToken(secret, { scopes: ["payments:read"] }),
    await sign({ sub: "x", scope: "payments:write", exp: now - 5 }, secret, "HS256"),
    await sign({ sub: "x", scope: "payments:write", exp: now + 600 }, "wrong", "HS256"),
    "garbage",
  ];
  const response = await app.request("/payments", {
    method: "POST",
    headers: { authorization: `Bearer ${tokens[0]}`, "content-type": "application/json" },
    body: JSON.stringify({
      orderId: `ord-fuzz-${randomUUID()}`,
      amount: 10_000,
      currency: "usd",
      paymentMethodId: "pm_card_visa",
      captureMethod: "manual",
    }),
  });
  const paymentId = ((await response.json()) as { paymentId: string }).paymentId;
  target = { paymentId, events: (await store.load(paymentId)).length };
});
afterAll(async () => {
  restoreConsole();
  await proxy.stop();
  for (const client of Object.values(clients)) client.destroy();
  console.log(
    `api fuzz: ${counts.requests} requests; statuses ${[...counts.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(" ")}; ${accountedFor} event(s) appended to the target by accepted actions`,
  );
});

/** JSON-ish values a caller might send where a field belongs. */
const hostile = fc.oneof(
  fc.constantFrom(
    null,
    true,
    "",
    "0",
    "-1",
    "1e999",
    "NaN",
    1.5,
    -1,
    0,
    2 ** 53,
    1e308,
    "USD",
    "x".repeat(300),
    "\u0000",
    [],
    {},
  ),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const validCreate = () => ({
  orderId: `ord-fuzz-${randomUUID()}`,
  amount: 2_599,
  currency: "usd",
  paymentMethodId: "pm_card_visa",
  captureMethod: "manual",
});
/** A valid body with one field replaced, removed or added: refusals right at the edge of validity. */
const mutatedCreate = fc
  .tuple(
    fc.constantFrom(
      "orderId",
      "amount",
      "currency",
      "paymentMethodId",
      "captureMethod",
      "provider",
      "billingAddress",
      "surprise",
    ),
    fc.option(hostile, { nil: undefined }),
  )
  .map(([field, value]) => {
    const body: Record<string, unknown> = validCreate();
    if (value === undefined) delete body[field];
    else body[field] = value;
    return JSON.stringify(body);
  });
const rawBody = fc.oneof(
  { weight: 4, arbitrary: mutatedCreate },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", "{", "[", '{"amount":1,"amount":2}', "null", "x".repeat(70_000)),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ amount: hostile, reason: fc.option(hostile, { nil: undefined }) })
      .map((v) => JSON.stringify(v)),
  },
);
const paymentPath = fc.oneof(
  fc.constant(() => target.paymentId),
  fc.constantFrom("pay_unknown", "%20", "..", "a".repeat(65), "pay_%00").map((s) => () => s),
);
const route = fc.oneof(
  fc.constant({ method: "POST", path: () => "/payments" }),
  fc.tuple(paymentPath, fc.constantFrom("capture", "refund", "cancel")).map(([id, action]) => ({
    method: "POST",
    path: () => `/payments/${id()}/${action}`,
  })),
  paymentPath.map((id) => ({ method: "GET", path: () => `/payments/${id()}` })),
  paymentPath.map((id) => ({ method: "GET", path: () => `/payments/${id()}/events` })),
  fc
    .constantFrom(
      "?orderId=",
      "?customerId=x",
      "?orderId=a&customerId=b",
      "?limit=-1",
      "",
      "?orderId=%00",
      "?customerId=x&cursor=bm9uc2Vuc2U",
      "?customerId=x&limit=1000",
    )
    .map((q) => ({ method: "GET", path: () => `/payments${q}` })),
  fc
    .constantFrom("stripe", "zalopay", "payos")
    .chain((provider) =>
      fc
        .constantFrom("/webhooks/", "/webhook/")
        .map((prefix) => ({ method: "POST", path: () => `${prefix}${provider}` })),
    ),
  fc.constantFrom("DELETE", "PUT", "PATCH").map((method) => ({ method, path: () => "/payments" })),
);
const headers = fc.record({
  // Mostly a valid token, so that most requests get past auth to validation and the store.
  token: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.constantFrom(2, 3, 4, undefined) },
  ),
  contentType: fc.constantFrom(
    "application/json",
    "text/plain",
    undefined,
    "application/json; charset=utf-8",
  ),
  idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.constantFrom("", "k".repeat(300), "spaced key")), {
    nil: undefined,
  }),
  signature: fc.option(
    fc.string({ maxLength: 120 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    { nil: undefined },
  ),
});

/** What an accepted capture, refund or cancel appends to the payment, as SPEC §2 names the events. */
const ACTION_EVENTS = {
  capture: [["PaymentCaptured"]],
  cancel: [["PaymentCanceled"]],
  refund: [["PaymentRefundRequested", "PaymentRefunded"]],
} as const;
/** Events appended to the target by accepted actions on it. */
let accountedFor = 0;

describe("the API under fuzzed input", () => {
  it("never answers 5xx, and appends nothing for a refused request", async () => {
    await fc.assert(
      fc.asyncProperty(route, rawBody, headers, async (r, body, h) => {
        const path = r.path();
        const init: RequestInit = { method: r.method, headers: {} };
        const hs = init.headers as Record<string, string>;
        if (h.token !== undefined) hs.authorization = `Bearer ${tokens[h.token]}`;
        if (h.contentType) hs["content-type"] = h.contentType;
        if (h.idempotencyKey !== undefined) hs["idempotency-key"] = h.idempotencyKey;
        if (h.signature !== undefined) hs["stripe-signature"] = h.signature;
        if (r.method !== "GET") init.body = body;
        const before = (await store.load(target.paymentId)).length;
        const orderId = (() => {
          try {
            return (JSON.parse(body) as { orderId?: unknown }).orderId;
          } catch {
            return undefined;
          }
        })();
        const claimable =
          typeof orderId === "string" && orderId.length > 0 && orderId.length < 256 ? orderId : undefined;
        // An earlier accepted request of the run may hold the order id already: compare with before.
        const ownerBefore = claimable
          ? await store.findOwner({ kind: "orderId", value: claimable })
          : undefined;
        const response = await app.request(path, init);
        counts.requests += 1;
        counts.byStatus.set(response.status, (counts.byStatus.get(response.status) ?? 0) + 1);
        const text = await response.text();
        expect(
          response.status,
          `${r.method} ${path} ${body.slice(0, 200)} → ${text.slice(0, 300)}`,
        ).toBeLessThan(500);
        expect(text).not.toMatch(/at .+\.(ts|js):\d+/);
        const action =
          r.method === "POST" && path.startsWith(`/payments/${target.paymentId}/`)
            ? path.split("/")[3]
            : undefined;
        if (response.status < 300 && action) {
          // An accepted action on the target appends what that action makes, or nothing (a repeat).
          const appended = (await store.load(target.paymentId)).slice(before).map((e) => e.type);
          expect([[], ...ACTION_EVENTS[action as keyof typeof ACTION_EVENTS]]).toContainEqual(appended);
          accountedFor += appended.length;
        }
        if (response.status >= 400) {
          expect(response.headers.get("content-type") ?? "").toMatch(/json/);
          expect((await store.load(target.paymentId)).length).toBe(before);
          if (claimable) {
            expect(await store.findOwner({ kind: "orderId", value: claimable })).toBe(ownerBefore);
          }
        }
      }),
      propertyRuns(3_000),
    );
    // The target holds exactly its own events and what the accepted actions on it appended: nothing
    // else (a refused request, a GET, another payment's request) added to it.
    expect((await store.load(target.paymentId)).length).toBe(target.events + accountedFor);
  }, 600_000);
});
