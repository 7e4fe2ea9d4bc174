import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DeleteItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import {
  createDynamoEventStore,
  createReadModelStore,
  type ReadModelStore,
} from "@payments/adapters/dynamodb";
import { createCommandHandler, foldPaymentView } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { createProjector } from "@payments/functions/projector/project";
import { replayProjections } from "@payments/functions/projector/replay";
import { ensureTable } from "@payments/local";
import { readModelTable, transactionLogTable } from "@payments/topology";
import { ulid } from "ulid";
import { beforeAll, describe, expect, it } from "vitest";
import { freshEventStoreTable, testDynamoClient } from "../helpers/dynamo";
import { eventually } from "../helpers/eventually";
import { sampleEvent } from "../helpers/fixtures";
import { consumeTopic, SPEC_PUBLIC_EVENTS } from "../helpers/relay";
import { testStack } from "../helpers/stack";

const client = testDynamoClient();
let eventsTable: string;
let store: ReturnType<typeof createDynamoEventStore>;
const metadata = { correlationId: "c", causationId: "c", source: "test" };

async function freshReadModels(): Promise<{
  readModels: ReadModelStore;
  tables: { readModels: string; transactionLog: string };
}> {
  const suffix = randomUUID().slice(0, 8);
  const tables = { readModels: `rm-${suffix}`, transactionLog: `txlog-${suffix}` };
  await ensureTable(client, readModelTable, tables.readModels);
  await ensureTable(client, transactionLogTable, tables.transactionLog);
  return {
    tables,
    readModels: createReadModelStore({
      client,
      tableName: tables.readModels,
      transactionLogTableName: tables.transactionLog,
    }),
  };
}
const history = (i: number): PaymentEvent[] => {
  const currency = ["usd", "jpy", "kwd"][i % 3]!;
  const amount = [2599, 1000, 1230][i % 3]!;
  return [
    sampleEvent("PaymentInitiated", {
      customerId: `cus-${i % 5}`,
      currency,
      amount,
      orderId: `ord-${ulid()}`,
    }),
    sampleEvent("PaymentScreened"),
    sampleEvent("PaymentIntentCreated"),
    sampleEvent("PaymentAuthorized", { amountAuthorized: amount }),
    sampleEvent("PaymentCaptured", { amount, totalCaptured: amount }),
  ].slice(0, 1 + (i % 5));
};
async function seed(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const paymentId = `pay_${ulid()}`;
    await store.append({
      paymentId,
      expectedVersion: 0,
      events: history(i),
      metadata,
      now: new Date(),
      newId: ulid,
    });
    ids.push(paymentId);
  }
  return ids;
}

beforeAll(async () => {
  ({ tableName: eventsTable } = await freshEventStoreTable("replay"));
  store = createDynamoEventStore({ client, tableName: eventsTable });
});

describe("replay of the projections", () => {
  it("rebuilds into empty read-model tables exactly the views the live projector made", async () => {
    const ids = await seed(40);
    const live = await freshReadModels();
    const projector = createProjector({ store, readModels: live.readModels });
    for (const id of ids) await projector.projectPayment(id, await store.load(id));
    const rebuilt = await freshReadModels();
    const result = await replayProjections(
      { client, eventsTable, store, readModels: rebuilt.readModels },
      { segments: 3 },
    );
    expect(result).toMatchObject({ payments: ids.length, corrupt: [] });
    expect(result.events).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) {
      const view = await live.readModels.getView(id);
      expect(await rebuilt.readModels.getView(id)).toEqual(view);
      expect(await rebuilt.readModels.getTransactionLog(view!.transactionId)).toEqual(
        await live.readModels.getTransactionLog(view!.transactionId),
      );
    }
  });

  it("builds only the transaction log with --only transaction-log: a read model added today, filled from history", async () => {
    const ids = await seed(6);
    const target = await freshReadModels();
    await replayProjections(
      { client, eventsTable, store, readModels: target.readModels },
      { only: "transaction-log" },
    );
    for (const id of ids) {
      expect(await target.readModels.getView(id)).toBeUndefined();
      expect(await target.readModels.getTransactionLog(`txn-${id}`)).toMatchObject({ payment_id: id });
    }
  });

  it("loses no update when it runs while writers append, and then verifies clean", async () => {
    const ids = await seed(20);
    const target = await freshReadModels();
    const projector = createProjector({ store, readModels: target.readModels });
    const handle = createCommandHandler(store, { newId: ulid });
    // Live traffic: each payment gets a screening decision or a failure, projected as it lands.
    const writers = (async () => {
      for (const id of ids) {
        const state = foldPaymentView(await store.load(id))!;
        if (state.status !== "initiated" || state.version !== 1) continue;
        const { appended } = await handle({
          paymentId: id,
          metadata,
          command: { type: "FailPayment", code: "card_declined", message: "declined", retryable: false },
        });
        await projector.projectPayment(id, appended);
      }
    })();
    const replay = replayProjections(
      { client, eventsTable, store, readModels: target.readModels },
      { concurrency: 4 },
    );
    await Promise.all([writers, replay]);
    const verified = await replayProjections(
      { client, eventsTable, store, readModels: target.readModels },
      { verify: true, settleMs: 200 },
    );
    expect(verified.differing).toEqual([]);
  });

  it("reports a view corrupted by hand, and repairs it by replaying again", async () => {
    const [id] = await seed(1);
    const target = await freshReadModels();
    await replayProjections({ client, eventsTable, store, readModels: target.readModels }, { paymentId: id });
    const good = (await target.readModels.getView(id!))!;
    await client.send(
      new PutItemCommand({
        TableName: target.tables.readModels,
        Item: marshall({
          pk: `payment#${id}`,
          sk: "view",
          version: good.version,
          view: { ...good, amount: 1 },
        }),
      }),
    );
    const verify = () =>
      replayProjections(
        { client, eventsTable, store, readModels: target.readModels },
        { paymentId: id, verify: true, settleMs: 50 },
      );
    const drift = await verify();
    expect(drift.differing).toEqual([
      expect.objectContaining({ paymentId: id, stored: expect.objectContaining({ amount: 1 }) }),
    ]);
    await replayProjections({ client, eventsTable, store, readModels: target.readModels }, { paymentId: id });
    expect((await verify()).differing).toEqual([]);
    expect(await target.readModels.getView(id!)).toEqual(good);
  });

  it("reports a corrupt event clearly and rebuilds every other stream", async () => {
    const ids = await seed(3);
    await client.send(
      new PutItemCommand({
        TableName: eventsTable,
        Item: marshall({
          pk: ids[0],
          sk: "0000000099",
          __edb_e__: "event",
          __edb_v__: "1",
          id: "bad",
          type: "PaymentCaptured",
          schemaVersion: 1,
          paymentId: ids[0],
          version: 99,
          occurredAt: new Date().toISOString(),
          data: { amount: -5 },
          metadata,
        }),
      }),
    );
    const target = await freshReadModels();
    const result = await replayProjections({ client, eventsTable, store, readModels: target.readModels });
    expect(result.corrupt).toEqual([
      { paymentId: ids[0], reason: expect.stringContaining("PaymentCaptured v1 does not match its schema") },
    ]);
    for (const id of ids.slice(1)) expect(await target.readModels.getView(id)).toBeDefined();
    await client.send(
      new DeleteItemCommand({ TableName: eventsTable, Key: marshall({ pk: ids[0], sk: "0000000099" }) }),
    );
  });
});

