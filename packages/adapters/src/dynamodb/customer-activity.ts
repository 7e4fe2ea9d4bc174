import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CustomerActivity, CustomerActivityPort } from "@payments/core";
import { readModelTable } from "@payments/topology";
import { Entity } from "electrodb";

/**
 * Counters of a customer's payments and declines, bucketed by minute (payments, for the last
 * hour) and by hour (declines, for the last day), plus a lifetime count. Written when a payment is
 * initiated, so a burst is seen while it happens; buckets expire by TTL after two days.
 */
function activityEntity(client: DynamoDBDocumentClient, table: string) {
  return new Entity(
    {
      model: { entity: "customerActivity", version: "1", service: "payments" },
      attributes: {
        customerId: { type: "string", required: true },
        bucket: { type: "string", required: true },
        count: { type: "number", default: 0 },
        expiresAt: { type: "number" },
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

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TTL_SECONDS = 2 * 24 * 3600;
const stamp = (ms: number, unit: number) => String(Math.floor(ms / unit)).padStart(12, "0");
const paymentBucket = (ms: number) => `p#${stamp(ms, MINUTE)}`;
const declineBucket = (ms: number) => `d#${stamp(ms, HOUR)}`;
const LIFETIME = "lifetime";

export function createCustomerActivity({
  client,
  tableName,
}: {
  client: DynamoDBClient;
  tableName: string;
}): CustomerActivityPort {
  const doc = DynamoDBDocumentClient.from(client);
  const activity = activityEntity(doc, tableName);

  const bump = (customerId: string, bucket: string, nowMs: number) =>
    activity
      .update({ customerId, bucket })
      .add({ count: 1 })
      .set({ expiresAt: Math.floor(nowMs / 1000) + TTL_SECONDS })
      .go({ response: "none" });

  async function read(customerId: string, at: Date): Promise<CustomerActivity> {
    const now = at.getTime();
    const [payments, declines, lifetime] = await Promise.all([
      activity.query
        .byCustomer({ customerId })
        .between({ bucket: paymentBucket(now - HOUR + MINUTE) }, { bucket: paymentBucket(now) })
        .go({ pages: "all", consistent: true }),
      activity.query
        .byCustomer({ customerId })
        .between({ bucket: declineBucket(now - 24 * HOUR + HOUR) }, { bucket: declineBucket(now) })
        .go({ pages: "all", consistent: true }),
      activity.get({ customerId, bucket: LIFETIME }).go({ consistent: true }),
    ]);
    const sum = (items: Array<{ bucket: string; count?: number }>, from: string) =>
      items.filter((i) => i.bucket >= from).reduce((s, i) => s + (i.count ?? 0), 0);
    return {
      paymentsLast10Minutes: sum(payments.data, paymentBucket(now - 10 * MINUTE + MINUTE)),
      paymentsLastHour: sum(payments.data, paymentBucket(now - HOUR + MINUTE)),
      declinesLastHour: sum(declines.data, declineBucket(now)),
      declinesLastDay: sum(declines.data, declineBucket(now - 24 * HOUR + HOUR)),
      lifetimePayments: lifetime.data?.count ?? 0,
    };
  }

  return {
    read,
    async recordPayment(customerId, at) {
      // Count first, then read: payments of a burst that arrive together each see the others.
      // The activity returned is the one *before* this payment, so this payment is taken off.
      await Promise.all([
        bump(customerId, paymentBucket(at.getTime()), at.getTime()),
        bump(customerId, LIFETIME, at.getTime()),
      ]);
      const after = await read(customerId, at);
      return {
        ...after,
        paymentsLast10Minutes: after.paymentsLast10Minutes - 1,
        paymentsLastHour: after.paymentsLastHour - 1,
        lifetimePayments: after.lifetimePayments - 1,
      };
    },
    async recordDecline(customerId, at) {
      await bump(customerId, declineBucket(at.getTime()), at.getTime());
    },
  };
}
