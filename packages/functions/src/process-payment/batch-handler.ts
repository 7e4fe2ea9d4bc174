import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from "@aws-lambda-powertools/batch";
import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { OrderFailureNote } from "@payments/adapters/dynamodb";
import {
  EventSchemaError,
  EventTooLargeError,
  formatMinorUnits,
  InvalidAmountError,
  InvalidCommandError,
  InvalidCurrencyError,
} from "@payments/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { continueTrace, logSpan, traceIdOf } from "../shared/trace";
import { MalformedMessageError, type PaymentRequest, parseOrderMessage } from "./order-message";
import type { OrderOutcome } from "./process-order";

export interface BatchHandlerDeps {
  readonly processOrder: () => (
    request: PaymentRequest & { traceparent?: string },
    messageId: string,
  ) => Promise<OrderOutcome>;
  readonly defaultCurrency: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The queues' maxReceiveCount: a transient failure on that receive sends the message to the DLQ. */
  readonly maxReceiveCount: number;
  /** Keeps why a message is going to the DLQ, for the console; best effort. */
  readonly noteFailure?: () => (note: OrderFailureNote) => Promise<void>;
}

let coldStart = true;

/**
 * Failures that come out the same however often the message is tried: a request the domain
 * refuses, or an event that could not be stored or published. They are malformed input, logged and
 * not retried, so they never wait three receives for the DLQ.
 */
const PERMANENT = [
  InvalidCommandError,
  InvalidAmountError,
  InvalidCurrencyError,
  EventTooLargeError,
  EventSchemaError,
] as const;
const isPermanent = (error: unknown) => PERMANENT.some((type) => error instanceof type);

/**
 * The order-queue Lambda: one record at a time through the processor, a partial batch response
 * (Powertools batch). A record fails, and so comes back, only for a transient failure; a
 * malformed message or a business failure is logged and recorded, and not retried. On a FIFO
 * queue a failure also fails the rest of its message group (skipGroupOnError), keeping order.
 */
export function createBatchHandler(deps: BatchHandlerDeps) {
  const { logger, metrics } = deps;

  const recordHandler = async (
    record: SQSRecord,
  ): Promise<OrderOutcome | { kind: "malformed"; reason: string }> => {
    // The sender's trace (a `traceparent` message attribute) continued, or one started for the message.
    const traceparent = continueTrace(record.messageAttributes?.traceparent?.stringValue, record.messageId);
    const ids = {
      messageId: record.messageId,
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
      traceId: traceIdOf(traceparent),
    };
    let request: PaymentRequest;
    try {
      request = parseOrderMessage(record.body, deps.defaultCurrency);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      logger.error("malformed order message: not retried", { ...ids, reason: error.message });
      metrics.addMetric("PaymentsFailed", MetricUnit.Count, 1);
      return { kind: "malformed", reason: error.message };
    }
    const context = { ...ids, orderId: request.orderId };
    try {
      const started = Date.now();
      const outcome = await deps.processOrder()({ ...request, traceparent }, record.messageId);
      logSpan("process-payment", traceparent, started, { orderId: request.orderId, outcome: outcome.kind });
      const withPayment = { ...context, paymentId: outcome.paymentId, outcome: outcome.kind };
      switch (outcome.kind) {
        case "captured":
        case "authorized":
          metrics.addMetric("PaymentsProcessed", MetricUnit.Count, 1);
          {
            // Per currency: a sum of amounts never mixes currencies (minor units of each).
            const amount = metrics.singleMetric();
            amount.addDimension("currency", outcome.currency);
            amount.addMetric("PaymentAmount", MetricUnit.NoUnit, outcome.amount);
          }
          logger.info(`payment ${outcome.kind}`, {
            ...withPayment,
            amount: formatMinorUnits(outcome.amount, outcome.currency),
            currency: outcome.currency,
          });
          break;
        case "failed":
        case "rejected":
          metrics.addMetric("PaymentsFailed", MetricUnit.Count, 1);
          logger.warn(`payment ${outcome.kind}: recorded, not retried`, {
            ...withPayment,
            ...("code" in outcome ? { code: outcome.code } : { score: outcome.score }),
          });
          break;
        case "order_conflict":
          metrics.addMetric("PaymentsFailed", MetricUnit.Count, 1);
          logger.error("order already has another payment: nothing charged, not retried", {
            ...withPayment,
            reason: outcome.reason,
          });
          break;
        case "already_done":
          logger.info("payment already processed: nothing appended", {
            ...withPayment,
            status: outcome.status,
          });
          break;
      }
      return outcome;
    } catch (error) {
      if (isPermanent(error)) {
        logger.error("malformed order message: not retried", {
          ...context,
          reason: (error as Error).message.slice(0, 1000),
          error: (error as Error).name,
        });
        metrics.addMetric("PaymentsFailed", MetricUnit.Count, 1);
        return { kind: "malformed", reason: (error as Error).message };
      }
      // Transient: the record fails so that SQS delivers it again (then the DLQ after 3 receives).
      const reason = `${(error as Error).name}: ${(error as Error).message}`;
      if (ids.receiveCount < deps.maxReceiveCount) {
        logger.warn("transient failure: the message will be retried", { ...context, reason });
        throw error;
      }
      logger.error("transient failure on the last receive: the message goes to the DLQ", {
        ...context,
        reason,
      });
      try {
        await deps.noteFailure?.()({ ...context, reason, at: new Date().toISOString() });
      } catch (noteError) {
        logger.warn("could not keep the failure's reason for the console", {
          messageId: record.messageId,
          error: (noteError as Error).message,
        });
      }
      throw error;
    }
  };

  return async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    const started = Date.now();
    const wasCold = coldStart;
    coldStart = false;
    if (wasCold) metrics.addMetric("ColdStart", MetricUnit.Count, 1);
    const fifo = event.Records[0]?.eventSourceARN.endsWith(".fifo") ?? false;
    // A processor per invocation, not per module: it holds the batch it is working on, and the local
    // drivers (unlike Lambda) may run several invocations of one handler at once in one process.
    const response = fifo
      ? await processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), {
          context,
          skipGroupOnError: true,
          throwOnFullBatchFailure: false,
        })
      : await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
          context,
          throwOnFullBatchFailure: false,
        });
    logger.info("batch done", {
      records: event.Records.length,
      processed: event.Records.length - response.batchItemFailures.length,
      failed: response.batchItemFailures.length,
      coldStart: wasCold,
      durationMs: Date.now() - started,
    });
    metrics.publishStoredMetrics();
    return response;
  };
}
