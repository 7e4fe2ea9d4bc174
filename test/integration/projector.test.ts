import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import {
  createDynamoEventStore,
  createReadModelStore,
  type ReadModelStore,
  transactionLogItem,
} from "@payments/adapters/dynamodb";
import { foldPaymentView, type RecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { createProjector, createProjectorHandler } from "@payments/functions/projector/project";
import {
  ensureTable,
  linkedEnvironment,
  type RunningDriver,
  startDynamoDbStreamDriver,
  tableStreamArn,
} from "@payments/local";
import { eventItemFilter, readModelTable, transactionLogTable } from "@payments/topology";
import fc from "fast-check";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually";
import { sampleEvent, streamRecord } from "../helpers/fixtures";
import { silenceConsole } from "../helpers/output";
import { propertyRuns } from "../helpers/property";
import { stackClients, testStack } from "../helpers/stack";

const stack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const logger = new Logger({ serviceName: "test", logLevel: "SILENT" });
let readModels: ReadModelStore;
let tables: { readModels: string; transactionLog: string };
const drivers: RunningDriver[] = [];
let restoreConsole: () => void;

beforeAll(async () => {
  restoreConsole = silenceConsole();
  // Read-model tables of this file's own, so that what it asserts is what it projected.
  const suffix = randomUUID().slice(0, 8);
  tables = { readModels: `rm-${suffix}`, transactionLog: `txlog-${suffix}` };
  await ensureTable(clients.dynamodb, readModelTable, tables.readModels);
  await ensureTable(clients.dynamodb, transactionLogTable, tables.transactionLog);
  readModels = createReadModelStore({
    client: clients.dynamodb,
    tableName: tables.readModels,
    transactionLogTableName: tables.transactionLog,
  });
});
afterAll(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
  restoreConsole();
  for (const client of Object.values(clients)) client.destroy();
});

const metadata = { correlationId: "c", causationId: "c", source: "test" };
/** A payment's history, appended to the event store; returns the recorded events. */
async function appendHistory(events: PaymentEvent[]): Promise<RecordedEvent[]> {
  const paymentId = `pay_${ulid()}`;
  return store.append({ paymentId, expectedVersion: 0, events, metadata, now: new Date(), newId: ulid });
}
const history = (customerId: string, currency = "usd", amount = 2599): PaymentEvent[] => [
  sampleEvent("PaymentInitiated", { customerId, currency, amount }),
  sampleEvent("PaymentScreened"),
  sampleEvent("PaymentIntentCreated"),
  sampleEvent("PaymentAuthorized", { amountAuthorized: amount }),
  sampleEvent("PaymentCaptured", { amount, totalCaptured: amount }),
  sampleEvent("PaymentRefundRequested", { refundId: "rfd_1", amount: 1 }),
  sampleEvent("PaymentRefunded", { refundId: "rfd_1", amount: 1, totalRefunded: 1 }),
];

