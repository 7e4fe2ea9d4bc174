import {
  EventEnvelope,
  EventMetadata,
  legacyPaymentEventSchemas,
  type PaymentEvent,
  type PaymentEventType,
  PaymentId,
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

const { occurredAt: IsoInstant } = EventEnvelope.shape;

/** Why an envelope written at the current schema version would not load, or undefined if it would. */
function envelopeProblem(event: RecordedEvent): string | undefined {
  if (typeof event.id !== "string" || event.id.length === 0) return "id: a non-empty string";
  if (!PaymentId.safeParse(event.paymentId).success)
    return "paymentId: 1–64 characters of A-Z, a-z, 0-9, _ and -";
  if (!Number.isInteger(event.version) || event.version < 1) return "version: a whole number from 1";
  if (!IsoInstant.safeParse(event.occurredAt).success) return "occurredAt: an ISO 8601 instant";
  const metadata = EventMetadata.safeParse(event.metadata);
  if (!metadata.success) return `metadata: ${metadata.error.message}`;
  if (typeof event.data !== "object" || event.data === null || Array.isArray(event.data))
    return "data: an object";
  return undefined;
}

/**
 * Refuses an event that the read path would refuse, so no store can ever hold an event it cannot
 * load again. The write path only writes the current schema version, so it checks the envelope's
 * fields directly and the data with the type's own zod schema: the same rules as
 * {@link parseRecordedEvent} (a property test holds the two to the same answer), without parsing the
 * whole envelope through zod on every append, which cost the store a third of its CPU per append
 * under load (`npm run bench`, --cpu-prof).
 * @throws EventSchemaError
 */
export function assertLoadable(event: RecordedEvent): void {
  const current = (paymentEventSchemas as Partial<typeof paymentEventSchemas>)[event.type];
  if (!current)
    throw new EventSchemaError(String(event.type), Number(event.schemaVersion), "unknown event type");
  if (event.schemaVersion !== current.schemaVersion) {
    throw new EventSchemaError(
      event.type,
      Number(event.schemaVersion),
      `the write path writes v${current.schemaVersion}`,
    );
  }
  const problem = envelopeProblem(event);
  if (problem) throw new EventSchemaError(event.type, event.schemaVersion, problem);
  const parsed = current.data.safeParse(event.data);
  if (!parsed.success) throw new EventSchemaError(event.type, event.schemaVersion, parsed.error.message);
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
  // v1 → v2: `method` and `reference` were added; a v1 refund went through the gateway (the default).
  PaymentRefunded: { 1: { schema: legacyPaymentEventSchemas.PaymentRefunded[1], upcast: (data) => data } },
  // v1 → v2: `gatewayRefundId` was added; v1 holds were Stripe's, matched by our refund id.
  PaymentRefundRequested: {
    1: { schema: legacyPaymentEventSchemas.PaymentRefundRequested[1], upcast: (data) => data },
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
