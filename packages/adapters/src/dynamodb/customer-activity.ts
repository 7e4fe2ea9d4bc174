import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  type UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { CustomerActivity, CustomerActivityPort } from "@payments/core";
import { readModelTable } from "@payments/topology";
import { Entity } from "electrodb";
import { transactRetryingConflicts } from "./transactions";

/**
 * Counters of a customer's payments and declines, bucketed by minute (payments, for the last
 * hour) and by hour (declines, for the last day), and whether the customer paid before. A payment is
 * counted when it is initiated (with the initiation, or before screening for a payment initiated
 * without), so a burst is seen while it happens. The buckets expire two days on (`timeToLive`, the
 * read-model table's TTL); the customer's lifetime item never does.
 *
 * The lifetime item: screening asks only whether a customer paid before (a first payment of a large
 * amount), so it is written once, by the customer's first payment (`firstPaymentId`), and a returning
 * customer's payment writes nothing there: 2 write units off every such payment, where a count bumped
 * in the initiation's transaction cost them. Written before 2026-12-06, it holds a `count` instead.
 */
function activityEntity(client: DynamoDBDocumentClient, table: string) {
  return new Entity(
    {
      model: { entity: "customerActivity", version: "1", service: "payments" },
      attributes: {
        customerId: { type: "string", required: true },
        bucket: { type: "string", required: true },
        count: { type: "number" },
        /** The lifetime item only: the payment that found the customer new, and wrote it. */
        firstPaymentId: { type: "string" },
        /** The buckets only. */
        [readModelTable.ttlAttribute]: { type: "number" },
      },
      indexes: {
        byCustomer: {
          pk: {
            field: readModelTable.partitionKey,
            composite: ["customerId"],
            template: "customer#${customerId}",
            casing: "none",
          },
          sk: {
            field: readModelTable.sortKey,
            composite: ["bucket"],
            template: "activity#${bucket}",
            casing: "none",
          },
        },
      },
    },
    { client, table },
  );
}

/**
 * That a payment (or its decline) was counted, and when: written in the same transaction as the
 * counts, so a count is made once per payment, whatever is retried.
 */