describe("the projector", () => {
  it("converges on the fold of the stream whatever the order, duplication and batching of records", async () => {
    const projector = createProjector({ store, readModels });
    const handler = createProjectorHandler({ projector, logger });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.nat(50), { minLength: 3, maxLength: 20 }),
        fc.integer({ min: 1, max: 5 }),
        async (length, shuffle, batchSize) => {
          const events = await appendHistory(history(`cus-${ulid()}`).slice(0, length));
          // Every event at least once, in a shuffled order, some twice.
          const deliveries = [...events, ...shuffle.map((i) => events[i % events.length]!)]
            .map((event, i) => ({ event, key: shuffle[i % shuffle.length]! * 31 + i }))
            .sort((a, b) => a.key - b.key)
            .map(({ event }) => event);
          for (let i = 0; i < deliveries.length; i += batchSize) {
            const batch = deliveries.slice(i, i + batchSize).map((e, j) => streamRecord(e, i + j));
            expect((await handler({ Records: batch })).batchItemFailures).toEqual([]);
          }
          const expected = foldPaymentView(events)!;
          expect(await readModels.getView(events[0]!.paymentId)).toEqual(expected);
          expect(await readModels.getTransactionLog(expected.transactionId)).toEqual(
            transactionLogItem(expected),
          );
        },
      ),
      propertyRuns(60),
    );
    // Not only fold against fold: a few views checked field by field against values written here.
    for (const [length, want] of [
      [1, { status: "initiated", amountCaptured: 0, amountRefunded: 0, version: 1 }],
      [4, { status: "authorized", amountCaptured: 0, amountRefunded: 0, version: 4 }],
      [5, { status: "captured", amountCaptured: 2599, amountRefunded: 0, version: 5 }],
      [7, { status: "partially_refunded", amountCaptured: 2599, amountRefunded: 1, version: 7 }],
    ] as const) {
      const customerId = `cus-${ulid()}`;
      const events = await appendHistory(history(customerId).slice(0, length));
      const shuffled = [...events].reverse();
      expect(
        (await handler({ Records: shuffled.map((e, i) => streamRecord(e, i)) })).batchItemFailures,
      ).toEqual([]);
      const view = await readModels.getView(events[0]!.paymentId);
      expect(view).toMatchObject({
        ...want,
        paymentId: events[0]!.paymentId,
        transactionId: `txn-${events[0]!.paymentId}`,
        orderId: "ord-10001",
        customerId,
        amount: 2599,
        currency: "usd",
        flags: [],
        createdAt: events[0]!.occurredAt,
        updatedAt: events[length - 1]!.occurredAt,
      });
    }
  }, 240_000);

  it("never moves a view backwards: an older record after a newer one changes nothing", async () => {
    const projector = createProjector({ store, readModels });
    const events = await appendHistory(history(`cus-${ulid()}`));
    await projector.projectPayment(events[0]!.paymentId, events);
    await projector.projectPayment(events[0]!.paymentId, events.slice(0, 3));
    expect(await readModels.getView(events[0]!.paymentId)).toMatchObject({
      version: 7,
      status: "partially_refunded",
    });
    // The guarded writes themselves, against DynamoDB Local: a view is written only over the item
    // as its writer read it (none, or the version it names), the transaction log only forwards.
    const older = foldPaymentView(events.slice(0, 4))!;
    expect(older).toMatchObject({ version: 4, status: "authorized" });
    expect(await readModels.putView(older)).toBe(false);
    expect(await readModels.putView(older, { storedVersion: 4 })).toBe(false);
    expect(await readModels.putTransactionLog(older)).toBe(false);
    const latest = foldPaymentView(events)!;
    const stored = await readModels.getProjection(events[0]!.paymentId);
    expect(await readModels.putView(latest)).toBe(false);
    expect(await readModels.putView(latest, { storedVersion: 6, tally: stored!.tally })).toBe(false);
    expect(await readModels.putView(latest, { storedVersion: 7, tally: stored!.tally })).toBe(true);
    expect(await readModels.getView(events[0]!.paymentId)).toEqual(latest);
    expect(await readModels.getTransactionLog(latest.transactionId)).toMatchObject({ payment_version: 7 });
  });

  it.each([
    ["usd", 2599, "25.99"],
    ["jpy", 1000, "1000"],
    // DynamoDB keeps a number's value, not its trailing zeros: 1.230 is stored as 1.23.
    ["kwd", 1230, "1.23"],
  ])(
    "writes the transaction log in CloudCafe's shape: %s %i is the number %s",
    async (currency, amount, major) => {
      const projector = createProjector({ store, readModels });
      const events = await appendHistory(history("cus-txlog", currency, amount).slice(0, 5));
      await projector.projectPayment(events[0]!.paymentId, events);
      const { Item } = await clients.dynamodb.send(
        new GetItemCommand({
          TableName: tables.transactionLog,
          Key: { transaction_id: { S: `txn-${events[0]!.paymentId}` } },
          ConsistentRead: true,
        }),
      );
      // Field by field, as the existing readers see the raw item.
      expect(Item).toEqual({
        transaction_id: { S: `txn-${events[0]!.paymentId}` },
        payment_id: { S: events[0]!.paymentId },
        order_id: { S: "ord-10001" },
        customer_id: { S: "cus-txlog" },
        amount: { N: major },
        currency: { S: currency },
        payment_method: { S: "card" },
        fraud_score: { N: "0" },
        status: { S: "completed" },
        gateway_response: {
          M: {
            status: { S: "captured" },
            authorization_code: { S: "123456" },
            timestamp: { S: events[4]!.occurredAt },
          },
        },
        processed_at: { S: events[4]!.occurredAt },
        payment_version: { N: "5" },
      });
    },
  );

  it("keeps each customer's declines once, however often they are projected", async () => {
    const projector = createProjector({ store, readModels });
    const customer = `cus-${ulid()}`;
    const events = await appendHistory([
      sampleEvent("PaymentInitiated", { customerId: customer }),
      sampleEvent("PaymentFailed", {
        code: "card_declined",
        message: "Your card was declined.",
        retryable: false,
      }),
    ]);
    for (let i = 0; i < 2; i++) await projector.projectPayment(events[0]!.paymentId, events);
    expect(await readModels.declines(customer)).toEqual([
      expect.objectContaining({
        paymentId: events[0]!.paymentId,
        code: "card_declined",
        amount: 2599,
        currency: "usd",
      }),
    ]);
  });

  it("reports a poison record in batchItemFailures with its reason, and projects the rest of the batch", async () => {
    const projector = createProjector({ store, readModels });
    const handler = createProjectorHandler({ projector, logger });
    const events = await appendHistory(history(`cus-${ulid()}`).slice(0, 2));
    const poison = streamRecord({ ...events[0]!, data: { amount: -1 } as never, version: 99 }, 1);
    const response = await handler({
      Records: [streamRecord(events[0]!, 0), poison, streamRecord(events[1]!, 2)],
    });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poison.dynamodb!.SequenceNumber }]);
    expect(await readModels.getView(events[0]!.paymentId)).toMatchObject({ version: 2 });
  });
});

