import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from "@aws-sdk/client-dynamodb-streams";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { LOCAL_REGION } from "../platform";
import { type FilterPattern, matchesAny } from "./filter-pattern";
import { createLambdaContext, type FunctionConfig, logInvocation } from "./lambda-context";
import type { RunningDriver } from "./sqs-driver";

/** Handlers with nothing to report may return nothing, as Lambda allows. */
type StreamResult = DynamoDBBatchResponse | undefined;
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing is a valid Lambda handler.
export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<StreamResult | void>;

export interface StreamDriverOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly handler: StreamHandler;
  readonly fn: FunctionConfig;
  readonly startingPosition?: "TRIM_HORIZON" | "LATEST";
  readonly batchSize?: number;
  /** Lambda event filters: records that match none are skipped, as if processed. */
  readonly filters?: readonly FilterPattern[];
  /** Split a failing batch in two and retry each half (BisectBatchOnFunctionError). */
  readonly bisectOnError?: boolean;
  /** Retries of a failing record before it goes to the on-failure destination (MaximumRetryAttempts). */
  readonly maxRetries?: number;
  /** The on-failure destination: gets the records given up on, with their shard. */
  readonly onFailure?: (records: DynamoDBRecord[], error: string, shardId: string) => Promise<void>;
  readonly pollIntervalMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function toStreamRecord(record: _Record, streamArn: string): DynamoDBRecord {
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord["eventName"],
    eventVersion: record.eventVersion ?? "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: record.awsRegion ?? LOCAL_REGION,
    dynamodb: {
      ...(record.dynamodb as DynamoDBRecord["dynamodb"]),
      ApproximateCreationDateTime: record.dynamodb?.ApproximateCreationDateTime
        ? Math.floor(new Date(record.dynamodb.ApproximateCreationDateTime).getTime() / 1000)
        : undefined,
    },
    eventSourceARN: streamArn,
  };
}

/**
 * Drives a function from a DynamoDB Stream the way Lambda's event source mapping does: one poller
 * per shard from TRIM_HORIZON or LATEST, filter patterns, real DynamoDBStreamEvent batches in
 * order, ReportBatchItemFailures (resume from the first failed record), bisect on error, bounded
 * retries and an on-failure destination. New shards are picked up as the stream splits.
 */
