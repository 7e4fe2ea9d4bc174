import {
  DescribeEventBusCommand,
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { EVENTBRIDGE_ENTRY_LIMIT_BYTES, eventBridgeEntrySize, type RecordedEvent } from "@payments/core";
import { envelopeJson, type Publisher, type PublishResult } from "./publisher";

export interface EventBridgePublisherOptions {
  readonly client: EventBridgeClient;
  readonly busName: string;
  /** `Source` of every entry (SPEC §5: "payments", configurable). */
  readonly source: string;
  /** Attempts of an entry that PutEvents reports failed, including the first. */
  readonly attempts?: number;
  readonly backoffMs?: number;
}

/**
 * A W3C `traceparent` as the X-Ray trace header PutEvents takes in `TraceHeader` (SPEC §5): the
 * same trace id (X-Ray writes its first 8 hex digits, a time, apart), the span as the parent, and
 * the sampled flag.
 */
export function xrayTraceHeader(traceparent: string): string {
  const [, traceId, span, flags] = traceparent.split("-") as [string, string, string, string];
  const sampled = (Number.parseInt(flags, 16) & 1) === 1 ? 1 : 0;
  return `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${span};Sampled=${sampled}`;
}

/** PutEvents takes at most 10 entries and 256 KB per request. */
const MAX_ENTRIES = 10;

/** Splits envelopes into PutEvents requests of ≤ 10 entries and ≤ 256 KB. */
export function putEventsChunks<T extends { size: number }>(entries: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (
      current.length === MAX_ENTRIES ||
      (current.length > 0 && bytes + entry.size > EVENTBRIDGE_ENTRY_LIMIT_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Publishes envelopes to the bus: `DetailType` = event type, `Detail` = the envelope. Requests go
 * out side by side (EventBridge promises its consumers no order); only the entries PutEvents
 * counts as failed are sent again, with backoff.
 */
export function createEventBridgePublisher(options: EventBridgePublisherOptions): Publisher {
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 100;
  let checked: Promise<void> | undefined;

  const toEntry = (event: RecordedEvent) => ({
    id: event.id,
    size: eventBridgeEntrySize(event, options.source),
    entry: {
      EventBusName: options.busName,
      Source: options.source,
      DetailType: event.type,
      Detail: envelopeJson(event),
      Time: new Date(event.occurredAt),
      ...(event.metadata.traceparent ? { TraceHeader: xrayTraceHeader(event.metadata.traceparent) } : {}),
    } satisfies PutEventsRequestEntry,
  });

  return {
    sink: "eventbridge",

    ready() {
      // PutEvents to a bus that does not exist answers FailedEntryCount 0: events would vanish.
      checked ??= options.client
        .send(new DescribeEventBusCommand({ Name: options.busName }))
        .then(() => undefined)
        .catch((error: Error) => {
          checked = undefined;
          throw new Error(
            `the event bus "${options.busName}" cannot be described (${error.name}: ${error.message}); ` +
              "nothing is published to EventBridge until it exists",
          );
        });
      return checked;
    },

    async publish(events): Promise<PublishResult> {
      const delivered = new Set<string>();
      let calls = 0;
      let lastError: string | undefined;
      const sendChunk = async (chunk: ReturnType<typeof toEntry>[]) => {
        let pending = chunk;
        for (let attempt = 1; attempt <= attempts && pending.length > 0; attempt++) {
          if (attempt > 1) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 2)));
          calls++;
          try {
            const out = await options.client.send(
              new PutEventsCommand({ Entries: pending.map((e) => e.entry) }),
            );
            const failed: typeof pending = [];
            pending.forEach((e, i) => {
              const result = out.Entries?.[i];
              if (result?.EventId && !result.ErrorCode) delivered.add(e.id);
              else {
                failed.push(e);
                lastError = `${result?.ErrorCode ?? "NoEventId"}: ${result?.ErrorMessage ?? "no event id returned"}`;
              }
            });
            pending = failed;
          } catch (error) {
            lastError = `${(error as Error).name}: ${(error as Error).message}`;
          }
        }
      };
      await Promise.all(putEventsChunks(events.map(toEntry)).map(sendChunk));
      return { delivered, calls, error: delivered.size < events.length ? lastError : undefined };
    },

    async close() {},
  };
}
