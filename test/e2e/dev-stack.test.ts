import { join } from "node:path";
import { CloudWatchClient, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { TRACEPARENT } from "@payments/events";
import { issueToken } from "@payments/functions/api/auth";
import { devTokenClaims, LOCAL_CREDENTIALS, LOCAL_REGION, secretValues } from "@payments/local";
import { PayOS } from "@payos/node";
import { afterAll, describe, expect, it } from "vitest";
import { accepts, callDevApi, type RunningDev, runNpm, simulateReport, startDev } from "../helpers/dev-stack";
import { eventually } from "../helpers/eventually";
import { consumeTopic, drainQueue } from "../helpers/relay";

/**
 * `npm run dev` as a user runs it (SPEC §7, issue 11): started as its own process on free ports,
 * found through the stack.json it writes, driven over HTTP with the token it prints, and stopped
 * with Ctrl-C (SIGINT), leaving nothing behind.
 */
let dev: RunningDev | undefined;

/** An order as the order service creates it, before its payment: order-status only updates orders. */
async function putOrder(endpoint: string, table: string, orderId: string) {
  const client = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint });
  try {
    await DynamoDBDocumentClient.from(client).send(
      new PutCommand({ TableName: table, Item: { order_id: orderId } }),
    );
  } finally {
    client.destroy();
  }
}

afterAll(() => dev?.kill());

