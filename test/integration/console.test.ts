import { Logger } from "@aws-lambda-powertools/logger";
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  createDynamoEventStore,
  createOrderFailureNotes,
  createOutboxDeliveries,
  createReadModelStore,
} from "@payments/adapters/dynamodb";
import { createCommandHandler, foldPaymentView, type RecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { issueToken } from "@payments/functions/api/auth";
import { createConsoleApp } from "@payments/functions/console/app";
import { createOrderDlq } from "@payments/functions/console/order-dlq";
import { createPaymentService } from "@payments/functions/payments/payment-service";
import { createProjector } from "@payments/functions/projector/project";
import { ensureTable } from "@payments/local";
import { outboxTable, readModelTable } from "@payments/topology";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually";
import { sampleEvent } from "../helpers/fixtures";
import { freshQueues } from "../helpers/queues";
import { stackClients, testStack } from "../helpers/stack";

/**
 * The console's routes in process, on the test stack's DynamoDB Local and moto: sign-in and its
 * cookie, where a sign-in may send you, scopes, problems as pages or JSON, search by customer from
 * the read model, and the order DLQ's listing and redrive. The browser tests (test/e2e) drive the
 * same pages in Chromium against `npm run dev`.
 */
const stack = testStack();
const clients = stackClients();
const SECRET = "console-test-secret";
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const readModels = createReadModelStore({
  client: clients.dynamodb,
  tableName: stack.tables.readModels,
  transactionLogTableName: stack.tables.transactionLog,
});
const notes = createOrderFailureNotes({ client: clients.dynamodb, tableName: stack.tables.readModels });
let queues: Awaited<ReturnType<typeof freshQueues>>;
/** The console's own outbox table: the delivery page's counts are this file's alone. */
const outboxTableName = `outbox-console-${ulid().slice(-8).toLowerCase()}`;
const deliveries = createOutboxDeliveries({ client: clients.dynamodb, tableName: outboxTableName });
let redrives = 0;
/** Verify runs: each waits for {@link releaseVerify} when a test holds it. */
let verifies = 0;
let verifyGate: Promise<void> = Promise.resolve();
let releaseVerify = () => {};
/** The payments the Needs attention page asked the reconciler's settle about. */
const settled: string[] = [];
let app: ReturnType<typeof createConsoleApp>;
let writer: string;
let reader: string;

beforeAll(async () => {
  queues = await freshQueues(clients.sqs);
  await ensureTable(clients.dynamodb, outboxTable, outboxTableName);
  app = createConsoleApp(consoleDeps());
  writer = await issueToken(SECRET, { subject: "writer" });
  reader = await issueToken(SECRET, { subject: "reader", scopes: ["payments:read"] });
});

/** The console's dependencies on the test stack; verify and redrive count their calls. */
function consoleDeps(): Parameters<typeof createConsoleApp>[0] {
  return {
    jwtSecret: () => SECRET,
    store: () => store,
    readModels: () => readModels,
    deliveries: () => deliveries,
    redriveDeliveries: async () => {
      redrives += 1;
      return { requeued: 0, sweep: { swept: 0, caughtUp: 0, stillBehind: 0, failed: 0, published: 0 } };
    },
    orderDlq: () =>
      createOrderDlq({ sqs: clients.sqs, dlqUrl: queues.dlq.url, queueUrl: queues.main.url, notes }),
    verify: async () => {
      verifies += 1;
      await verifyGate;
      return { payments: 3, events: 12, seconds: 0.5, written: 0, corrupt: [], differing: [] };
    },
    attention: () => ({
      settle: async (paymentId) => {
        settled.push(paymentId);
        return { kind: "in_progress", reason: "still waiting at the provider" };
      },
      handle: createCommandHandler(store, { newId: ulid }),
      // The service's own refund; a manual refund touches no gateway, so none is given.
      refund: createPaymentService({
        store,
        handle: createCommandHandler(store, { newId: ulid }),
        newPaymentId: () => `pay_${ulid()}`,
        ...({} as Pick<
          Parameters<typeof createPaymentService>[0],
          "gateway" | "charge" | "zalopay" | "payos"
        >),
      }).refund,
    }),
    reconcileAfterMs: 600_000,
    logger: new Logger({ serviceName: "test", logLevel: "SILENT" }),
  };
}

afterAll(() => {
  for (const client of Object.values(clients)) client.destroy();
});

const bearer = (token: string, extra: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${token}`, ...extra },
});

/** The sign-in form as the console's own page posts it: from this origin. */
const signInForm = (fields: Record<string, string>, origin = "http://console.test") =>
  app.request("http://console.test/console/sign-in", {
    method: "POST",
    headers: { host: "console.test", origin, accept: "text/html" },
    body: new URLSearchParams(fields),
  });

describe("the console's sign-in", () => {
  it("sends a visitor without a token to the sign-in page, and back to where they were going", async () => {
    const response = await app.request("/console/dlq");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/console/sign-in?next=%2Fconsole%2Fdlq");

    const signIn = await signInForm({ token: writer, next: "/console/dlq" });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get("location")).toBe("/console/dlq");
    const cookie = signIn.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^console_token=/);
    for (const attribute of ["HttpOnly", "SameSite=Strict", "Path=/console"])
      expect(cookie).toContain(attribute);

    const page = await app.request("/console/dlq", { headers: { cookie: cookie.split(";")[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Order dead-letter queue");
  });

  it.each([
    "https://elsewhere.example/",
    "//elsewhere.example",
    "/payments",
    "/console//elsewhere.example",
    "/console/../payments",
    "/console/%2e%2e/payments",
    "/console/./../openapi.json",
    "/\\elsewhere.example",
  ])("never sends a signed-in person to %s: only to the console's own pages", async (next) => {
    const response = await signInForm({ token: writer, next });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/console");
  });

  it("keeps a console path with its query, resolved", async () => {
    const response = await signInForm({ token: writer, next: "/console/./dlq?x=1" });
    expect(response.headers.get("location")).toBe("/console/dlq?x=1");
  });

  it("refuses a sign-in posted from another site, or with no Origin (login CSRF), and sets no cookie", async () => {
    for (const origin of ["https://elsewhere.example", "null", ""]) {
      const response = await app.request("http://console.test/console/sign-in", {
        method: "POST",
        headers: { host: "console.test", accept: "application/json", ...(origin ? { origin } : {}) },
        body: new URLSearchParams({ token: writer }),
      });
      expect({ origin, status: response.status }).toEqual({ origin, status: 403 });
      expect(await response.json()).toMatchObject({ type: "/problems/cross-site" });
      expect(response.headers.get("set-cookie")).toBeNull();
    }
  });

  it("refuses a token whose iss or aud is not the configured one, and takes one that has both", async () => {
    const strict = createConsoleApp({
      ...consoleDeps(),
      expectedClaims: () => ({ issuer: "payments-test", audience: "payments-console" }),
    });
    const attempts = {
      none: await issueToken(SECRET, { subject: "a", issuer: "", audience: "" }),
      otherIssuer: await issueToken(SECRET, {
        subject: "a",
        issuer: "elsewhere",
        audience: "payments-console",
      }),
      otherAudience: await issueToken(SECRET, { subject: "a", issuer: "payments-test", audience: "other" }),
      both: await issueToken(SECRET, { subject: "a", issuer: "payments-test", audience: "payments-console" }),
    };
    const statuses = Object.fromEntries(
      await Promise.all(
        Object.entries(attempts).map(async ([name, token]) => [
          name,
          (await strict.request("/console/payments", bearer(token, { accept: "application/json" }))).status,
        ]),
      ),
    );
    // A page asked for without a session that signs in is a redirect to the sign-in page.
    expect(statuses).toEqual({ none: 303, otherIssuer: 303, otherAudience: 303, both: 200 });
  });

  it("refuses a token it cannot verify, and one without payments:read", async () => {
    const forged = await issueToken("another-secret");
    const refused = await signInForm({ token: forged });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("set-cookie")).toBeNull();
    expect(await refused.text()).toContain("That token does not sign you in");

    const noScope = await issueToken(SECRET, { scopes: [] });
    const response = await app.request("/console/payments", bearer(noScope, { accept: "application/json" }));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ type: "/problems/forbidden" });
  });
});

describe("the console's pages", () => {
  it("answers an unknown payment with the API's problem: a page for people, JSON for scripts", async () => {
    const page = await app.request("/console/payments/pay_nope", bearer(reader, { accept: "text/html" }));
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toContain("text/html");
    const text = await page.text();
    expect(text).toContain("No such payment");
    expect(text).toContain("/problems/payment-not-found");

    const json = await app.request(
      "/console/payments/pay_nope",
      bearer(reader, { accept: "application/json" }),
    );
    expect(json.status).toBe(404);
    expect(json.headers.get("content-type")).toBe("application/problem+json");
    expect(await json.json()).toMatchObject({ type: "/problems/payment-not-found", status: 404 });
  });

  it("answers an id that is no payment id, or an oversized form, with a problem: nothing reaches the store", async () => {
    const long = await app.request(
      `/console/payments/pay_${"x".repeat(3000)}`,
      bearer(reader, { accept: "application/json" }),
    );
    expect(long.status).toBe(404);
    expect(await long.json()).toMatchObject({ type: "/problems/payment-not-found" });
    const search = await app.request(
      `/console/payments?by=payment&q=${encodeURIComponent("pay_<script>")}`,
      bearer(reader),
    );
    expect(search.status).toBe(200);
    expect(await search.text()).toContain("No payment has payment id pay_&lt;script&gt;");
    const tooLarge = await app.request("/console/sign-in", {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: "x".repeat(70 * 1024) }),
    });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ type: "/problems/too-large" });
  });

  it("lists a customer's payments from the read model, amounts in major units, and escapes what it shows", async () => {
    const customerId = `cus_<b>${ulid()}</b>`;
    const paymentId = `pay_${ulid()}`;
    const recorded = await store.append({
      paymentId,
      expectedVersion: 0,
      events: [sampleEvent("PaymentInitiated", { customerId, amount: 1235, currency: "kwd" })],
      metadata: { correlationId: "c", causationId: "c", source: "api" },
      now: new Date(),
      newId: ulid,
    });
    await readModels.putView(foldPaymentView(recorded)!);
    const response = await app.request(
      `/console/payments?by=customer&q=${encodeURIComponent(customerId)}`,
      bearer(reader),
    );
    const html = await response.text();
    expect(html).toContain(paymentId);
    expect(html).toContain("KWD\u00a01.235");
    expect(html).not.toContain("<b>");
    expect(html).toContain("&lt;b&gt;");
  });

  it("shows a provider notice the payment could not apply, with its reason, and the needs_attention flag", async () => {
    const paymentId = `pay_${ulid()}`;
    await store.append({
      paymentId,
      expectedVersion: 0,
      events: [
        sampleEvent("PaymentInitiated", { amount: 100_000, currency: "vnd", provider: "zalopay" }),
        sampleEvent("PaymentCanceled"),
        sampleEvent("ProviderNoticeUnapplied"),
      ],
      metadata: { correlationId: "c", causationId: "c", source: "webhook:zalopay" },
      now: new Date(),
      newId: ulid,
    });
    const html = await (await app.request(`/console/payments/${paymentId}`, bearer(reader))).text();
    expect(html).toContain("Provider notices not applied");
    expect(html).toContain(
      "paid_after_end: money was received for a payment that had already ended (canceled)",
    );
    expect(html).toContain("240001234567");
    expect(html).toContain('<span class="badge warn">needs_attention</span>');
  });

  it("shows the trace id of the payment and each event's traceparent", async () => {
    const paymentId = `pay_${ulid()}`;
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    await store.append({
      paymentId,
      expectedVersion: 0,
      events: [
        sampleEvent("PaymentInitiated", { amount: 2_000, currency: "usd" }),
        sampleEvent("PaymentScreened"),
      ],
      metadata: { correlationId: "c", causationId: "c", source: "api", traceparent },
      now: new Date(),
      newId: ulid,
    });
    const html = await (await app.request(`/console/payments/${paymentId}`, bearer(reader))).text();
    expect(html).toContain(
      '<dt>Trace</dt><dd><code class="trace-id">4bf92f3577b34da6a3ce929d0e0e4736</code></dd>',
    );
    expect(html.match(/<code class="traceparent">([^<]+)<\/code>/g)).toEqual([
      `<code class="traceparent">${traceparent}</code>`,
      `<code class="traceparent">${traceparent}</code>`,
    ]);
  });

  it("lists a payment that needs a person on Needs attention, lets the write scope resolve it with a reason, and then no longer lists it", async () => {
    const paymentId = `pay_${ulid()}`;
    await store.append({
      paymentId,
      expectedVersion: 0,
      events: [
        sampleEvent("PaymentInitiated", { amount: 100_000, currency: "vnd", provider: "zalopay" }),
        sampleEvent("PaymentCanceled"),
        sampleEvent("ProviderNoticeUnapplied"),
      ],
      metadata: { correlationId: "c", causationId: "c", source: "webhook:zalopay" },
      now: new Date(),
      newId: ulid,
    });
    const projector = createProjector({ store, readModels });
    await projector.projectPayment(paymentId, await store.load(paymentId));
    const page = async (token: string) => (await app.request("/console/attention", bearer(token))).text();

    const read = await page(reader);
    expect(read).toContain(paymentId);
    expect(read).toContain("notice not applied: paid_after_end");
    // Read only: the row is there, its buttons are not, and a post is refused.
    expect(read).not.toContain(`/console/attention/${paymentId}/resolve`);
    const refused = await app.request(`/console/attention/${paymentId}/resolve`, {
      method: "POST",
      ...bearer(reader, { accept: "application/json" }),
      body: new URLSearchParams({ reason: "checked" }),
    });
    expect(refused.status).toBe(403);
    expect(await store.load(paymentId)).toHaveLength(3);

    expect(await page(writer)).toContain(`/console/attention/${paymentId}/resolve`);
    const asked = await app.request(`/console/attention/${paymentId}/settle`, {
      method: "POST",
      ...bearer(writer),
    });
    expect(asked.headers.get("location")).toBe("/console/attention?notice=in_progress");
    expect(settled).toContain(paymentId);
    const empty = await app.request(`/console/attention/${paymentId}/resolve`, {
      method: "POST",
      ...bearer(writer, { accept: "application/json" }),
      body: new URLSearchParams({ reason: " " }),
    });
    expect(empty.status).toBe(400);
    const resolved = await app.request(`/console/attention/${paymentId}/resolve`, {
      method: "POST",
      ...bearer(writer),
      body: new URLSearchParams({ reason: "refunded by bank transfer VCB-1" }),
    });
    expect(resolved.status).toBe(303);
    expect(resolved.headers.get("location")).toBe("/console/attention?notice=resolved");
    const last = (await store.load(paymentId)).at(-1)!;
    expect(last).toMatchObject({
      type: "PaymentAttentionResolved",
      data: { reason: "refunded by bank transfer VCB-1", by: "writer" },
      metadata: { source: "console", repair: { by: "writer", reason: "refunded by bank transfer VCB-1" } },
    });
    await projector.projectPayment(paymentId, await store.load(paymentId));
    const after = await (await app.request(resolved.headers.get("location")!, bearer(writer))).text();
    expect(after).not.toContain(paymentId);
    expect(after).toContain("Resolved: PaymentAttentionResolved is recorded");
    // The timeline marks the repair with who made it.
    expect(await (await app.request(`/console/payments/${paymentId}`, bearer(reader))).text()).toContain(
      "repair by writer",
    );
    // A notice is shown from the fixed list only.
    expect(
      await (await app.request("/console/attention?notice=%3Cb%3Eanything%3C%2Fb%3E", bearer(reader))).text(),
    ).not.toContain("anything");
  });

  it("refuses a form posted from another origin with the session's cookie, and takes the same form from its own", async () => {
    const signIn = await signInForm({ token: writer });
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0]!;
    const post = (origin?: string) =>
      app.request("http://console.test/console/delivery/redrive", {
        method: "POST",
        headers: { cookie, host: "console.test", accept: "application/json", ...(origin ? { origin } : {}) },
      });
    const before = redrives;
    for (const origin of [undefined, "null", "https://elsewhere.example"]) {
      const refused = await post(origin);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ type: "/problems/cross-site" });
    }
    expect(redrives).toBe(before);
    const accepted = await post("http://console.test");
    expect(accepted.status).toBe(303);
    expect(redrives).toBe(before + 1);
  });
});

describe("holds awaiting a fraud review", () => {
  it("are listed apart on Needs attention, and leave the list once captured", async () => {
    const paymentId = `pay_${ulid()}`;
    const held = await store.append({
      paymentId,
      expectedVersion: 0,
      events: [
        sampleEvent("PaymentInitiated", { amount: 150_000, currency: "usd", captureMethod: "automatic" }),
        sampleEvent("PaymentScreened", {
          score: 70,
          decision: "review",
          reasons: ["large_amount_first_purchase"],
        }),
        sampleEvent("PaymentAuthorized", { amountAuthorized: 150_000 }),
      ],
      metadata: { correlationId: "c", causationId: "c", source: "test" },
      now: new Date(),
      newId: ulid,
    });
    const projector = createProjector({ store, readModels });
    await projector.projectPayment(paymentId, held);
    const section = (page: string) => page.split('id="review"')[1] ?? "";
    const page = await (await app.request("/console/attention", bearer(reader))).text();
    expect(section(page)).toContain(paymentId);
    expect(section(page)).toContain("large_amount_first_purchase");
    expect(page.split('id="review"')[0]).not.toContain(paymentId);

    const captured = await store.append({
      paymentId,
      expectedVersion: 3,
      events: [sampleEvent("PaymentCaptured", { amount: 150_000, totalCaptured: 150_000 })],
      metadata: { correlationId: "c", causationId: "c", source: "test" },
      now: new Date(),
      newId: ulid,
    });
    await projector.projectPayment(paymentId, [...held, ...captured]);
    expect(await readModels.reviewHolds(100)).not.toContain(paymentId);
    expect(section(await (await app.request("/console/attention", bearer(reader))).text())).not.toContain(
      paymentId,
    );
  });
});

describe("a manual refund from Needs attention", () => {
  it("is recorded as the person's repair: source console, who, why", async () => {
    const paymentId = `pay_${ulid()}`;
    await store.append({
      paymentId,
      expectedVersion: 0,
      events: [
        sampleEvent("PaymentInitiated", { amount: 2_000, currency: "usd" }),
        sampleEvent("PaymentAuthorized", { amountAuthorized: 2_000 }),
        sampleEvent("PaymentCaptured", { amount: 2_000, totalCaptured: 2_000 }),
      ],
      metadata: { correlationId: "c", causationId: "c", source: "test" },
      now: new Date(),
      newId: ulid,
    });
    // The form with the refund id the page puts in it; sent twice (a double click), it is one refund.
    const refundId = `console-${ulid()}`;
    for (let i = 0; i < 2; i++) {
      const response = await app.request(`http://console.test/console/attention/${paymentId}/manual-refund`, {
        method: "POST",
        headers: { authorization: `Bearer ${writer}`, host: "console.test" },
        body: new URLSearchParams({ reference: "TRF-2026-1", amount: "500", refundId }),
      });
      expect(response.status).toBe(303);
    }
    const events = await store.load(paymentId);
    expect(events.filter((e) => e.type === "PaymentRefunded")).toHaveLength(1);
    const refunded = events.at(-1)!;
    expect(refunded).toMatchObject({
      type: "PaymentRefunded",
      data: { amount: 500, method: "manual", reference: "TRF-2026-1", refundId },
      metadata: {
        source: "console",
        repair: { by: "writer", reason: "manual refund TRF-2026-1", driftId: `console:${paymentId}` },
      },
    });
  });
});

