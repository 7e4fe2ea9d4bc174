import * as z from "zod";
import { type PaymentEventType, paymentEventTypes } from "./payment-events";

/** Payment ids: `pay_` + a ULID, or a caller's id of 1–64 of `[A-Za-z0-9_-]` (SPEC §3). */
export const PaymentId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "1–64 characters of A-Z, a-z, 0-9, _ and -");

/**
 * A W3C Trace Context `traceparent` (version 00): trace id and parent span id in lower-case hex,
 * neither all zeros, and the flags.
 */
export const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export const EventMetadata = z.strictObject({
  correlationId: z.string().min(1),
  causationId: z.string().min(1),
  source: z.string().min(1),
  replay: z.boolean().optional(),
  /** The trace this event was appended in (SPEC §5): passed to EventBridge and Kafka. */
  traceparent: z.string().regex(TRACEPARENT).optional(),
  /** A correction appended by reconciliation (SPEC §6.1): who, why, and the drift it settles. */
  repair: z
    .strictObject({
      by: z.string().min(1).max(255),
      reason: z.string().min(1).max(1000),
      driftId: z.string().min(1).max(255),
    })
    .optional(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

/**
 * The envelope every event travels in: EventBridge `detail` and the Kafka message value (SPEC §5).
 * `data` is checked against the event's own schema by `parseEnvelope` in core, after upcasting.
 */
export const EventEnvelope = z.strictObject({
  id: z.string().min(1),
  type: z.enum(paymentEventTypes as [PaymentEventType, ...PaymentEventType[]]),
  schemaVersion: z.number().int().min(1),
  paymentId: PaymentId,
  version: z.number().int().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()),
  metadata: EventMetadata,
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;
