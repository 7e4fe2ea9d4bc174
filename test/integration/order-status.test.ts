import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import type { RecordedEvent } from "@payments/core";
import { createOrderStatusWriter } from "@payments/functions/order-status/order-status";
import { ensureTable, linkedEnvironment } from "@payments/local";
import { ordersTable } from "@payments/topology";
import type { Context, SQSEvent } from "aws-lambda";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent } from "../helpers/fixtures";
import { captureConsole, jsonLines } from "../helpers/output";
import { appendInSteps } from "../helpers/relay";
import { stackClients, testStack } from "../helpers/stack";

/**
 * order-status on DynamoDB Local (SPEC §5): it updates only orders the order service has, never
 * creates one (an unknown order is logged and counted as OrderStatusOrderMissing, and not retried),
 * and with ORDER_STATUS_ATTRIBUTE it also sets the order's own status, under the same version guard.
 */
const stack = testStack();
const clients = stackClients();
const doc = DynamoDBDocumentClient.from(clients.dynamodb);
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const table = `orders-status-${ulid().slice(-8).toLowerCase()}`;

beforeAll(async () => {
  await ensureTable(clients.dynamodb, ordersTable, table);
});
afterAll(() => {
  for (const client of Object.values(clients)) client.destroy();
});

/** A payment for `orderId`, captured then partly refunded; its events as recorded. */
async function capturedPayment(orderId: string): Promise<RecordedEvent[]> {
  return appendInSteps(store, `pay_${ulid()}`, [
    [sampleEvent("PaymentInitiated", { orderId, amount: 5_000, currency: "usd" })],
    [sampleEvent("PaymentAuthorized", { amountAuthorized: 5_000 })],
    [sampleEvent("PaymentCaptured", { amount: 5_000, totalCaptured: 5_000 })],
    [sampleEvent("PaymentRefunded", { refundId: "rfd_1", amount: 1_000, totalRefunded: 1_000 })],
  ]);
}
const orderItem = async (orderId: string) =>
  (await doc.send(new GetCommand({ TableName: table, Key: { order_id: orderId }, ConsistentRead: true })))
    .Item;

describe("order-status", () => {
  it("updates an existing order, with its own status when ORDER_STATUS_ATTRIBUTE is set, and never moves it back", async () => {
    const orderId = `ord-${ulid()}`;
    await doc.send(
      new PutCommand({ TableName: table, Item: { order_id: orderId, total: "50.00", status: "open" } }),
    );
    const events = await capturedPayment(orderId);
    const write = createOrderStatusWriter({
      store,
      client: clients.dynamodb,
      ordersTable: table,
      statusAttribute: "status",
    });
    const [, authorized, captured, refunded] = events;
    expect(await write({ detail: authorized })).toMatchObject({ outcome: "written" });
    expect(await orderItem(orderId)).toMatchObject({
      status: "authorized",
      payment_status: "authorized",
      total: "50.00",
    });
    expect(await write({ detail: captured })).toMatchObject({ outcome: "written" });
    expect(await orderItem(orderId)).toMatchObject({
      status: "paid",
      payment_version: 3,
      amount_captured: 5_000,
    });
    expect(await write({ detail: refunded })).toMatchObject({ outcome: "written" });
    // The captured event again, late: the order keeps the refund's state and status.
    expect(await write({ detail: captured })).toMatchObject({ outcome: "newer_there" });
    expect(await orderItem(orderId)).toMatchObject({
      status: "partially_refunded",
      payment_status: "partially_refunded",
      payment_version: 4,
      amount_refunded: 1_000,
    });
  });

  it("leaves the order's own status alone when ORDER_STATUS_ATTRIBUTE is not set", async () => {
    const orderId = `ord-${ulid()}`;
    await doc.send(new PutCommand({ TableName: table, Item: { order_id: orderId, status: "open" } }));
    const [, , captured] = await capturedPayment(orderId);
    const write = createOrderStatusWriter({ store, client: clients.dynamodb, ordersTable: table });
    expect(await write({ detail: captured })).toMatchObject({ outcome: "written" });
    expect(await orderItem(orderId)).toMatchObject({ status: "open", payment_status: "captured" });
  });

  it("writes nothing for an order the order service does not have, counts it, and does not retry it", async () => {
    const orderId = `unmatched:zalopay:${ulid()}`;
    const [, , captured] = await capturedPayment(orderId);
    Object.assign(process.env, linkedEnvironment(stack), {
      POWERTOOLS_DEV: "true",
      // Powertools turns metrics off in dev mode unless told otherwise: this test reads them.
      POWERTOOLS_METRICS_DISABLED: "false",
      ORDERS_TABLE: table,
      ORDER_STATUS_ATTRIBUTE: "status",
    });
    const { handler } = await import("@payments/functions/order-status");
    const event = {
      Records: [
        {
          messageId: "m-1",
          body: JSON.stringify({ source: "payments", "detail-type": captured!.type, detail: captured }),
          attributes: { ApproximateReceiveCount: "1" },
          eventSource: "aws:sqs",
        },
      ],
    } as unknown as SQSEvent;
    const { result, lines } = await captureConsole(() => handler(event, {} as Context));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await orderItem(orderId)).toBeUndefined();
    const counted = jsonLines(lines).filter((line) => "OrderStatusOrderMissing" in line);
    expect(counted.map((line) => line.OrderStatusOrderMissing)).toEqual([1]);
    expect(jsonLines(lines).some((line) => line.level === "WARN" && line.orderId === orderId)).toBe(true);
  });
});
