import { randomUUID } from "node:crypto";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { createCustomerActivity, createDynamoEventStore } from "@payments/adapters/dynamodb";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "@payments/local";
import { readModelTable } from "@payments/topology";
import { ulid } from "ulid";
import { afterAll, describe, expect, it } from "vitest";
import { sampleEvent } from "../helpers/fixtures";
import { stackClients, testStack } from "../helpers/stack";

const clients = stackClients();
const activity = createCustomerActivity({
  client: clients.dynamodb,
  tableName: testStack().tables.readModels,
});
afterAll(() => {
  for (const client of Object.values(clients)) client.destroy();
});

const customer = () => `cus-${randomUUID().slice(0, 8)}`;
const at = new Date("2026-11-27T10:00:30.000Z");
const later = (ms: number) => new Date(at.getTime() + ms);

describe("customer activity on DynamoDB Local: each count once per payment", () => {
  it("counts a payment once however often it is recorded, and never among its own 'before'", async () => {
    const c = customer();
    const first = await activity.recordPayment(c, "pay_1", at);
    const again = await activity.recordPayment(c, "pay_1", at);
    for (const seen of [first, again]) {
      expect(seen).toMatchObject({ paymentsLast10Minutes: 0, paymentsLastHour: 0, lifetimePayments: 0 });
    }
    expect(await activity.read(c, later(1_000))).toMatchObject({
      paymentsLast10Minutes: 1,
      paymentsLastHour: 1,
      lifetimePayments: 1,
    });
    // A redelivery two hours later, in another hour's bucket, is still the same payment: read then,
    // the last hour holds nothing and the lifetime one payment (dedupe per bucket would count two).
    await activity.recordPayment(c, "pay_1", later(2 * 3_600_000));
    expect(await activity.read(c, later(2 * 3_600_000 + 1_000))).toMatchObject({
      paymentsLast10Minutes: 0,
      paymentsLastHour: 0,
      lifetimePayments: 1,
    });
    const second = await activity.recordPayment(c, "pay_2", later(60_000));
    expect(second).toMatchObject({ paymentsLast10Minutes: 1, paymentsLastHour: 1, lifetimePayments: 1 });
  });

  it("counts a decline once however often it is recorded", async () => {
    const c = customer();
    await activity.recordDecline(c, "pay_d", at);
    await activity.recordDecline(c, "pay_d", later(5_000));
    await activity.recordDecline(c, "pay_d", later(2 * 3_600_000));
    expect(await activity.read(c, later(10_000))).toMatchObject({ declinesLastHour: 1, declinesLastDay: 1 });
    await activity.recordDecline(c, "pay_e", later(20_000));
    expect(await activity.read(c, later(30_000))).toMatchObject({ declinesLastHour: 2, declinesLastDay: 2 });
    // Read when the +2 h retry happened: pay_d's decline is over an hour old and counted once.
    expect(await activity.read(c, later(2 * 3_600_000 + 1_000))).toMatchObject({
      declinesLastHour: 0,
      declinesLastDay: 2,
    });
  });

  it("counts each of 25 concurrent payments of one customer exactly once, and each sees the ones before it", async () => {
    const c = customer();
    const ids = Array.from({ length: 25 }, (_, i) => `pay_burst_${i}`);
    const seen = await Promise.all(ids.map((id) => activity.recordPayment(c, id, at)));
    // Each payment is counted before it reads, so the k-th to be counted sees at least k-1 others.
    const before = seen.map((s) => s.paymentsLast10Minutes).sort((a, b) => a - b);
    for (const [rank, count] of before.entries()) expect(count).toBeGreaterThanOrEqual(rank);
    // Exactly one of them is the customer's first payment: the one whose write of the lifetime item
    // landed (its condition refused the 24 others), named in that item.
    const firsts = ids.filter((_, i) => seen[i]!.lifetimePayments === 0);
    expect(firsts).toEqual([(await lifetimeItem(c))?.firstPaymentId]);
    // A repeat of the whole burst counts nothing more, and finds the same first payment.
    const again = await Promise.all(ids.map((id) => activity.recordPayment(c, id, at)));
    expect(ids.filter((_, i) => again[i]!.lifetimePayments === 0)).toEqual(firsts);
    expect(await activity.read(c, at)).toMatchObject({ paymentsLast10Minutes: 25, lifetimePayments: 1 });
  });

  it("writes the lifetime item once, with the customer's first payment: a returning customer's payment does not touch it", async () => {
    const c = customer();
    await activity.recordPayment(c, "pay_first", at);
    const written = await lifetimeItem(c);
    expect(written).toMatchObject({ firstPaymentId: "pay_first" });
    expect(written).not.toHaveProperty(readModelTable.ttlAttribute);
    const next = await activity.recordPayment(c, "pay_next", later(60_000));
    expect(next.lifetimePayments).toBe(1);
    expect(await lifetimeItem(c)).toEqual(written);
  });

  it("gives the buckets the table's TTL, two days on, so that AWS removes them", async () => {
    // DynamoDB Local does not expire items: what is asserted is the attribute the table's TTL reads.
    const c = customer();
    await activity.recordPayment(c, "pay_ttl", at);
    await activity.recordDecline(c, "pay_ttl", at);
    const { Items = [] } = await clients.dynamodb.send(
      new QueryCommand({
        TableName: stack.tables.readModels,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :activity)",
        ExpressionAttributeValues: { ":pk": { S: `customer#${c}` }, ":activity": { S: "activity#" } },
        ConsistentRead: true,
      }),
    );
    const buckets = Items.map((item) => unmarshall(item)).filter((item) => item.sk !== "activity#lifetime");
    expect(buckets.map((item) => (item.sk as string).slice(0, "activity#p#".length)).sort()).toEqual([
      "activity#d#",
      "activity#p#",
    ]);
    const twoDaysOn = Math.floor(at.getTime() / 1000) + 2 * 24 * 3600;
    for (const bucket of buckets) expect(bucket[readModelTable.ttlAttribute]).toBe(twoDaysOn);
  });

  it("reads a lifetime count written before the first-payment item as the payments before any new one", async () => {
    const c = customer();
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: stack.tables.readModels,
        // As the counting code wrote it: ElectroDB's entity attributes, the count, its unused expiry.
        Item: {
          ...lifetimeKey(c),
          customerId: { S: c },
          bucket: { S: "lifetime" },
          count: { N: "3" },
          expiresAt: { N: "1800000000" },
          __edb_e__: { S: "customerActivity" },
          __edb_v__: { S: "1" },
        },
      }),
    );
    expect(await activity.recordPayment(c, "pay_after", at)).toMatchObject({ lifetimePayments: 3 });
    expect(await lifetimeItem(c)).not.toHaveProperty("firstPaymentId");
  });

  it("counts each of 25 concurrent initiations of one customer's payments once, in their own transactions", async () => {
    const c = customer();
    const appended = await Promise.all(
      Array.from({ length: 25 }, () => initiate(countingStore(clients.dynamodb), c)),
    );
    // The initiation counts the minute; the lifetime item is screening's to write, for a first payment.
    expect(await activity.read(c, at)).toMatchObject({ paymentsLast10Minutes: 25, lifetimePayments: 0 });
    expect(await lifetimeItem(c)).toBeUndefined();
    // Each claim says the payment was counted with it: a redelivery reads it, and counts nothing.
    const claims = await Promise.all(
      appended.map(([initiated]) => countingStore(clients.dynamodb).findClaim(orderClaim(initiated!))),
    );
    expect(claims.map((claim) => claim?.countedFor)).toEqual(Array(25).fill(c));
  });

  it("tries an initiation again when another transaction met it on a counter, and counts it once", async () => {
    // DynamoDB Local runs transactions one after another and never reports a conflict, so the
    // conflict AWS reports (TransactionConflict on a counter, None elsewhere) is injected once here.
    const client = new DynamoDBClient({
      endpoint: stack.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    let injected = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const items = (args.input as { TransactItems?: unknown[] }).TransactItems ?? [];
        if (context.commandName === "TransactWriteItemsCommand" && injected === 0 && items.length > 2) {
          injected += 1;
          throw new TransactionCanceledException({
            message: "Transaction cancelled, please refer cancellation reasons for specific reasons",
            $metadata: {},
            CancellationReasons: items.map((_, i) => ({
              Code: i === items.length - 1 ? "TransactionConflict" : "None",
            })),
          });
        }
        return next(args);
      },
      { step: "initialize", name: "injectConflict" },
    );
    const c = customer();
    await initiate(countingStore(client), c);
    expect(injected).toBe(1);
    expect(await activity.read(c, at)).toMatchObject({ paymentsLast10Minutes: 1 });
    client.destroy();
  });
});

