import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { OrderFailureNote } from "@payments/adapters/dynamodb";
import {
  EventSchemaError,
  EventTooLargeError,
  InvalidAmountError,
  InvalidCommandError,
  LifecycleRuleError,
} from "@payments/core";
import type { Context, SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { silenceConsole } from "../../../../test/helpers/output";
import { createBatchHandler } from "./batch-handler";

const body = JSON.stringify({ order_id: "ord-1", amount: "1.00", payment_method_id: "pm_card_visa" });
const event: SQSEvent = {
  Records: [
    {
      messageId: "m-1",
      receiptHandle: "rh",
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: "s",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:orders",
      awsRegion: "us-east-1",
    },
  ],
};
const context = { functionName: "process-payment", getRemainingTimeInMillis: () => 30_000 } as Context;

function handlerThrowing(error: Error, noted: OrderFailureNote[] = []) {
  return createBatchHandler({
    processOrder: () => async () => {
      throw error;
    },
    defaultCurrency: "usd",
    logger: new Logger({ serviceName: "test", logLevel: "SILENT" }),
    metrics: new Metrics({ namespace: "Test", serviceName: "test" }),
    maxReceiveCount: 3,
    noteFailure: () => async (note) => {
      noted.push(note);
    },
  });
}

const receivedTimes = (n: number): SQSEvent => ({
  Records: event.Records.map((r) => ({
    ...r,
    attributes: { ...r.attributes, ApproximateReceiveCount: String(n) },
  })),
});

describe("the order-queue batch handler", () => {
  it.each([
    ["an event too large to publish", new EventTooLargeError("pay_1", "PaymentInitiated", 300_000, 262_144)],
    ["an event its schema refuses", new EventSchemaError("PaymentInitiated", 1, "bad")],
    [
      "a command the domain refuses",
      new InvalidCommandError("InitiatePayment", "text_too_long", "orderId", "long"),
    ],
    [
      "an amount the gateway cannot take",
      new InvalidAmountError("Stripe takes kwd in steps of 0.010 kwd", 1234),
    ],
  ])("does not retry %s: it comes out the same every time", async (_, error) => {
    const restore = silenceConsole();
    try {
      const response = await handlerThrowing(error)(event, context);
      expect(response.batchItemFailures).toEqual([]);
    } finally {
      restore();
    }
  });

  it("retries what may pass next time: an outage, or a rule judged on a state that changed meanwhile", async () => {
    const restore = silenceConsole();
    try {
      for (const error of [
        new Error("DynamoDB is unavailable"),
        new LifecycleRuleError("already_screened", "pay_1", "initiated", "raced"),
      ]) {
        const response = await handlerThrowing(error)(event, context);
        expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
      }
    } finally {
      restore();
    }
  });

  it("keeps the reason of a failure on the last receive, the one after which SQS moves the message to the DLQ", async () => {
    const restore = silenceConsole();
    try {
      const noted: OrderFailureNote[] = [];
      const handler = handlerThrowing(new Error("the gateway is unavailable"), noted);
      for (const receive of [1, 2]) {
        expect((await handler(receivedTimes(receive), context)).batchItemFailures).toHaveLength(1);
      }
      expect(noted).toEqual([]);
      expect((await handler(receivedTimes(3), context)).batchItemFailures).toEqual([
        { itemIdentifier: "m-1" },
      ]);
      expect(noted).toEqual([
        expect.objectContaining({
          messageId: "m-1",
          receiveCount: 3,
          orderId: "ord-1",
          reason: "Error: the gateway is unavailable",
        }),
      ]);
    } finally {
      restore();
    }
  });
});
