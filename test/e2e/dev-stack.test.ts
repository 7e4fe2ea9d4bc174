import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { freePort, LOCAL_CREDENTIALS, LOCAL_REGION } from "@payments/local";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually";
import { consumeTopic, drainQueue } from "../helpers/relay";

/**
 * `npm run dev` as a user runs it (SPEC §7, issue 11): started as its own process on free ports,
 * found through the stack.json it writes, driven over HTTP with the token it prints, and stopped
 * with Ctrl-C (SIGINT), leaving nothing behind.
 */
const dir = mkdtempSync(join(tmpdir(), "dev-e2e-"));
let dev: ChildProcess | undefined;
let output = "";

afterAll(async () => {
  if (dev && dev.exitCode === null) dev.kill("SIGKILL");
});

/** Whether something listens on a loopback port (a TCP connect, whatever the protocol). */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

interface Stack {
  apiUrl: string;
  token: string;
  dynamoEndpoint: string;
  awsEndpoint: string;
  tables: { readModels: string; orders: string; events: string };
  queues: { downstream: string };
  kafka: { brokers: string[]; topic: string };
}

describe("npm run dev", () => {
  it("serves a payment end to end: API, projection, the bus's target queue, the orders table and the topic; Ctrl-C stops it", async () => {
    const ports = {
      DEV_DYNAMODB_PORT: await freePort(),
      DEV_AWS_PORT: await freePort(),
      DEV_KAFKA_PORT: await freePort(),
      DEV_STRIPE_MOCK_PORT: await freePort(),
      DEV_STRIPE_PORT: await freePort(),
      DEV_API_PORT: await freePort(),
    };
    const env: NodeJS.ProcessEnv = { ...process.env, DEV_DIR: dir };
    for (const [k, v] of Object.entries(ports)) env[k] = String(v);
    // The test run's own links must not leak into the dev stack's.
    for (const key of Object.keys(env))
      if (key.startsWith("SST_RESOURCE_") || key.startsWith("AWS_ENDPOINT_URL")) delete env[key];
    dev = spawn("npm", ["run", "dev"], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    dev.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    dev.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const stackFile = join(dir, "stack.json");
    await eventually(() => (existsSync(stackFile) && output.includes("dev: ready") ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: `npm run dev to be ready (output so far: ${output.slice(-500)})`,
    });
    const stack = JSON.parse(readFileSync(stackFile, "utf8")) as Stack;
    for (const port of Object.values(ports))
      expect(await accepts(port), `port ${port} while dev runs`).toBe(true);
    expect(output).toContain(stack.token);
    expect(stack.apiUrl).toBe(`http://127.0.0.1:${ports.DEV_API_PORT}`);

    const consumer = await consumeTopic(stack.kafka.brokers, stack.kafka.topic, () => true);
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${stack.token}`,
          "content-type": "application/json",
          "idempotency-key": `${method}-${path}-${Date.now()}`,
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    try {
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
      doc.destroy();
      sqs.destroy();
    } finally {
      await consumer.stop();
    }

    // Ctrl-C: the process group gets SIGINT, as a terminal sends it; everything stops.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      dev!.once("exit", (code, signal) => resolve({ code, signal })),
    );
    process.kill(-dev.pid!, "SIGINT");
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
    await eventually(() => (output.includes("dev: stopping") ? true : undefined), { timeoutMs: 5000 });
  }, 300_000);
});