describe("npm run dev", () => {
  it("serves a payment end to end: API, projection, the bus's target queue, the orders table and the topic, one trace through them; Ctrl-C stops it", async () => {
    // The functions' info lines too (the dev stack logs warnings and errors by default): order-status's
    // line per outcome carries the trace id.
    dev = await startDev({ POWERTOOLS_LOG_LEVEL: "INFO" });
    const { stack, ports } = dev;
    const output = dev.output;
    for (const port of Object.values(ports))
      expect(await accepts(port), `port ${port} while dev runs`).toBe(true);
    expect(output()).toContain(stack.token);
    expect(stack.apiUrl).toBe(`http://127.0.0.1:${ports.DEV_API_PORT}`);
    // The providers' old webhook paths answer under npm run dev as /dev/webhook/{provider}.
    const webhookAt = async (path: string) => {
      const response = await fetch(`${stack.apiUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ data: "{}", mac: "0", type: 1 }),
      });
      return { status: response.status, body: await response.json() };
    };
    expect(await webhookAt("/dev/webhook/zalopay")).toEqual(await webhookAt("/webhooks/zalopay"));
    expect(await webhookAt("/dev/webhook/zalopay")).toMatchObject({ status: 401, body: { return_code: -1 } });
    // SPEC §4.2: the dev stack checks iss and aud; its token carries both, and one without is 401.
    const claims = JSON.parse(Buffer.from(stack.token.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({
      sub: "dev",
      ...{ iss: devTokenClaims().issuer, aud: devTokenClaims().audience },
    });
    const unclaimed = await issueToken(secretValues().JwtSecret, {
      subject: "dev",
      issuer: "",
      audience: "",
    });
    const refused = await fetch(`${stack.apiUrl}/payments/pay_x`, {
      headers: { authorization: `Bearer ${unclaimed}` },
    });
    expect(refused.status).toBe(401);

    const consumer = await consumeTopic(stack.kafka.brokers, stack.kafka.topic, () => true);
    // The caller's W3C trace (SPEC §5), sent on every request: one trace id from the request to every sink.
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const traced = { traceparent: `00-${traceId}-00f067aa0ba902b7-01` };
    const call = (method: string, path: string, body?: unknown) =>
      callDevApi(stack, method, path, body, traced);
    const traceOf = (metadata: { traceparent?: string } | undefined) => metadata?.traceparent?.split("-")[1];
    try {
      // The order service's order exists first: order-status only ever updates one.
      await putOrder(stack.dynamoEndpoint, stack.tables.orders, "ord-dev-e2e");
      const created = await call("POST", "/payments", {
        orderId: "ord-dev-e2e",
        amount: 2599,
        currency: "usd",
        paymentMethodId: "pm_card_visa",
        captureMethod: "manual",
      });
      expect(created).toMatchObject({ status: 201, body: { status: "authorized" } });
      const paymentId = created.body.paymentId as string;
      expect((await call("POST", `/payments/${paymentId}/capture`, { amount: 2599 })).status).toBe(200);
      const refunded = await call("POST", `/payments/${paymentId}/refund`, { amount: 500 });
      expect(refunded.status).toBeLessThan(300);

      const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
      const doc = DynamoDBDocumentClient.from(
        new DynamoDBClient({ ...common, endpoint: stack.dynamoEndpoint }),
      );
      const sqs = new SQSClient({ ...common, endpoint: stack.awsEndpoint });
      // The projection: the read model's item, written by the projector from the stream.
      const view = await eventually(
        async () => {
          const { Item } = await doc.send(
            new GetCommand({
              TableName: stack.tables.readModels,
              Key: { pk: `payment#${paymentId}`, sk: "view" },
            }),
          );
          return Item?.view?.amountRefunded === 500 ? Item.view : undefined;
        },
        { timeoutMs: 30_000, what: "the projected view with the refund" },
      );
      expect(view).toMatchObject({ paymentId, status: "partially_refunded", amountCaptured: 2599 });
      // The example rule's target queue: the PaymentCaptured event, unchanged.
      const captured = await eventually(
        async () => {
          const bodies = (await drainQueue(sqs, stack.queues.downstream, 1)).map((b) => JSON.parse(b));
          return bodies.find((b) => b.detail?.paymentId === paymentId);
        },
        { timeoutMs: 30_000, what: "the PaymentCaptured event on the downstream queue" },
      );
      expect(captured).toMatchObject({ source: "payments", "detail-type": "PaymentCaptured" });
      expect(traceOf(captured.detail.metadata)).toBe(traceId);
      // The orders table, written by order-status.
      const order = await eventually(
        async () => {
          const { Item } = await doc.send(
            new GetCommand({ TableName: stack.tables.orders, Key: { order_id: "ord-dev-e2e" } }),
          );
          return Item?.amount_refunded === 500 ? Item : undefined;
        },
        { timeoutMs: 30_000, what: "the order's status" },
      );
      expect(order).toMatchObject({ payment_id: paymentId, amount_captured: 2599, currency: "usd" });
      // The topic: every event of the payment, in version order.
      const events = await eventually(
        () => {
          const mine = consumer.arrivals.filter((a) => a.key === paymentId).map((a) => a.envelope);
          return mine.some((e) => e.type === "PaymentRefunded") ? mine : undefined;
        },
        { timeoutMs: 30_000, what: "the payment's events on the topic" },
      );
      expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
      // The trace: on every event (stored and on the topic), in each Kafka record's headers, and in
      // order-status's log lines for the payment (the orders table's attributes stay SPEC §5's).
      const stored = (await call("GET", `/payments/${paymentId}/events`)).body.items as Array<{
        metadata: { traceparent?: string };
      }>;
      expect(stored.map((e) => traceOf(e.metadata))).toEqual(stored.map(() => traceId));
      expect(events.map((e) => traceOf(e.metadata))).toEqual(events.map(() => traceId));
      const records = consumer.arrivals.filter((a) => a.key === paymentId);
      expect(records.map((a) => a.headers.traceparent?.split("-")[1])).toEqual(records.map(() => traceId));
      expect(Object.keys(order).sort()).not.toContain("traceparent");
      await eventually(
        () =>
          output()
            .split("\n")
            .some((line) => line.includes('"order status"') && line.includes(`"traceId":"${traceId}"`))
            ? true
            : undefined,
        { timeoutMs: 30_000, what: "order-status's log line with the trace id" },
      );
      // The spans the dev stack would send, one line each: the API's requests and order-status's work.
      const spans = output()
        .split("\n")
        .filter((line) => line.startsWith(`[span] trace=${traceId} `));
      for (const name of ["POST /payments ", "order-status "])
        expect(
          spans.some((line) => line.includes(name)),
          `a span line for ${name.trim()}`,
        ).toBe(true);

      // From the order queue: a message's `traceparent` attribute is continued; without one, a trace
      // is started for the message.
      const given = "0af7651916cd43dd8448eb211c80319c";
      for (const [orderId, attributes] of [
        [
          "ord-dev-trace-given",
          { traceparent: { DataType: "String", StringValue: `00-${given}-b7ad6b7169203331-01` } },
        ],
        ["ord-dev-trace-none", undefined],
      ] as const) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: stack.queues.orders,
            MessageBody: JSON.stringify({
              order_id: orderId,
              amount: "12.50",
              payment_method_id: "pm_card_visa",
            }),
            MessageAttributes: attributes,
          }),
        );
      }
      const tracesOf = async (orderId: string) =>
        eventually(
          async () => {
            const found = (await call("GET", `/payments?orderId=${orderId}`)).body.items as Array<{
              paymentId: string;
              status: string;
            }>;
            if (found[0]?.status !== "captured") return undefined;
            const items = (await call("GET", `/payments/${found[0].paymentId}/events`)).body.items as Array<{
              metadata: { traceparent?: string };
            }>;
            return items.map((e) => e.metadata.traceparent ?? "none");
          },
          { timeoutMs: 30_000, what: `the payment of ${orderId}` },
        );
      expect((await tracesOf("ord-dev-trace-given")).map((t) => t.split("-")[1])).toEqual(
        Array(5).fill(given),
      );
      const started = await tracesOf("ord-dev-trace-none");
      expect(started).toHaveLength(5);
      for (const t of started) expect(t).toMatch(TRACEPARENT);
      expect(new Set(started.map((t) => t.split("-")[1])).size).toBe(1);
      expect(started[0]!.split("-")[1]).not.toBe(given);
      expect(output()).toMatch(
        new RegExp(
          `\\[span\\] trace=${given} span=[0-9a-f]{16} process-payment \\d+ ms orderId=ord-dev-trace-given`,
        ),
      );
      doc.destroy();
      sqs.destroy();
    } finally {
      await consumer.stop();
    }

    // npm run simulate against this stack, as a user runs it: 100 orders, its exit code, and its
    // report's counts against the Stripe proxy's own ledger of the run.
    const simulated = await runNpm(
      ["simulate", "--", "--payments", "100", "--stack", join(dev.dir, "stack.json")],
      300_000,
    );
    const report = simulated.output;
    expect({ code: simulated.code, report: report.slice(-1500) }).toMatchObject({ code: 0 });
    const { run, ...counts } = simulateReport(report);
    expect(counts.orders).toBe(100);
    expect(counts.captured + counts.authorized + counts.declined + counts.rejected + counts.malformed).toBe(
      100,
    );
    expect(counts.declined).toBe(counts.declinedSent);
    expect({
      noOutcome: counts.noOutcome,
      dlq: counts.dlq,
      more: counts.morePayments,
      twice: counts.chargedTwice,
    }).toEqual({ noOutcome: 0, dlq: 0, more: 0, twice: 0 });
    const ledger = (await (
      await fetch(`${stack.stripeUrl}/_proxy/ledger?orderPrefix=sim-${run}-`)
    ).json()) as {
      orders: Record<string, { charges: number }>;
    };
    const charged = Object.values(ledger.orders).filter((o) => o.charges > 0);
    expect({ charges: counts.charges, captured: counts.captured }).toEqual({
      charges: charged.length,
      captured: charged.length,
    });
    expect(charged.every((o) => o.charges === 1)).toBe(true);

    // Ctrl-C: the process group gets SIGINT, as a terminal sends it; everything stops.
    const exited = dev.interrupt();
    // npm itself ends on the signal, as in a terminal; what matters is that dev stopped what it started.
    expect([
      { code: 0, signal: null },
      { code: null, signal: "SIGINT" },
    ]).toContainEqual(await exited);
    await eventually(
      async () => {
        const open = await Promise.all(Object.values(ports).map(accepts));
        return open.every((p) => !p) ? true : undefined;
      },
      { timeoutMs: 30_000, what: "every port of the dev stack to close" },
    );
    await eventually(() => (output().includes("dev: stopping") ? true : undefined), { timeoutMs: 5000 });
  }, 600_000);

  it("takes the providers' word over real HTTP: an underpaid ZaloPay order, a dashboard refund, a PayOS link paid after its cancel", async () => {
    const providers = await startDev();
    const { stack } = providers;
    const call = (method: string, path: string, body?: unknown) => callDevApi(stack, method, path, body);
    const post = async (url: string, body: unknown) =>
      (
        await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json();
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        endpoint: stack.dynamoEndpoint,
      }),
    );
    try {
      // ZaloPay: 1 VND of 100,000 arrives, through the emulator's signed callback to the dev API.
      const reference = `261204_${Date.now()}`;
      await putOrder(stack.dynamoEndpoint, stack.tables.orders, "ord-dev-underpaid");
      const zalo = await call("POST", "/payments", {
        orderId: "ord-dev-underpaid",
        amount: 100_000,
        currency: "vnd",
        provider: "zalopay",
        providerReference: reference,
      });
      expect(zalo.status).toBe(201);
      expect(
        await post(`${stack.providers.zalopay.url}/_emulator/pay`, { reference, amount: 1 }),
      ).toMatchObject({
        delivered: 200,
      });
      const zaloId = zalo.body.paymentId as string;
      expect((await call("GET", `/payments/${zaloId}`)).body).toMatchObject({
        status: "underpaid",
        amountCaptured: 1,
      });
      const log = await eventually(
        async () => {
          const { Item } = await doc.send(
            new GetCommand({
              TableName: stack.tables.transactionLog,
              Key: { transaction_id: `txn-${zaloId}` },
            }),
          );
          return Item?.status === "underpaid" ? Item : undefined;
        },
        { timeoutMs: 30_000, what: "the transaction log's underpaid item" },
      );
      expect(log).toMatchObject({ amount: 1, currency: "vnd" });
      const order = await eventually(
        async () => {
          const { Item } = await doc.send(
            new GetCommand({ TableName: stack.tables.orders, Key: { order_id: "ord-dev-underpaid" } }),
          );
          return Item?.payment_status === "underpaid" ? Item : undefined;
        },
        { timeoutMs: 30_000, what: "the order's underpaid status" },
      );
      expect(order).toMatchObject({ amount_captured: 1 });

      // Stripe: a refund made in the dashboard, delivered as refund.created and a list-less charge.refunded.
      const card = await call("POST", "/payments", {
        orderId: "ord-dev-dashboard",
        amount: 5_000,
        currency: "usd",
        paymentMethodId: "pm_card_visa",
      });
      const made = (await post(stack.stripe.dashboardRefundsUrl, {
        payment_intent: card.body.gatewayPaymentId,
        amount: 1_500,
        deliver: true,
      })) as { delivered: number[] };
      expect(made.delivered).toEqual([200, 200]);
      expect((await call("GET", `/payments/${card.body.paymentId}`)).body).toMatchObject({
        status: "partially_refunded",
        amountRefunded: 1_500,
      });

      // PayOS: the link is canceled at PayOS with the payment; a transfer that arrives anyway is flagged.
      const keys = secretValues();
      const orderCode = Date.now() % 1_000_000_000;
      await new PayOS({
        clientId: keys.PayOSClientId,
        apiKey: keys.PayOSApiKey,
        checksumKey: keys.PayOSChecksumKey,
        baseURL: stack.providers.payos.url,
      }).paymentRequests.create({
        orderCode,
        amount: 20_000,
        description: "DH dev",
        cancelUrl: "https://shop.example/cancel",
        returnUrl: "https://shop.example/return",
      });
      const link = await call("POST", "/payments", {
        orderId: "ord-dev-payos",
        amount: 20_000,
        currency: "vnd",
        provider: "payos",
        providerReference: String(orderCode),
      });
      const linkId = link.body.paymentId as string;
      expect((await call("POST", `/payments/${linkId}/cancel`, { reason: "expired" })).body).toMatchObject({
        status: "canceled",
      });
      expect(
        await post(`${stack.providers.payos.url}/_emulator/pay`, { reference: String(orderCode) }),
      ).toMatchObject({
        delivered: 200,
      });
      expect((await call("GET", `/payments/${linkId}`)).body).toMatchObject({
        status: "canceled",
        amountCaptured: 0,
        flags: ["needs_attention"],
      });
    } finally {
      doc.destroy();
      providers.kill();
    }
  }, 300_000);

  it("reconciles: a ZaloPay order paid without its callback is captured by the scheduled reconciler, and npm run reconcile repairs a dashboard refund it finds", async () => {
    // The reconciler every 2 s on payments open over 2 s (15 s and 30 s by default): timing only.
    const running = await startDev({ RECONCILE_AFTER: "2", DEV_RECONCILER_PERIOD_MS: "2000" });
    const { stack } = running;
    const call = (method: string, path: string, body?: unknown) => callDevApi(stack, method, path, body);
    const post = async (url: string, body: unknown) =>
      (
        await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json();
    const since = new Date(Date.now() - 60_000).toISOString();
    const reconcile = (...args: string[]) =>
      runNpm(["reconcile", "--", "--stack", join(running.dir, "stack.json"), ...args], 120_000);
    try {
      const reference = `261204_rec_${Date.now()}`;
      const zalo = await call("POST", "/payments", {
        orderId: "ord-dev-reconcile",
        amount: 75_000,
        currency: "vnd",
        provider: "zalopay",
        providerReference: reference,
      });
      expect(zalo.status).toBe(201);
      expect(
        await post(`${stack.providers.zalopay.url}/_emulator/pay`, {
          reference,
          amount: 75_000,
          deliver: false,
        }),
      ).toMatchObject({ status: 200 });
      const zaloId = zalo.body.paymentId as string;
      // The drift is there: ZaloPay has the money, the ledger has the order initiated, and no callback came.
      expect((await call("GET", `/payments/${zaloId}`)).body).toMatchObject({ status: "initiated" });
      await eventually(
        async () =>
          (await call("GET", `/payments/${zaloId}`)).body.status === "captured" ? true : undefined,
        { timeoutMs: 60_000, what: "the scheduled reconciler to capture the ZaloPay order" },
      );
      const events = (await call("GET", `/payments/${zaloId}/events`)).body.items as Array<{
        type: string;
        metadata: { source: string };
      }>;
      expect(events.filter((e) => e.metadata.source === "reconciler").map((e) => e.type)).toEqual([
        "PaymentAuthorized",
        "PaymentCaptured",
      ]);

      // A refund made in Stripe's dashboard, never delivered: reconcile finds it, --repair records it.
      const card = await call("POST", "/payments", {
        orderId: "ord-dev-reconcile-card",
        amount: 8_000,
        currency: "usd",
        paymentMethodId: "pm_card_visa",
      });
      expect(card.body.status).toBe("captured");
      const made = (await post(stack.stripe.dashboardRefundsUrl, {
        payment_intent: card.body.gatewayPaymentId,
        amount: 2_500,
        deliver: false,
      })) as { refund: { id: string } };
      const cardId = card.body.paymentId as string;
      expect((await call("GET", `/payments/${cardId}`)).body).toMatchObject({ amountRefunded: 0 });

      const found = await reconcile("--provider", "stripe", "--since", since);
      expect(found.output).toContain("missing_in_ledger");
      expect(found.output).toContain(made.refund.id);
      expect(found.code).toBe(1);
      const repaired = await reconcile("--provider", "stripe", "--since", since, "--repair", "--by", "e2e");
      expect(repaired.output).toContain("1 repaired");
      expect(repaired.code).toBe(0);
      expect((await call("GET", `/payments/${cardId}`)).body).toMatchObject({
        status: "partially_refunded",
        amountRefunded: 2_500,
      });
      const last = (
        (await call("GET", `/payments/${cardId}/events`)).body.items as Array<Record<string, unknown>>
      ).at(-1);
      expect(last).toMatchObject({
        type: "PaymentRefunded",
        metadata: {
          source: "reconcile",
          repair: { by: "e2e", driftId: `missing_in_ledger:stripe:${made.refund.id}` },
        },
      });
      const again = await reconcile("--provider", "stripe", "--since", since, "--repair");
      expect(again.output).toContain("0 drift(s)");
      expect(again.code).toBe(0);
      // Each run put ReconciliationDrift by class where the alarm reads it: the one missing refund.
      const cloudwatch = new CloudWatchClient({
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        endpoint: stack.awsEndpoint,
      });
      const drift = await cloudwatch.send(
        new GetMetricStatisticsCommand({
          Namespace: "Payments",
          MetricName: "ReconciliationDrift",
          Dimensions: [
            { Name: "service", Value: "payments" },
            { Name: "class", Value: "missing_in_ledger" },
          ],
          StartTime: new Date(Date.parse(since) - 3_600_000),
          EndTime: new Date(Date.now() + 3_600_000),
          Period: 86_400,
          Statistics: ["Sum", "SampleCount"],
        }),
      );
      cloudwatch.destroy();
      // Three runs (found, repaired, clean): 1 + 1 + 0.
      expect(drift.Datapoints?.map((d) => ({ sum: d.Sum, runs: d.SampleCount }))).toEqual([
        { sum: 2, runs: 3 },
      ]);

      // npm run simulate -- --chaos at a small scale: its own checks decide its exit code.
      const chaos = await runNpm(
        ["simulate", "--", "--payments", "30", "--chaos", "--stack", join(running.dir, "stack.json")],
        300_000,
      );
      expect({ code: chaos.code, report: chaos.output.slice(-3000) }).toMatchObject({ code: 0 });
      expect(chaos.output).toMatch(/found the 2 dropped refund\(s\), repaired them, and then found no drift/);
      expect(chaos.output).toContain('"dropped":{"reconciler":2}');
    } finally {
      running.kill();
    }
  }, 600_000);
});