export function startDynamoDbStreamDriver(options: StreamDriverOptions): RunningDriver {
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maxRetries ?? 3;
  let running = true;
  let invocations = 0;
  const shardsSeen = new Set<string>();
  const finishedShards = new Set<string>();
  const pollers: Promise<void>[] = [];

  /** Invokes once: the index of the first failed record (-1 when all succeeded), and whether it threw. */
  const invokeOnce = async (batch: DynamoDBRecord[]): Promise<{ failedAt: number; threw: boolean }> => {
    const started = Date.now();
    invocations++;
    try {
      const response = await options.handler({ Records: batch }, createLambdaContext(options.fn));
      const failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const first = batch.findIndex((r) => failedIds.has(r.dynamodb?.SequenceNumber ?? ""));
      logInvocation(
        options.fn,
        "dynamodb-stream",
        `batch of ${batch.length}, ${first < 0 ? 0 : batch.length - first} to retry`,
        started,
      );
      return { failedAt: first, threw: false };
    } catch (error) {
      logInvocation(
        options.fn,
        "dynamodb-stream",
        `batch of ${batch.length} threw: ${(error as Error).message}`,
        started,
      );
      return { failedAt: 0, threw: true };
    }
  };

  /** Processes a batch to the end, retrying and bisecting as Lambda does; gives up after maxRetries. */
  const processBatch = async (batch: DynamoDBRecord[], shardId: string, attempt = 0): Promise<void> => {
    if (batch.length === 0) return;
    const { failedAt, threw } = await invokeOnce(batch);
    if (failedAt < 0) return;
    const rest = batch.slice(failedAt);
    if (attempt >= maxRetries) {
      await options.onFailure?.(rest, `gave up after ${maxRetries} retries`, shardId);
      return;
    }
    await sleep(Math.min(1000, 50 * 2 ** attempt));
    if (options.bisectOnError && threw && rest.length > 1) {
      const half = Math.ceil(rest.length / 2);
      await processBatch(rest.slice(0, half), shardId, attempt + 1);
      await processBatch(rest.slice(half), shardId, attempt + 1);
      return;
    }
    await processBatch(rest, shardId, attempt + 1);
  };

  const pollShard = async (shardId: string, position: "TRIM_HORIZON" | "LATEST") => {
    let lastSequence: string | undefined;
    /** An iterator after the last record handed over, or at the start position before any. */
    const iteratorFrom = async (from: "resume" | "TRIM_HORIZON") => {
      const after = from === "resume" && lastSequence;
      const { ShardIterator } = await options.streams.send(
        new GetShardIteratorCommand({
          StreamArn: options.streamArn,
          ShardId: shardId,
          ShardIteratorType: after ? "AFTER_SEQUENCE_NUMBER" : lastSequence ? "TRIM_HORIZON" : position,
          SequenceNumber: after || undefined,
        }),
      );
      return ShardIterator;
    };
    let iterator: string | undefined;
    let failures = 0;
    while (running) {
      try {
        iterator ??= await iteratorFrom("resume");
        if (!iterator) break; // a closed shard read to its end
        const page = await options.streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }),
        );
        failures = 0;
        iterator = page.NextShardIterator;
        const all = (page.Records ?? []).map((r) => toStreamRecord(r, options.streamArn));
        const records = all.filter((r) => matchesAny(options.filters, r));
        if (records.length > 0) await processBatch(records, shardId);
        if (all.length > 0) lastSequence = all.at(-1)!.dynamodb?.SequenceNumber;
        if (!iterator) break;
        if (all.length === 0) await sleep(options.pollIntervalMs ?? 250);
      } catch (error) {
        if (!running) break;
        // Lambda's poller does not give up on a shard: an expired iterator resumes after the last
        // record handed over; records trimmed meanwhile resume from the oldest kept.
        iterator = undefined;
        if (error instanceof TrimmedDataAccessException) {
          await sleep(options.pollIntervalMs ?? 250);
          try {
            iterator = await iteratorFrom("TRIM_HORIZON");
          } catch {}
        } else if (!(error instanceof ExpiredIteratorException)) {
          failures++;
          console.error(
            `[${options.fn.name}] stream shard ${shardId}: ${(error as Error).message} (retrying, ${failures} in a row)`,
          );
          await sleep(Math.min(5000, 100 * 2 ** failures));
        }
      }
    }
    finishedShards.add(shardId);
  };

  const discover = async () => {
    let first = true;
    while (running) {
      try {
        const { StreamDescription } = await options.streams.send(
          new DescribeStreamCommand({ StreamArn: options.streamArn }),
        );
        for (const shard of StreamDescription?.Shards ?? []) {
          const id = shard.ShardId!;
          if (shardsSeen.has(id)) continue;
          // A child shard waits until its parent is read to the end, so order per key holds.
          if (
            shard.ParentShardId &&
            shardsSeen.has(shard.ParentShardId) &&
            !finishedShards.has(shard.ParentShardId)
          )
            continue;
          shardsSeen.add(id);
          const position = first ? (options.startingPosition ?? "LATEST") : "TRIM_HORIZON";
          pollers.push(pollShard(id, position));
        }
        first = false;
      } catch (error) {
        if (running)
          console.error(`[${options.fn.name}] describe stream failed: ${(error as Error).message}`);
      }
      await sleep(1000);
    }
  };

  const discovering = discover();
  return {
    invocations: () => invocations,
    async stop() {
      running = false;
      await discovering;
      await Promise.all(pollers);
    },
  };
}

/**
 * The message Lambda sends to a stream subscription's SQS on-failure destination: where the batch
 * was in the stream (its records stay there for 24 h), not the records themselves.
 */
export function streamFailureMessage(
  records: readonly DynamoDBRecord[],
  shardId: string,
  streamArn: string,
  condition: string,
) {
  return {
    requestContext: { condition: "RetryAttemptsExhausted", detail: condition },
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId,
      startSequenceNumber: records[0]?.dynamodb?.SequenceNumber,
      endSequenceNumber: records.at(-1)?.dynamodb?.SequenceNumber,
      batchSize: records.length,
      streamArn,
    },
  };
}
