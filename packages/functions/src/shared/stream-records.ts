import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { parseRecordedEvent, type RecordedEvent } from "@payments/core";
import type { DynamoDBRecord } from "aws-lambda";

/** The envelope's fields of an event item, as the stream carries it (the keys and ElectroDB's are left). */
const ENVELOPE_FIELDS = [
  "id",
  "type",
  "schemaVersion",
  "paymentId",
  "version",
  "occurredAt",
  "data",
  "metadata",
] as const;

/** Reads an event item's new image as a recorded event. @throws EventSchemaError for a poison record */
export function eventOfRecord(record: DynamoDBRecord): RecordedEvent {
  const image = unmarshall((record.dynamodb?.NewImage ?? {}) as Record<string, AttributeValue>);
  return parseRecordedEvent(Object.fromEntries(ENVELOPE_FIELDS.map((field) => [field, image[field]])));
}

/** A stream batch read as events: the poison records (unreadable) apart, with their reason. */
export function readStreamBatch(records: readonly DynamoDBRecord[]): {
  events: Array<{ event: RecordedEvent; sequence: string }>;
  poison: Array<{ sequence: string; reason: string }>;
} {
  const events: Array<{ event: RecordedEvent; sequence: string }> = [];
  const poison: Array<{ sequence: string; reason: string }> = [];
  for (const record of records) {
    const sequence = record.dynamodb?.SequenceNumber ?? "";
    if (record.eventName === "REMOVE") continue;
    try {
      events.push({ event: eventOfRecord(record), sequence });
    } catch (error) {
      poison.push({ sequence, reason: (error as Error).message.slice(0, 500) });
    }
  }
  return { events, poison };
}

/** batchItemFailures in stream order: Lambda resumes from the lowest reported sequence number. */
export function batchItemFailures(records: readonly DynamoDBRecord[], failed: ReadonlySet<string>) {
  return records
    .map((r) => r.dynamodb?.SequenceNumber ?? "")
    .filter((s) => failed.has(s))
    .map((itemIdentifier) => ({ itemIdentifier }));
}