describe("the delivery page", () => {
  it("lists lagging deliveries and open failures a page at a time, with exact counts, and refuses a forged page link", async () => {
    const at = (i: number) => new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString();
    for (let i = 0; i < 30; i++) {
      const paymentId = `pay_LAG${String(i).padStart(23, "0")}`;
      const failed = i < 27 ? { key: `failure#kafka#${at(i)}`, failedAt: at(i) } : undefined;
      await deliveries.saveCursor(
        {
          paymentId,
          sink: "kafka",
          delivered: 1,
          latest: 3,
          state: i < 27 ? "failed" : "lagging",
          sweeps: 5,
          since: at(i),
          updatedAt: at(i),
          revision: 1,
          ...(failed ? { failureKey: failed.key } : {}),
        },
        undefined,
        failed ? { openFailure: { paymentId, sink: "kafka", delivered: 1, latest: 3, ...failed } } : {},
      );
    }
    const rowsOf = (page: string, heading: string) => {
      const section = page.split(heading)[1]?.split("</table>")[0] ?? "";
      return (section.match(/<tr>/g) ?? []).length - 1; // less the header row
    };
    const first = await (await app.request("/console/delivery", bearer(reader))).text();
    expect(first).toContain("failed at kafka: 27");
    expect(first).toContain("lagging at kafka: 3");
    expect(rowsOf(first, "failed at kafka: 27")).toBe(25);
    expect(rowsOf(first, "Open failure records")).toBe(25);
    const next = first.match(/href="(\/console\/delivery\?list=failed%3Akafka&(?:amp;)?after=[^"#]+)/)?.[1];
    expect(next).toBeDefined();
    const second = await (await app.request(next!.replaceAll("&amp;", "&"), bearer(reader))).text();
    expect(second).toContain("failed at kafka: 27 (a later page)");
    expect(rowsOf(second, "failed at kafka: 27 (a later page)")).toBe(2);
    const failuresNext = first.match(/href="(\/console\/delivery\?list=failures&(?:amp;)?after=[^"#]+)/)?.[1];
    const failures = await (await app.request(failuresNext!.replaceAll("&amp;", "&"), bearer(reader))).text();
    expect(rowsOf(failures, "Open failure records (a later page)")).toBe(2);

    // A page link this console did not hand out: another list's key, or any JSON.
    const forge = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");
    const handedOut = decodeURIComponent(next!.split("after=")[1]!);
    for (const [list, after] of [
      ["lagging:kafka", handedOut],
      ["failed:kafka", forge({ pk: { S: "x" } })],
      ["failures", forge({ ...JSON.parse(Buffer.from(handedOut, "base64url").toString()), extra: 1 })],
    ]) {
      const response = await app.request(
        `/console/delivery?list=${encodeURIComponent(list!)}&after=${encodeURIComponent(after!)}`,
        bearer(reader, { accept: "application/json" }),
      );
      expect({ list, status: response.status }).toEqual({ list, status: 400 });
    }
  });
});

describe("what a read-only session may do", () => {
  it("shows the write scope the action buttons of each page that has them, and a read-only session none", async () => {
    // Something to act on: a letter in the DLQ (its page shows buttons only when it is not empty).
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queues.dlq.url, MessageBody: '{"order_id":"ord-buttons"}' }),
    );
    const buttons = async (token: string, path: string) =>
      ((await (await app.request(`/console${path}`, bearer(token))).text()).match(/<button\b/g) ?? []).length;
    for (const path of ["/delivery", "/dlq", "/verify"]) {
      // Sign-out is a button of every page; each of these pages has at least one more for the writer.
      const signOutOnly = await buttons(reader, path);
      expect({ path, writer: (await buttons(writer, path)) > signOutOnly }).toEqual({ path, writer: true });
      expect({ path, reader: signOutOnly }).toEqual({ path, reader: 1 });
    }
    // Take the letter out of the DLQ, so that the DLQ test below starts from an empty queue.
    await eventually(
      async () => {
        const { Messages = [] } = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queues.dlq.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        for (const m of Messages)
          await clients.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queues.dlq.url, ReceiptHandle: m.ReceiptHandle! }),
          );
        return Messages.some((m) => m.Body === '{"order_id":"ord-buttons"}') ? true : undefined;
      },
      { timeoutMs: 20_000, what: "the letter taken out of the DLQ" },
    );
  });

  it("runs verify for the write scope only, one at a time: a second while one runs gets 409", async () => {
    const post = (token: string) =>
      app.request("/console/verify", { method: "POST", ...bearer(token, { accept: "application/json" }) });
    const before = verifies;
    const denied = await post(reader);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ type: "/problems/forbidden" });
    expect(verifies).toBe(before);

    verifyGate = new Promise((resolve) => {
      releaseVerify = resolve;
    });
    const first = post(writer);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(verifies).toBe(before + 1);
    const second = await post(writer);
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ type: "/problems/verify-running" });
    releaseVerify();
    const done = await first;
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Clean: 3 payment(s), 12 event(s)");
    expect(verifies).toBe(before + 1);
    // Once it has finished, the next one runs.
    expect((await post(writer)).status).toBe(200);
    expect(verifies).toBe(before + 2);
  });

  it("shows notices from a fixed list: text in the query never reaches the page", async () => {
    for (const path of [
      "/delivery?notice=%3Cb%3Eanything%3C%2Fb%3E",
      "/dlq?notice=anything+at+all",
      "/attention?notice=anything",
      "/delivery?notice=redriven&requeued=anything&swept=%3Cb%3E",
      "/dlq?notice=moved&moved=anything",
    ]) {
      const text = await (await app.request(`/console${path}`, bearer(reader))).text();
      expect({ path, shown: text.includes("anything") || text.includes("&lt;b&gt;") }).toEqual({
        path,
        shown: false,
      });
    }
    const redriven = await (
      await app.request("/console/delivery?notice=redriven&requeued=2&swept=5&published=7", bearer(reader))
    ).text();
    expect(redriven).toContain(
      "Redrive done: 2 failed delivery(ies) requeued; 5 swept, 0 caught up, 0 still behind, 7 event(s) published.",
    );
  });
});

