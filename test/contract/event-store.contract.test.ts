import { createDynamoEventStore, VERSION_PAD } from "@payments/adapters/dynamodb";
import { createMemoryEventStore } from "@payments/adapters/memory";
import {
  ConcurrencyError,
  createCommandHandler,
  EventSchemaError,
  type EventStore,
  EventTooLargeError,
  foldPayment,
  InvalidCommandError,
  LifecycleRuleError,
  type RecordedEvent,
  UniquenessConflictError,
} from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { loadSample } from "@payments/events/samples";
import { ulid } from "ulid";
import { beforeAll, describe, expect, it } from "vitest";
import { freshEventStoreTable, putRawItem } from "../helpers/dynamo";
import { history, sampleEvent } from "../helpers/fixtures";
import { captured10000, refusedCommands } from "../helpers/invalid-commands";

/**
 * A store whose loads wait until `parties` of them have been made: every racer reads the same
 * version before any of them appends, so the race the test is about always happens.
 */
function withLoadBarrier(store: EventStore, parties: number): EventStore {
  let arrived = 0;
  let open: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    ...store,
    async load(paymentId, options) {
      const events = await store.load(paymentId, options);
      arrived += 1;
      if (arrived >= parties) open();
      await gate;
      return events;
    },
  };
}

interface StoreUnderTest {
  name: string;
  create(): Promise<{ store: EventStore; writeRaw(envelope: RecordedEvent): Promise<void> }>;
}

const stores: StoreUnderTest[] = [
  {
    name: "in-memory",
    async create() {
      const store = createMemoryEventStore();
      return {
        store,
        async writeRaw(envelope) {
          const streams = store.streams as Map<string, RecordedEvent[]>;
          streams.set(envelope.paymentId, [...(streams.get(envelope.paymentId) ?? []), envelope]);
        },
      };
    },
  },
  {
    name: "DynamoDB Local",
    async create() {
      const { client, tableName } = await freshEventStoreTable();
      return {
        store: createDynamoEventStore({ client, tableName }),
        async writeRaw(envelope) {
          await putRawItem(client, tableName, {
            ...envelope,
            pk: envelope.paymentId,
            sk: String(envelope.version).padStart(VERSION_PAD, "0"),
            __edb_e__: "event",
            __edb_v__: "1",
          });
        },
      };
    },
  },
];

const metadata = { correlationId: "corr-1", causationId: "cause-1", source: "contract-test" };
const now = new Date("2026-11-20T10:00:00.000Z");
const newPaymentId = () => `pay_${ulid()}`;