describe("npm run replay", () => {
  it("verifies from a stack file: exit 0 when clean, 1 when a view differs, with events/s", async () => {
    const [id] = await seed(1);
    const target = await freshReadModels();
    const stackFile = join(mkdtempSync(join(tmpdir(), "replay-")), "stack.json");
    writeFileSync(
      stackFile,
      JSON.stringify({
        dynamoEndpoint: testStack().dynamoEndpoint,
        tables: { events: eventsTable, ...target.tables },
      }),
    );
    const run = (...args: string[]) =>
      promisify(execFile)("npx", ["tsx", "packages/cli/src/replay/main.ts", ...args, "--stack", stackFile], {
        env: { ...process.env, CI: "true" },
      }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string; stderr: string }) => ({
          code: error.code,
          stdout: error.stdout + error.stderr,
        }),
      );
    const rebuilt = await run("projections", "--payment", id!);
    expect(rebuilt).toMatchObject({ code: 0, stdout: expect.stringMatching(/events\/s/) });
    expect((await run("projections", "--payment", id!, "--verify")).code).toBe(0);
    await client.send(
      new PutItemCommand({
        TableName: target.tables.readModels,
        Item: marshall({ pk: `payment#${id}`, sk: "view", version: 1, view: { paymentId: id, version: 1 } }),
      }),
    );
    const drift = await run("projections", "--payment", id!, "--verify");
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain(`payment ${id} differs from its stream`);
  }, 90_000);

  it("re-publishes a payment's events to the topic, and its public ones to the bus, with metadata.replay (replay -- bus)", async () => {
    // The fifth history: initiated, screened, intent created, authorized, captured.
    const id = (await seed(5))[4];
    const stack = testStack();
    const stackFile = join(mkdtempSync(join(tmpdir(), "replay-bus-")), "stack.json");
    writeFileSync(
      stackFile,
      JSON.stringify({
        dynamoEndpoint: stack.dynamoEndpoint,
        awsEndpoint: stack.awsEndpoint,
        region: stack.region,
        tables: { ...stack.tables, events: eventsTable },
        bus: stack.bus.name,
        kafka: stack.kafka,
        queues: {},
      }),
    );
    const consumer = await consumeTopic(stack.kafka.brokers, stack.kafka.topic, (key) => key === id);
    try {
      const { stdout } = await promisify(execFile)(
        "npx",
        ["tsx", "packages/cli/src/replay/main.ts", "bus", "--payment", id!, "--stack", stackFile],
        { env: { ...process.env, CI: "true" } },
      );
      const events = await store.load(id!);
      expect(stdout).toContain(`1 payments, ${events.length} events re-published`);
      const onBus = events.filter((e) => SPEC_PUBLIC_EVENTS.has(e.type)).length;
      expect([onBus, events.length]).toEqual([3, 5]);
      expect(stdout).toContain(
        `eventbridge ${onBus} of ${onBus}, kafka ${events.length} of ${events.length}`,
      );
      await eventually(() => (consumer.arrivals.length >= events.length ? true : undefined), {
        timeoutMs: 30_000,
        what: "the replayed events on the topic",
      });
      expect(consumer.arrivals.map((a) => a.envelope)).toEqual(
        events.map((e) => ({ ...e, metadata: { ...e.metadata, replay: true } })),
      );
    } finally {
      await consumer.stop();
    }
  }, 90_000);
});