describe("the projector on the event table's stream, and the API's lookup by customer", () => {
  it("makes a new payment readable by customer id, newest first, cursor-paginated", async () => {
    Object.assign(process.env, linkedEnvironment(stack), { POWERTOOLS_DEV: "true" });
    const { handler } = await import("@payments/functions/projector");
    drivers.push(
      startDynamoDbStreamDriver({
        streams: clients.streams,
        streamArn: await tableStreamArn(clients.dynamodb, stack.tables.events),
        handler,
        fn: { name: "projector" },
        filters: [eventItemFilter],
        startingPosition: "LATEST",
        batchSize: 100,
        bisectOnError: true,
        maxRetries: 3,
      }),
    );
    // From LATEST, the driver sees only what is written after it has positioned itself: a canary
    // payment, appended until one is projected, says it has.
    const liveViews = createReadModelStore({
      client: clients.dynamodb,
      tableName: stack.tables.readModels,
      transactionLogTableName: stack.tables.transactionLog,
    });
    await eventually(
      async () => {
        const [canary] = await appendHistory(history(`cus-canary-${ulid()}`).slice(0, 1));
        await new Promise((resolve) => setTimeout(resolve, 500));
        return (await liveViews.getView(canary!.paymentId)) ? true : undefined;
      },
      { timeoutMs: 20_000, what: "the stream driver to be reading" },
    );
    const customer = `cus-${ulid()}`;
    const payments: string[] = [];
    for (let i = 0; i < 3; i++)
      payments.push((await appendHistory(history(customer).slice(0, 5)))[0]!.paymentId);
    const { app } = await import("@payments/functions/api");
    const { issueToken } = await import("@payments/functions/api/auth");
    const token = await issueToken(stack.secretValues.JwtSecret);
    const get = async (query: string) => {
      const response = await app.request(`/payments?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return (await response.json()) as { items: Array<{ paymentId: string }>; nextCursor?: string };
    };
    // The views appear as the projector catches up; then they are paged through.
    await eventually(
      async () => ((await get(`customerId=${customer}&limit=10`)).items.length === 3 ? true : undefined),
      { timeoutMs: 20_000, what: "the three projected views" },
    );
    const first = await get(`customerId=${customer}&limit=2`);
    expect(first.items).toHaveLength(2);
    const second = await get(`customerId=${customer}&limit=2&cursor=${first.nextCursor}`);
    expect([...first.items, ...second.items].map((v) => v.paymentId).sort()).toEqual([...payments].sort());
    expect(second.nextCursor).toBeUndefined();
    const bad = await app.request(`/payments?customerId=${customer}&cursor=nonsense`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
    // Forged cursors (base64 of JSON this API never handed out) are refused before DynamoDB sees them:
    // another customer's cursor, a key with an extra attribute, a key in DynamoDB's own typed shape.
    const handedOut = JSON.parse(Buffer.from(first.nextCursor!, "base64url").toString()) as Record<
      string,
      string
    >;
    const forge = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");
    const forged = [
      { ...handedOut, gsi2pk: "customer#someone-else" },
      { ...handedOut, extra: "x" },
      { pk: { S: "payment#x" }, sk: { S: "view" } },
      { ...handedOut, sk: "decline#2026" },
    ];
    for (const key of forged) {
      const response = await app.request(`/payments?customerId=${customer}&cursor=${forge(key)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect({ key, status: response.status }).toEqual({ key, status: 400 });
      expect(((await response.json()) as { detail: string }).detail).toMatch(/cursor/);
    }
  }, 40_000);
});
