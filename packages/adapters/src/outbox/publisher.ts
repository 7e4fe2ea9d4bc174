import type { RecordedEvent } from "@payments/core";
import type { OutboxSink } from "@payments/topology";

/** What a sink did with a list of envelopes. */
export interface PublishResult {
  /** Ids of the envelopes the sink acknowledged. */
  readonly delivered: ReadonlySet<string>;
  /** Requests made to the sink (PutEvents calls, Kafka sends). */
  readonly calls: number;
  /** Why some were not delivered, when some were not. */
  readonly error?: string;
}

/**
 * A sink of the outbox relay (SPEC §5). `publish` gets envelopes grouped by payment in version
 * order, and never throws for a sink that is down: it reports what was delivered.
 */
export interface Publisher {
  readonly sink: OutboxSink;
  publish(events: readonly RecordedEvent[]): Promise<PublishResult>;
  /** Fails loudly when the sink is not there to publish to (checked once per container). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** The JSON every sink carries: the envelope as stored, `metadata.replay` set by a bus replay. */
export const envelopeJson = (event: RecordedEvent): string => JSON.stringify(event);