function countedEntity(client: DynamoDBDocumentClient, table: string) {
  return new Entity(
    {
      model: { entity: "customerActivityCounted", version: "1", service: "payments" },
      attributes: {
        customerId: { type: "string", required: true },
        kind: { type: "string", required: true },
        paymentId: { type: "string", required: true },
        countedAt: { type: "number", required: true },
        [readModelTable.ttlAttribute]: { type: "number", required: true },
      },
      indexes: {
        byPayment: {
          pk: {
            field: readModelTable.partitionKey,
            composite: ["customerId"],
            template: "customer#${customerId}",
            casing: "none",
          },
          // Outside the `activity#` range that the counters are read from.
          sk: {
            field: readModelTable.sortKey,
            composite: ["kind", "paymentId"],
            template: "counted#${kind}#${paymentId}",
            casing: "none",
          },
        },
      },
    },
    { client, table },
  );
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TTL_SECONDS = 2 * 24 * 3600;
const TTL = readModelTable.ttlAttribute;
/** Longer than SQS keeps a message (14 days), so a late redrive still finds its payment counted. */
const COUNTED_TTL_SECONDS = 15 * 24 * 3600;
const stamp = (ms: number, unit: number) => String(Math.floor(ms / unit)).padStart(12, "0");
const paymentBucket = (ms: number) => `p#${stamp(ms, MINUTE)}`;
const declineBucket = (ms: number) => `d#${stamp(ms, HOUR)}`;
const LIFETIME = "lifetime";

type Lifetime = { count?: number; firstPaymentId?: string };

/** The items of one count, for a transaction: the marker that makes it count once, then the counters. */
export type CountWrites = [
  { Put: PutCommandInput & { ReturnValuesOnConditionCheckFailure: "ALL_OLD" } },
  ...Array<{ Update: Required<UpdateCommandInput> }>,
];

/**
 * The writes that count a customer's payment or decline once, at `atMs`: its marker (conditional on
 * not being there) and its counters, to be sent in one transaction (here, or with the payment's
 * initiation by the event store).
 */
export function customerActivityWrites(doc: DynamoDBDocumentClient, tableName: string) {
  const activity = activityEntity(doc, tableName);
  const counted = countedEntity(doc, tableName);
  const bump = (customerId: string, bucket: string, nowMs: number) =>
    activity
      .update({ customerId, bucket })
      .add({ count: 1 })
      .set({ [TTL]: Math.floor(nowMs / 1000) + TTL_SECONDS })
      .params<UpdateCommandInput>() as Required<UpdateCommandInput>;
  const writes = (
    customerId: string,
    kind: "payment" | "decline",
    paymentId: string,
    atMs: number,
    buckets: readonly string[],
  ): CountWrites => [
    {
      Put: {
        ...counted
          .create({
            customerId,
            kind,
            paymentId,
            countedAt: atMs,
            [TTL]: Math.floor(atMs / 1000) + COUNTED_TTL_SECONDS,
          })
          .params<PutCommandInput>(),
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    },
    ...buckets.map((bucket) => ({ Update: bump(customerId, bucket, atMs) })),
  ];
  return {
    payment: (customerId: string, paymentId: string, atMs: number) =>
      writes(customerId, "payment", paymentId, atMs, [paymentBucket(atMs)]),
    /**
     * A payment's counter without its marker: for the initiation's own transaction, whose event and
     * claim make it count once (the claim records `countedFor`).
     */
    paymentCounters: (customerId: string, atMs: number) => [
      { Update: bump(customerId, paymentBucket(atMs), atMs) },
    ],
    decline: (customerId: string, paymentId: string, atMs: number) =>
      writes(customerId, "decline", paymentId, atMs, [declineBucket(atMs)]),
  };
}

/** How often a count whose transaction met another customer's payment on a counter is tried. */
export const COUNT_CONFLICT_ATTEMPTS = 12;

export function createCustomerActivity({
  client,
  tableName,
}: {
  client: DynamoDBClient;
  tableName: string;
}): CustomerActivityPort {
  const doc = DynamoDBDocumentClient.from(client);
  const activity = activityEntity(doc, tableName);
  const counts = customerActivityWrites(doc, tableName);

  /**
   * Writes the marker and the counts in one transaction. Returns when it was first counted: now, or
   * by an earlier attempt (the marker was already there, and nothing more is counted).
   */
  async function countOnce(writes: CountWrites, atMs: number): Promise<number> {
    try {
      await transactRetryingConflicts(doc, writes, { attempts: COUNT_CONFLICT_ATTEMPTS });
      return atMs;
    } catch (error) {
      const markerReason = error instanceof TransactionCanceledException && error.CancellationReasons?.[0];
      if (markerReason && markerReason.Code === "ConditionalCheckFailed")
        return Number(markerReason.Item?.countedAt?.N ?? atMs);
      throw error;
    }
  }

  /** The windows' buckets and the lifetime item, as they stand at `at`. */
  async function load(customerId: string, at: Date) {
    const now = at.getTime();
    // Two reads: the payments of the last hour, and one range that holds the declines of the last
    // day and then the lifetime item ("d#…" sorts before "lifetime", which sorts before "p#…").
    const [payments, declinesAndLifetime] = await Promise.all([
      activity.query
        .byCustomer({ customerId })
        .between({ bucket: paymentBucket(now - HOUR + MINUTE) }, { bucket: paymentBucket(now) })
        .go({ pages: "all", consistent: true }),
      activity.query
        .byCustomer({ customerId })
        .between({ bucket: declineBucket(now - 24 * HOUR + HOUR) }, { bucket: LIFETIME })
        .go({ pages: "all", consistent: true }),
    ]);
    const sum = (items: Array<{ bucket: string; count?: number }>, from: string, to: string) =>
      items.filter((i) => i.bucket >= from && i.bucket <= to).reduce((s, i) => s + (i.count ?? 0), 0);
    // The lifetime item is past every decline bucket's bound below.
    const declines = declinesAndLifetime.data;
    const windows = {
      paymentsLast10Minutes: sum(
        payments.data,
        paymentBucket(now - 10 * MINUTE + MINUTE),
        paymentBucket(now),
      ),
      paymentsLastHour: sum(payments.data, paymentBucket(now - HOUR + MINUTE), paymentBucket(now)),
      declinesLastHour: sum(declines, declineBucket(now), declineBucket(now)),
      declinesLastDay: sum(declines, declineBucket(now - 24 * HOUR + HOUR), declineBucket(now)),
    };
    return { windows, lifetime: declines.find((i) => i.bucket === LIFETIME) };
  }

  /** Payments before any given one, as far as the lifetime item knows: a count written before, or 1. */
  const known = (lifetime: Lifetime | undefined) =>
    !lifetime ? 0 : lifetime.firstPaymentId !== undefined ? 1 : (lifetime.count ?? 0);

  /**
   * The customer's payments before `paymentId`, as screening needs them (0: a first payment). The
   * first payment to find the customer new writes the lifetime item, once: of two first payments at
   * once, the one whose write lands is first, and the other, finding it there, is not. A retry of
   * that payment finds its own id there, and is first again.
   */
  async function earlier(
    customerId: string,
    paymentId: string,
    lifetime: Lifetime | undefined,
  ): Promise<number> {
    // A count from before 2026-12-06 holds every payment counted then; a payment initiated then and
    // screened now is among it (a first payment caught by that deploy is taken for a returning one).
    if (lifetime) return lifetime.firstPaymentId === paymentId ? 0 : known(lifetime);
    try {
      const create = activity.create({ customerId, bucket: LIFETIME, firstPaymentId: paymentId });
      await doc.send(new PutCommand(create.params<PutCommandInput>()));
      return 0;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const written = await activity.get({ customerId, bucket: LIFETIME }).go({ consistent: true });
      if (!written.data) throw new Error(`customer ${customerId}'s lifetime item is there but not readable`);
      return earlier(customerId, paymentId, written.data);
    }
  }

  async function read(customerId: string, at: Date): Promise<CustomerActivity> {
    const { windows, lifetime } = await load(customerId, at);
    return { ...windows, lifetimePayments: known(lifetime) };
  }

  /**
   * The activity *before* a payment counted at `countedAt`, read at `at` (its initiation): the
   * payment is taken off the windows that hold the minute it was counted in.
   */
  async function before(
    customerId: string,
    paymentId: string,
    countedAt: number,
    at: Date,
  ): Promise<CustomerActivity> {
    const atMs = at.getTime();
    const { windows, lifetime } = await load(customerId, at);
    const inWindow = (windowMs: number) =>
      paymentBucket(countedAt) >= paymentBucket(atMs - windowMs + MINUTE) ? 1 : 0;
    const less = (n: number, by: number) => Math.max(0, n - by);
    return {
      ...windows,
      paymentsLast10Minutes: less(windows.paymentsLast10Minutes, inWindow(10 * MINUTE)),
      paymentsLastHour: less(windows.paymentsLastHour, inWindow(HOUR)),
      lifetimePayments: await earlier(customerId, paymentId, lifetime),
    };
  }

  return {
    read,
    async recordPayment(customerId, paymentId, at) {
      // Count first, then read: payments of a burst that arrive together each see the others.
      const atMs = at.getTime();
      return before(
        customerId,
        paymentId,
        await countOnce(counts.payment(customerId, paymentId, atMs), atMs),
        at,
      );
    },
    before: (customerId, paymentId, at) => before(customerId, paymentId, at.getTime(), at),
    async recordDecline(customerId, paymentId, at) {
      const atMs = at.getTime();
      await countOnce(counts.decline(customerId, paymentId, atMs), atMs);
    },
  };
}
