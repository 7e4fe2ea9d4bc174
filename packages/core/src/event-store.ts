import type { EventMetadata, PaymentEvent } from "@payments/events";
import { assertLoadable, assertPublishable, type RecordedEvent, toRecordedEvent } from "./event-envelope";

/** A value only one payment may hold: written with the events, all or nothing (SPEC §3). */
export interface UniqueClaim {
  readonly kind: "orderId" | "providerReference" | "webhookEvent";
  readonly value: string;
}

export interface AppendInput {
  readonly paymentId: string;
  /** The version the stream has now; the first new event gets expectedVersion + 1. */
  readonly expectedVersion: number;
  readonly events: readonly PaymentEvent[];
  readonly metadata: EventMetadata;
  readonly unique?: readonly UniqueClaim[];
  /**
   * Counts the payment in its customer's activity (velocity, SPEC §2) in the same write as its
   * events: all or nothing, so a payment initiated is a payment counted, once. A store that cannot
   * write them together refuses it.
   */
  readonly countPayment?: { readonly customerId: string };
  readonly now: Date;
  readonly newId: () => string;
}

/**
 * The port to the event store. Implementations: DynamoDB (ElectroDB) in adapters, and an in-memory
 * one for fast tests; one contract suite runs against both.
 */
export interface EventStore {
  /**
   * Appends events with optimistic concurrency.
   * @throws ConcurrencyError when the version is taken; UniquenessConflictError when a claim is;
   *   EventTooLargeError when an envelope is over EventBridge's limit. Nothing is written then.
   */
  append(input: AppendInput): Promise<RecordedEvent[]>;
  /** The stream in version order, every page of it; from `afterVersion` + 1 when given. */
  load(paymentId: string, options?: { afterVersion?: number }): Promise<RecordedEvent[]>;
  /** Which payment holds a unique value, if any. */
  findOwner(claim: UniqueClaim): Promise<string | undefined>;
  /**
   * The claim as written: its payment, and the customer whose count was written with it
   * (`countPayment`), if one was.
   */
  findClaim(claim: UniqueClaim): Promise<{ paymentId: string; countedFor?: string } | undefined>;
}

/**
 * The envelopes an append writes: versions after `expectedVersion`, fresh ids, one timestamp.
 * Every store calls this first, so an event that the read path could not load again, or that is too
 * large to publish, is refused before any write.
 * @throws EventSchemaError; EventTooLargeError
 */
export function envelopesFor(input: AppendInput): RecordedEvent[] {
  const occurredAt = input.now.toISOString();
  const recorded = input.events.map((event, i) =>
    toRecordedEvent(event, {
      paymentId: input.paymentId,
      version: input.expectedVersion + i + 1,
      id: input.newId(),
      occurredAt,
      metadata: input.metadata,
    }),
  );
  for (const event of recorded) {
    assertLoadable(event);
    assertPublishable(event);
  }
  return recorded;
}