const stack = testStack();
/** The event store as process-payment has it: an initiation counts its payment. */
const countingStore = (client: DynamoDBClient) =>
  createDynamoEventStore({
    client,
    tableName: stack.tables.events,
    activityTableName: () => stack.tables.readModels,
  });
const lifetimeKey = (customerId: string) => ({
  pk: { S: `customer#${customerId}` },
  sk: { S: "activity#lifetime" },
});
/** The customer's lifetime item as DynamoDB holds it, read around the adapter. */
const lifetimeItem = async (customerId: string) => {
  const { Item } = await clients.dynamodb.send(
    new GetItemCommand({
      TableName: stack.tables.readModels,
      Key: lifetimeKey(customerId),
      ConsistentRead: true,
    }),
  );
  return Item && unmarshall(Item);
};
const orderClaim = (initiated: { data: unknown }) => ({
  kind: "orderId" as const,
  value: (initiated.data as { orderId: string }).orderId,
});
/** A payment's initiation as process-payment appends it: its event, its order-id claim and its count. */
const initiate = (store: ReturnType<typeof countingStore>, customerId: string) => {
  const orderId = `ord-${ulid()}`;
  return store.append({
    paymentId: `pay_${ulid()}`,
    expectedVersion: 0,
    events: [sampleEvent("PaymentInitiated", { customerId, orderId })],
    unique: [{ kind: "orderId", value: orderId }],
    metadata: { correlationId: "c", causationId: "c", source: "test" },
    countPayment: { customerId },
    now: at,
    newId: ulid,
  });
};