describe.each(stores)("event store contract: $name", ({ create }) => {
  let store: EventStore;
  let writeRaw: (envelope: RecordedEvent) => Promise<void>;
  beforeAll(async () => {
    ({ store, writeRaw } = await create());
  });

  const append = (
    paymentId: string,
    expectedVersion: number,
    events: PaymentEvent[],
    unique = [] as Parameters<EventStore["append"]>[0]["unique"],
  ) => store.append({ paymentId, expectedVersion, events, metadata, unique, now, newId: ulid });

  it("appends events and loads them back in version order, in their envelopes", async () => {
    const paymentId = newPaymentId();
    await append(paymentId, 0, [sampleEvent("PaymentInitiated")]);
    await append(paymentId, 1, history.authorized().slice(1));
    const loaded = await store.load(paymentId);
    expect(loaded.map((e) => [e.version, e.type])).toEqual([
      [1, "PaymentInitiated"],
      [2, "PaymentScreened"],
      [3, "PaymentIntentCreated"],
      [4, "PaymentAuthorized"],
    ]);
    expect(loaded[0]).toMatchObject({
      paymentId,
      schemaVersion: 1,
      occurredAt: now.toISOString(),
      metadata,
      data: sampleEvent("PaymentInitiated").data,
    });
    expect(new Set(loaded.map((e) => e.id)).size).toBe(4);
    expect(foldPayment(loaded)).toMatchObject({
      version: 4,
      state: { status: "authorized", amountAuthorized: 2599 },
    });
  });

  it("loads only the events after a version when asked", async () => {
    const paymentId = newPaymentId();
    await append(paymentId, 0, history.captured());
    const after = await store.load(paymentId, { afterVersion: 3 });
    expect(after.map((e) => e.version)).toEqual([4, 5]);
  });

  it("loads an unknown stream as empty", async () => {
    expect(await store.load(newPaymentId())).toEqual([]);
  });

  it("refuses an append at a version already taken, and writes nothing", async () => {
    const paymentId = newPaymentId();
    await append(paymentId, 0, history.screened());
    await expect(append(paymentId, 1, [sampleEvent("PaymentCanceled")])).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    await expect(append(paymentId, 0, [sampleEvent("PaymentInitiated")])).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    expect((await store.load(paymentId)).map((e) => e.type)).toEqual(["PaymentInitiated", "PaymentScreened"]);
  });

  it("lets exactly one of 50 concurrent writers win the same version", async () => {
    const paymentId = newPaymentId();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        append(paymentId, 0, [sampleEvent("PaymentInitiated", { orderId: `ord-${i}` })]),
      ),
    );
    const winners = results.filter((r) => r.status === "fulfilled");
    const losers = results.filter((r) => r.status === "rejected");
    expect(winners).toHaveLength(1);
    for (const loser of losers)
      expect((loser as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    const stream = await store.load(paymentId);
    expect(stream).toHaveLength(1);
    expect(stream[0]!.id).toBe((winners[0] as PromiseFulfilledResult<RecordedEvent[]>).value[0]!.id);
  });

  it("keeps a stream gapless and duplicate-free under 50 concurrent command handlers", async () => {
    const paymentId = newPaymentId();
    await append(paymentId, 0, [
      sampleEvent("PaymentInitiated", { amount: 1_000_000 }),
      sampleEvent("PaymentAuthorized", { amountAuthorized: 1_000_000 }),
      sampleEvent("PaymentCaptured", { amount: 1_000_000, totalCaptured: 1_000_000 }),
    ]);
    const handle = createCommandHandler(store, { newId: ulid, maxAttempts: 200 });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        handle({ paymentId, metadata, command: { type: "RefundPayment", refundId: `re_${i}`, amount: 100 } }),
      ),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const stream = await store.load(paymentId);
    expect(stream.map((e) => e.version)).toEqual(Array.from({ length: 53 }, (_, i) => i + 1));
    const refunds = stream.filter((e) => e.type === "PaymentRefunded");
    expect(new Set(refunds.map((e) => e.data.refundId)).size).toBe(50);
    expect(foldPayment(stream).state).toMatchObject({ amountRefunded: 5_000, status: "partially_refunded" });
  });

  it("reports a lost race as ConcurrencyError once its bounded retries are spent", async () => {
    const paymentId = newPaymentId();
    await append(paymentId, 0, history.captured());
    // All ten read version 5 before any appends, so exactly one wins and nine lose, every run.
    const handle = createCommandHandler(withLoadBarrier(store, 10), { newId: ulid, maxAttempts: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        handle({ paymentId, metadata, command: { type: "RefundPayment", refundId: `re_${i}`, amount: 1 } }),
      ),
    );
    const lost = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(lost).toHaveLength(9);
    for (const r of lost) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
      expect((r as PromiseRejectedResult).reason).toMatchObject({ expectedVersion: 5, attempts: 1 });
    }
    expect((await store.load(paymentId)).length).toBe(6);
  });

  it("decides on a state the caller already holds, and reads the stream afresh when that state is stale", async () => {
    const paymentId = newPaymentId();
    await append(paymentId, 0, history.captured());
    const handle = createCommandHandler(store, { newId: ulid });
    // Stale and refusing: authorized at version 4, where a refund breaks a rule. The refusal is
    // judged again on the stream as it is (captured), where the refund is allowed.
    const stale = foldPayment((await store.load(paymentId)).slice(0, 4));
    const refunded = await handle({
      paymentId,
      metadata,
      known: stale,
      command: { type: "RefundPayment", refundId: "re_1", amount: 100 },
    });
    expect(refunded).toMatchObject({ version: 6, state: { amountRefunded: 100 } });
    const known = foldPayment((await store.load(paymentId)).slice(0, 5));
    // Stale and allowing (captured, version 5): the append loses the race once, then wins on a fresh read.
    const again = await handle({
      paymentId,
      metadata,
      known,
      command: { type: "RefundPayment", refundId: "re_2", amount: 100 },
    });
    expect(again).toMatchObject({ version: 7, state: { amountRefunded: 200 } });
    expect((await store.load(paymentId)).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("lets exactly one of two concurrent refunds through when together they exceed the capture", async () => {
    const paymentId = newPaymentId();
    await append(paymentId, 0, history.captured());
    const handle = createCommandHandler(store, { newId: ulid });
    const results = await Promise.allSettled([
      handle({ paymentId, metadata, command: { type: "RefundPayment", refundId: "re_a", amount: 2000 } }),
      handle({ paymentId, metadata, command: { type: "RefundPayment", refundId: "re_b", amount: 2000 } }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({
      reason: { rule: "refund_exceeds_captured" },
    });
    expect(foldPayment(await store.load(paymentId)).state).toMatchObject({ amountRefunded: 2000 });
  });

  it("appends events and uniqueness claims all or nothing: a clash leaves no event behind", async () => {
    const first = newPaymentId();
    const second = newPaymentId();
    const orderId = `ord-${ulid()}`;
    await append(
      first,
      0,
      [sampleEvent("PaymentInitiated", { orderId })],
      [{ kind: "orderId", value: orderId }],
    );
    const clash = append(
      second,
      0,
      [sampleEvent("PaymentInitiated", { orderId })],
      [{ kind: "orderId", value: orderId }],
    );
    await expect(clash).rejects.toBeInstanceOf(UniquenessConflictError);
    await expect(clash).rejects.toMatchObject({ kind: "orderId", value: orderId, ownerPaymentId: first });
    expect(await store.load(second)).toEqual([]);
    expect(await store.findOwner({ kind: "orderId", value: orderId })).toBe(first);
  });

  it("gives a contested orderId to exactly one of many concurrent payments", async () => {
    const orderId = `ord-${ulid()}`;
    const ids = Array.from({ length: 10 }, newPaymentId);
    const results = await Promise.allSettled(
      ids.map((id) =>
        append(id, 0, [sampleEvent("PaymentInitiated", { orderId })], [{ kind: "orderId", value: orderId }]),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const owner = await store.findOwner({ kind: "orderId", value: orderId });
    for (const id of ids) expect((await store.load(id)).length).toBe(id === owner ? 1 : 0);
  });

  it("refuses an event over EventBridge's entry limit before writing anything", async () => {
    const paymentId = newPaymentId();
    const huge = sampleEvent("PaymentScreened", {
      reasons: Array.from({ length: 3000 }, () => "x".repeat(100)),
    });
    await expect(append(paymentId, 0, [sampleEvent("PaymentInitiated"), huge])).rejects.toBeInstanceOf(
      EventTooLargeError,
    );
    expect(await store.load(paymentId)).toEqual([]);
  });

  it.each(refusedCommands)(
    "refuses %s before any read, appends nothing, and the stream still loads",
    async (_, historyOf, command) => {
      const paymentId = newPaymentId();
      const before = historyOf();
      if (before.length > 0) await append(paymentId, 0, before);
      const handle = createCommandHandler(store, { newId: ulid });
      await expect(handle({ paymentId, metadata, command })).rejects.toBeInstanceOf(InvalidCommandError);
      expect(await store.load(paymentId)).toHaveLength(before.length);
    },
  );

  it("refuses a refund of -5000 and then one of 15000 on a 10000 capture: nothing goes back", async () => {
    const paymentId = newPaymentId();
    await append(paymentId, 0, captured10000());
    const handle = createCommandHandler(store, { newId: ulid });
    await expect(
      handle({ paymentId, metadata, command: { type: "RefundPayment", refundId: "re_neg", amount: -5000 } }),
    ).rejects.toMatchObject({ rule: "amount_not_positive" });
    await expect(
      handle({ paymentId, metadata, command: { type: "RefundPayment", refundId: "re_big", amount: 15_000 } }),
    ).rejects.toBeInstanceOf(LifecycleRuleError);
    expect(foldPayment(await store.load(paymentId)).state).toMatchObject({
      status: "captured",
      amountCaptured: 10_000,
      amountRefunded: 0,
    });
  });

  it("refuses an event the read path could not load, whoever built it, and writes nothing", async () => {
    const paymentId = newPaymentId();
    const bad = { type: "PaymentCaptured", data: { amount: -1, totalCaptured: -1 } } as PaymentEvent;
    await expect(append(paymentId, 0, [sampleEvent("PaymentInitiated"), bad])).rejects.toBeInstanceOf(
      EventSchemaError,
    );
    await expect(
      append(paymentId, 0, [sampleEvent("PaymentInitiated", { currency: "USD" })]),
    ).rejects.toBeInstanceOf(EventSchemaError);
    expect(await store.load(paymentId)).toEqual([]);
  });

  it("loads a stream of more than 1 MB whole", async () => {
    const paymentId = newPaymentId();
    const bulky = () =>
      sampleEvent("PaymentScreened", {
        reasons: Array.from({ length: 200 }, (_, i) => `${i}`.padEnd(100, "r")),
      });
    await append(paymentId, 0, [sampleEvent("PaymentInitiated")]);
    for (let version = 1; version <= 60; version += 10) {
      await append(paymentId, version, Array.from({ length: 10 }, bulky));
    }
    const stream = await store.load(paymentId);
    const bytes = stream.reduce((sum, e) => sum + JSON.stringify(e).length, 0);
    expect(bytes).toBeGreaterThan(1024 * 1024);
    expect(stream.map((e) => e.version)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
  });

  it("reads events written at an older schema version in the current shape", async () => {
    const legacy = loadSample<RecordedEvent>("envelopes", "PaymentFailed.v1");
    const paymentId = newPaymentId();
    await append(paymentId, 0, history.initiated());
    await writeRaw({ ...legacy, paymentId, version: 2 });
    const [, failed] = await store.load(paymentId);
    expect(failed).toMatchObject({ type: "PaymentFailed", schemaVersion: 2, data: { retryable: false } });
  });
});
