import {
  EventEnvelope,
  type EventMetadata,
  legacyPaymentEventSchemas,
  type PaymentEvent,
  type PaymentEventType,
  paymentEventSchemas,
} from "@payments/events";
import type { ZodType } from "zod";
import { EventSchemaError, EventTooLargeError } from "./errors";

/** A domain event as stored and published: the event plus its envelope (SPEC §5). */
export type RecordedEvent = PaymentEvent & {
  readonly id: string;
  readonly schemaVersion: number;
  readonly paymentId: string;
  readonly version: number;
  readonly occurredAt: string;
  readonly metadata: EventMetadata;
};

/** EventBridge's limit for one PutEvents entry (SPEC §3). */
export const EVENTBRIDGE_ENTRY_LIMIT_BYTES = 256 * 1024;

/**
 * Wraps a domain event in its envelope at the current schema version.
 * @example toRecordedEvent(event, { paymentId: "pay_1", version: 1, id: "01J…", occurredAt, metadata })
 */
export function toRecordedEvent(
  event: PaymentEvent,
  envelope: { paymentId: string; version: number; id: string; occurredAt: string; metadata: EventMetadata },
): RecordedEvent {
  return {
    id: envelope.id,
    type: event.type,
    schemaVersion: paymentEventSchemas[event.type].schemaVersion,
    paymentId: envelope.paymentId,
    version: envelope.version,
    occurredAt: envelope.occurredAt,
    data: event.data,
    metadata: envelope.metadata,
  } as RecordedEvent;
}

/** The size EventBridge counts for an entry: Source, DetailType, Detail and the 14-byte Time. */
export function eventBridgeEntrySize(event: RecordedEvent, source = "payments"): number {
  return (
    Buffer.byteLength(source) + Buffer.byteLength(event.type) + Buffer.byteLength(JSON.stringify(event)) + 14
  );
}

/**
 * Refuses an event that could not be published to EventBridge, before anything is written.
 * @throws EventTooLargeError
 */
export function assertPublishable(event: RecordedEvent, limit = EVENTBRIDGE_ENTRY_LIMIT_BYTES): void {
  const bytes = eventBridgeEntrySize(event);
  if (bytes > limit) throw new EventTooLargeError(event.paymentId, event.type, bytes, limit);
}

/**
 * Refuses an event that the read path would refuse: the write path checks each envelope with the same
 * schemas as {@link parseRecordedEvent}, so no store can ever hold an event it cannot load again.
 * @throws EventSchemaError
 */
export function assertLoadable(event: RecordedEvent): void {
  parseRecordedEvent(event);
}

/** One step up: the schema an old version is checked against, and how it becomes the next version. */
interface Upcaster {
  readonly schema: ZodType;
  readonly upcast: (data: Record<string, unknown>) => Record<string, unknown>;
}

/** How each old schema version becomes the next one. Keyed by type, then by the version it upgrades. */
const upcasters: { readonly [T in PaymentEventType]?: Readonly<Record<number, Upcaster>> } = {
  // v1 → v2: `retryable` was added; every v1 failure was final, so none was retryable.
  PaymentFailed: {
    1: {
      schema: legacyPaymentEventSchemas.PaymentFailed[1],
      upcast: (data) => ({ ...data, retryable: false }),
    },
  },
};

/**
 * Reads a stored envelope at any schema version: checks the envelope, upcasts the data step by
 * step to the current version, and checks it against the current schema.
 * @throws EventSchemaError when the item matches no known version
 */
export function parseRecordedEvent(raw: unknown): RecordedEvent {
  const envelope = EventEnvelope.safeParse(raw);
  if (!envelope.success) {
    const type = (raw as { type?: unknown })?.type;
    throw new EventSchemaError(
      String(type),
      Number((raw as { schemaVersion?: unknown })?.schemaVersion),
      envelope.error.message,
    );
  }
  const { type } = envelope.data;
  const current = paymentEventSchemas[type];
  let { schemaVersion, data } = envelope.data;
  if (schemaVersion > current.schemaVersion) {
    throw new EventSchemaError(type, schemaVersion, `this code reads up to v${current.schemaVersion}`);
  }
  while (schemaVersion < current.schemaVersion) {
    const step = upcasters[type]?.[schemaVersion];
    if (!step) throw new EventSchemaError(type, schemaVersion, "no schema for this version");
    const checked = step.schema.safeParse(data);
    if (!checked.success) throw new EventSchemaError(type, schemaVersion, checked.error.message);
    data = step.upcast(data);
    schemaVersion += 1;
  }
  const parsed = current.data.safeParse(data);
  if (!parsed.success) throw new EventSchemaError(type, schemaVersion, parsed.error.message);
  return { ...envelope.data, schemaVersion, data: parsed.data } as RecordedEvent;
}