describe("the order DLQ", () => {
  it("lists messages without taking them, with the reason the processor kept, and redrives one, then the rest", async () => {
    const bodies = ['{"order_id":"ord-dlq-a"}', '{"order_id":"ord-dlq-b"}'];
    const ids: string[] = [];
    for (const body of bodies) {
      const sent = await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: queues.dlq.url, MessageBody: body }),
      );
      ids.push(sent.MessageId!);
    }
    await notes.note({
      messageId: ids[0]!,
      receiveCount: 3,
      orderId: "ord-dlq-a",
      reason: "GatewayUnavailableError: Stripe is unavailable",
      at: new Date().toISOString(),
    });
    const dlq = createOrderDlq({
      sqs: clients.sqs,
      dlqUrl: queues.dlq.url,
      queueUrl: queues.main.url,
      notes,
    });
    for (let look = 0; look < 2; look++) {
      const letters = await dlq.list();
      expect(letters.map((l) => l.messageId).sort()).toEqual([...ids].sort());
    }
    const page = await (await app.request("/console/dlq", bearer(writer))).text();
    expect(page).toContain("GatewayUnavailableError: Stripe is unavailable");
    expect(page).toContain(`Redrive message ${ids[0]}`);

    expect(await dlq.redrive([ids[0]!, "no-such-message"])).toEqual({
      moved: 1,
      notFound: ["no-such-message"],
    });
    expect((await dlq.list()).map((l) => l.messageId)).toEqual([ids[1]]);
    expect((await notes.get([ids[0]!])).size).toBe(0);
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.main.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages.map((m) => m.Body)).toEqual([bodies[0]]);

    expect(await dlq.redrive()).toEqual({ moved: 1, notFound: [] });
    expect(await dlq.list()).toEqual([]);
  });
});

