import { z } from "zod";
import { EventMetadata, PaymentId } from "./envelope";
import { legacyPaymentEventSchemas, type PaymentEventType, paymentEventSchemas } from "./payment-events";

/**
 * The JSON Schema of each event's full envelope, per type and schema version, for downstream
 * teams (SPEC §5). File name → schema. Generated from the zod schemas, never written by hand.
 */
export function paymentEventJsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const envelopeOf = (type: string, schemaVersion: number, data: z.ZodType) =>
    z.toJSONSchema(
      z
        .strictObject({
          id: z.string().min(1),
          type: z.literal(type),
          schemaVersion: z.literal(schemaVersion),
          paymentId: PaymentId,
          version: z.number().int().min(1),
          occurredAt: z.iso.datetime({ offset: true }),
          data,
          metadata: EventMetadata,
        })
        .meta({
          title: `${type} v${schemaVersion}`,
          description: `The ${type} event as published on EventBridge and Kafka.`,
        }),
      { target: "draft-2020-12" },
    );
  for (const [type, { schemaVersion, data }] of Object.entries(paymentEventSchemas)) {
    out[`${type}.v${schemaVersion}.json`] = envelopeOf(type, schemaVersion, data);
  }
  for (const [type, versions] of Object.entries(legacyPaymentEventSchemas)) {
    for (const [version, data] of Object.entries(versions)) {
      out[`${type as PaymentEventType}.v${version}.json`] = envelopeOf(type, Number(version), data);
    }
  }
  return out;
}
