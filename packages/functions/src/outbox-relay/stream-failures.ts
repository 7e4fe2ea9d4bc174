import {
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from "@aws-sdk/client-dynamodb-streams";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBRecord } from "aws-lambda";
import { readStreamBatch } from "../shared/stream-records";
import type { Relay } from "./relay";

/** What Lambda sends to a stream subscription's on-failure destination: where the batch was, not its records. */
export interface StreamBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly streamArn: string;
  readonly batchSize?: number;
}

/** Reads the on-failure message's batch info. @throws Error for a message of another shape */
export function streamBatchInfo(body: string): StreamBatchInfo {
  const parsed = JSON.parse(body) as { DDBStreamBatchInfo?: StreamBatchInfo };
  const info = parsed.DDBStreamBatchInfo;
  if (!info?.shardId || !info.startSequenceNumber || !info.endSequenceNumber || !info.streamArn)
    throw new Error("not a DynamoDB stream on-failure record (no DDBStreamBatchInfo)");
  return info;
}

const sequenceOrder = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** Reads the records of a failed batch back from the stream (they stay there for 24 h). */
async function recordsOf(streams: DynamoDBStreamsClient, info: StreamBatchInfo): Promise<DynamoDBRecord[]> {
  let { ShardIterator: iterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: info.streamArn,
      ShardId: info.shardId,
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      SequenceNumber: info.startSequenceNumber,
    }),
  );
  const out: DynamoDBRecord[] = [];
  // An open shard answers empty pages at its end: a bounded number of reads.
  for (let page = 0; iterator && page < 20; page++) {
    const { Records = [], NextShardIterator } = await streams.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
    );
    iterator = NextShardIterator;
    for (const record of Records) {
      const sequence = record.dynamodb?.SequenceNumber ?? "0";
      if (sequenceOrder(sequence, info.endSequenceNumber) > 0) return out;
      out.push({ eventName: record.eventName, dynamodb: record.dynamodb } as DynamoDBRecord);
    }
    if (
      Records.length > 0 &&
      sequenceOrder(Records.at(-1)!.dynamodb!.SequenceNumber!, info.endSequenceNumber) >= 0
    )
      return out;
  }
  return out;
}

export interface DrainReport {
  messages: number;
  paymentsMarked: number;
  /** Batches whose records are past the stream's retention: only a bus replay can send them now. */
  expired: StreamBatchInfo[];
  unreadable: number;
}

/**
 * Drains the relay subscription's on-failure queue: each message names a batch the stream path gave
 * up on; its events are read back from the stream and their payments marked lagging, so the
 * sweeper delivers them. Nothing the stream path dropped stays undelivered.
 */
export async function drainStreamFailures(deps: {
  sqs: SQSClient;
  queueUrl: string;
  streams: DynamoDBStreamsClient;
  relay: Relay;
  maxMessages?: number;
}): Promise<DrainReport> {
  const report: DrainReport = { messages: 0, paymentsMarked: 0, expired: [], unreadable: 0 };
  while (report.messages < (deps.maxMessages ?? 100)) {
    const { Messages = [] } = await deps.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deps.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) break;
    const done: string[] = [];
    for (const message of Messages) {
      report.messages++;
      let info: StreamBatchInfo;
      try {
        info = streamBatchInfo(message.Body ?? "");
      } catch {
        report.unreadable++;
        done.push(message.ReceiptHandle!);
        continue;
      }
      try {
        const { events } = readStreamBatch(await recordsOf(deps.streams, info));
        const latest = new Map<string, number>();
        for (const { event } of events)
          latest.set(event.paymentId, Math.max(latest.get(event.paymentId) ?? 0, event.version));
        for (const [paymentId, version] of latest) {
          await deps.relay.noteBehind(paymentId, version, "the stream subscription gave up on this batch");
          report.paymentsMarked++;
        }
        done.push(message.ReceiptHandle!);
      } catch (error) {
        if (error instanceof TrimmedDataAccessException) {
          report.expired.push(info);
          done.push(message.ReceiptHandle!);
        } else throw error;
      }
    }
    if (done.length === 0) continue;
    await deps.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: deps.queueUrl,
        Entries: done.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle })),
      }),
    );
  }
  return report;
}