describe("the overview, where a signed-in person lands", () => {
  it("shows what needs a person, each sink's lag and oldest, the DLQ's depth and the newest payments", async () => {
    // Its own outbox table and queues: the figures are this test's alone.
    const table = `outbox-overview-${ulid().slice(-8).toLowerCase()}`;
    await ensureTable(clients.dynamodb, outboxTable, table);
    const own = createOutboxDeliveries({ client: clients.dynamodb, tableName: table });
    const ownQueues = await freshQueues(clients.sqs);
    const overview = createConsoleApp({
      ...consoleDeps(),
      deliveries: () => own,
      orderDlq: () =>
        createOrderDlq({ sqs: clients.sqs, dlqUrl: ownQueues.dlq.url, queueUrl: ownQueues.main.url, notes }),
    });
    const cursor = (
      paymentId: string,
      sink: "kafka" | "eventbridge",
      state: "lagging" | "failed",
      since: string,
    ) =>
      own.saveCursor(
        { paymentId, sink, delivered: 1, latest: 3, state, sweeps: 1, since, updatedAt: since, revision: 1 },
        undefined,
      );
    await cursor(`pay_${ulid()}`, "kafka", "lagging", "2026-12-01T10:00:00.000Z");
    await cursor(`pay_${ulid()}`, "kafka", "lagging", "2026-12-01T09:00:00.000Z");
    await cursor(`pay_${ulid()}`, "eventbridge", "failed", "2026-12-01T08:00:00.000Z");
    for (const n of [1, 2])
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: ownQueues.dlq.url,
          MessageBody: `{"order_id":"ord-overview-${n}"}`,
        }),
      );
    const paymentId = `pay_${ulid()}`;
    const recorded = await store.append({
      paymentId,
      expectedVersion: 0,
      events: [
        sampleEvent("PaymentInitiated", { amount: 4_599, currency: "usd", orderId: `ord-${paymentId}` }),
      ],
      metadata: { correlationId: "c", causationId: "c", source: "api" },
      now: new Date(),
      newId: ulid,
    });
    await readModels.putView(foldPaymentView(recorded)!);

    const html = await (await overview.request("/console", bearer(reader))).text();
    const rowOf = (sink: string) =>
      html
        .split('id="o-delivery"')[1]
        ?.split("</table>")[0]
        ?.split("<tr>")
        .find((row) => row.startsWith(`<td>${sink}</td>`));
    expect(rowOf("kafka")).toMatch(
      /^<td>kafka<\/td><td class="num">2<\/td><td>.*2026-12-01T09:00:00.000Z.*<\/td><td class="num">0<\/td>/,
    );
    expect(rowOf("eventbridge")).toMatch(
      /^<td>eventbridge<\/td><td class="num">0<\/td><td>none<\/td><td class="num">1<\/td>/,
    );
    expect(html).toContain("<strong>2</strong> message(s) in the order DLQ");
    expect(html.split('id="o-recent"')[1]).toContain(`href="/console/payments/${paymentId}"`);
    expect(html).toContain('<main data-refresh="15">');
    expect(html).toMatch(/id="o-attention"/);
    // A session lands here after signing in.
    const signedIn = await signInForm({ token: reader });
    expect(signedIn.headers.get("location")).toBe("/console");
  });

  it("draws the last hour and the last 24 hours from the metrics read model, with text alternatives", async () => {
    // A read-model table of its own: the figures are this test's payments alone.
    const table = `rm-overview-${ulid().slice(-8).toLowerCase()}`;
    await ensureTable(clients.dynamodb, readModelTable, table);
    const own = createReadModelStore({
      client: clients.dynamodb,
      tableName: table,
      transactionLogTableName: stack.tables.transactionLog,
    });
    const overview = createConsoleApp({ ...consoleDeps(), readModels: () => own });
    const page = async () => (await overview.request("/console", bearer(reader))).text();
    const empty = await page();
    expect(empty).toContain("No payment reached an outcome in the last hour.");
    expect(empty).toContain("No money was captured or refunded in the last 24 hours.");
    expect(empty).toContain("Approval rate: none yet");

    const projector = createProjector({ store, readModels: own });
    const now = Date.now();
    const pay = async (at: number, steps: Array<{ events: PaymentEvent[]; source?: string }>) => {
      const paymentId = `pay_${ulid()}`;
      const recorded: RecordedEvent[] = [];
      for (const { events, source = "queue" } of steps)
        recorded.push(
          ...(await store.append({
            paymentId,
            expectedVersion: recorded.length,
            events,
            metadata: { correlationId: paymentId, causationId: `${source}:${ulid()}`, source },
            now: new Date(at),
            newId: ulid,
          })),
        );
      await projector.projectPayment(paymentId, recorded);
    };
    const initiated = (amount = 1_000) =>
      sampleEvent("PaymentInitiated", { amount, currency: "usd", provider: "stripe" });
    const captured = [
      sampleEvent("PaymentAuthorized", { amountAuthorized: 1_000 }),
      sampleEvent("PaymentCaptured", { amount: 1_000, totalCaptured: 1_000 }),
    ];
    for (let i = 0; i < 3; i++) await pay(now, [{ events: [initiated(), ...captured] }]);
    await pay(now, [
      { events: [initiated(), ...captured] },
      { events: [sampleEvent("PaymentRefunded", { refundId: "rf_1", amount: 300, totalRefunded: 300 })] },
      {
        events: [
          sampleEvent("ProviderNoticeUnapplied", { provider: "stripe", reason: "refund_exceeds: too much" }),
        ],
        source: "webhook:stripe",
      },
    ]);
    await pay(now, [{ events: [initiated(), sampleEvent("PaymentRejected")] }]);
    await pay(now - 2 * 3_600_000, [{ events: [initiated(), sampleEvent("PaymentFailed")] }]);

    const html = await page();
    const section = (id: string) => html.split(`id="o-${id}"`)[1]!.split("</section>")[0]!;
    /** What the bars of a window add up to, by outcome, read from the SVG as drawn. */
    const drawn = (id: string) => {
      const counts: Record<string, number> = {};
      for (const [, outcome, count] of section(id).matchAll(/data-outcome="(\w+)" data-count="(\d+)"/g))
        counts[outcome!] = (counts[outcome!] ?? 0) + Number(count);
      return counts;
    };
    expect(drawn("hour")).toEqual({ captured: 4, rejected: 1 });
    expect(drawn("day")).toEqual({ captured: 4, rejected: 1, failed: 1 });
    // The text alternative says the same in words, and the approval rate is 4 of 6 decided.
    expect(section("day")).toContain("6 payment(s): 4 captured, 1 failed, 1 rejected.");
    expect(section("day")).toContain('data-approval="0.6667"');
    expect(section("hour")).toContain('data-approval="0.8000"');
    expect(section("day")).toContain("USD: $40.00 captured, $3.00 refunded.");
    expect(section("day")).toContain("stripe: 0 applied, 1 unapplied.");
    expect(section("day")).toMatch(/<svg role="img" aria-labelledby="chart-day-title chart-day-desc"/);
    expect(section("day")).toContain("Time (UTC), 1-hour intervals");
  });
});
