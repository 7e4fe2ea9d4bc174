import * as z from "zod";
import { EventEnvelope, EventMetadata, PaymentId } from "./envelope";
import { legacyPaymentEventSchemas, type PaymentEventType, paymentEventSchemas } from "./payment-events";

/** The envelope of one event type at one schema version: its `type`, version and `data` pinned. */
function typedEnvelope(type: string, schemaVersion: number, data: z.ZodType) {
  return z.strictObject({
    id: z.string().min(1),
    type: z.literal(type),
    schemaVersion: z.literal(schemaVersion),
    paymentId: PaymentId,
    version: z.number().int().min(1),
    occurredAt: z.iso.datetime({ offset: true }),
    data,
    metadata: EventMetadata,
  });
}

/**
 * The JSON Schema of each event's full envelope, per type and schema version, for downstream
 * teams (SPEC §5). File name → schema. Generated from the zod schemas, never written by hand.
 */
export function paymentEventJsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const envelopeOf = (type: string, schemaVersion: number, data: z.ZodType) =>
    z.toJSONSchema(
      typedEnvelope(type, schemaVersion, data).meta({
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
  out["envelope.v1.json"] = z.toJSONSchema(
    EventEnvelope.meta({
      title: "Payment event envelope v1",
      description:
        "What every payment event travels in: EventBridge `detail` and the Kafka message value. `data` is the event type's own schema.",
    }),
    { target: "draft-2020-12" },
  );
  return out;
}

/** The envelope of one event type at its current version, in JSON Schema draft-07 (AsyncAPI's own format). */
function draft7Envelope(type: PaymentEventType): Record<string, unknown> {
  const { schemaVersion, data } = paymentEventSchemas[type];
  const { $schema: _, ...schema } = z.toJSONSchema(typedEnvelope(type, schemaVersion, data), {
    target: "draft-7",
  }) as Record<string, unknown>;
  return schema;
}

/**
 * The AsyncAPI 3 document for downstream teams (SPEC §5): the bus and the topic, each event type a
 * message whose payload is its envelope, generated from the same zod schemas as the JSON Schemas.
 * `busEventTypes` are the public events the bus carries (kept in packages/topology, which this
 * contract package does not import: `npm run schemas` passes them); the topic carries every one.
 */
export function paymentEventsAsyncApi(busEventTypes: readonly string[]): Record<string, unknown> {
  const types = Object.keys(paymentEventSchemas) as PaymentEventType[];
  const messages = Object.fromEntries(
    types.map((type) => [
      type,
      {
        name: type,
        title: type,
        summary: busEventTypes.includes(type)
          ? `${type} v${paymentEventSchemas[type].schemaVersion}: EventBridge detail-type and Kafka header \`type\`.`
          : `${type} v${paymentEventSchemas[type].schemaVersion}: an internal step, on Kafka only (header \`type\`).`,
        contentType: "application/json",
        payload: draft7Envelope(type),
      },
    ]),
  );
  const kafkaHeaders = {
    type: "object",
    required: ["type", "id", "schemaVersion"],
    properties: {
      type: { type: "string", enum: types, description: "The event type." },
      id: {
        type: "string",
        description: "The envelope id: consumers dedupe on it (delivery is at least once).",
      },
      schemaVersion: { type: "string", description: "The schema version of `data`, as a decimal string." },
    },
  };
  // The bus carries the public events only (SPEC §5, listed in packages/topology); Kafka every one.
  const busTypes = types.filter((t) => busEventTypes.includes(t));
  const refs = Object.fromEntries(busTypes.map((t) => [t, { $ref: `#/components/messages/${t}` }]));
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Payments events",
      version: "1.0.0",
      description:
        "The events of every payment, published by the outbox relay at least once: the public ones on EventBridge (any order), every one on Kafka (per payment in version order, key = paymentId). Internal steps (PaymentScreened, PaymentIntentCreated, PaymentRefundRequested, PaymentFlagged, PaymentAttentionResolved, PaymentDriftFound) are on Kafka only. Dedupe on the envelope's `id`. Events re-published by `npm run replay -- bus` carry `metadata.replay: true`.",
    },
    defaultContentType: "application/json",
    servers: {
      kafka: {
        host: "brokers-of-the-stage:9092",
        protocol: "kafka",
        description: "The stage's Kafka brokers (plain, SSL, SASL/SCRAM or MSK IAM).",
      },
      eventbridge: {
        host: "events.{region}.amazonaws.com",
        protocol: "https",
        description:
          "The stage's EventBridge bus; subscribe with a rule on source `payments` and the detail-types you need.",
        variables: { region: { default: "us-east-1" } },
      },
    },
    channels: {
      paymentsTopic: {
        address: "payments.events",
        title: "Kafka topic payments.events",
        servers: [{ $ref: "#/servers/kafka" }],
        messages: Object.fromEntries(
          types.map((t) => [
            t,
            {
              ...messages[t],
              headers: kafkaHeaders,
              bindings: { kafka: { key: { type: "string", description: "paymentId" } } },
            },
          ]),
        ),
      },
      paymentsBus: {
        address: "PaymentsBus",
        title:
          "EventBridge bus (source payments, detail-type = event type, detail = the envelope): the public events",
        servers: [{ $ref: "#/servers/eventbridge" }],
        messages: refs,
      },
    },
    operations: {
      publishToTopic: {
        action: "send",
        channel: { $ref: "#/channels/paymentsTopic" },
        messages: types.map((t) => ({ $ref: `#/channels/paymentsTopic/messages/${t}` })),
      },
      publishToBus: {
        action: "send",
        channel: { $ref: "#/channels/paymentsBus" },
        messages: busTypes.map((t) => ({ $ref: `#/channels/paymentsBus/messages/${t}` })),
      },
    },
    components: { messages },
  };
}
