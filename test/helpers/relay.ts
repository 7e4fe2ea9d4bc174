import { randomUUID } from "node:crypto";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { EventStore, RecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { eventBus } from "@payments/topology";
import { type EachMessagePayload, Kafka, logLevel } from "kafkajs";
import { ulid } from "ulid";

/** The event types order-status writes back: its bus rule's pattern (SPEC §5). */
export const outcomeTypes: ReadonlySet<string> = new Set(eventBus.rules.orderStatus.pattern["detail-type"]);

/**
 * The public events, as SPEC §5 lists them: the only ones the bus may carry. Written here from the
 * SPEC, not read from packages/topology, so that the tests check the relay against the contract.
 */
export const SPEC_PUBLIC_EVENTS: ReadonlySet<string> = new Set([
  "PaymentInitiated",
  "PaymentAuthorized",
  "PaymentCaptured",
  "PaymentRefunded",
  "PaymentRefundFailed",
  "PaymentCanceled",
  "PaymentFailed",
  "PaymentRejected",
  "ProviderNoticeUnapplied",
]);

/** Appends a history in steps (one append each, as the service does), returning every recorded event. */
export async function appendInSteps(
  store: EventStore,
  paymentId: string,
  steps: readonly PaymentEvent[][],
): Promise<RecordedEvent[]> {
  const metadata = { correlationId: "c", causationId: "c", source: "test" };
  const recorded: RecordedEvent[] = [];
  for (const events of steps) {
    recorded.push(
      ...(await store.append({
        paymentId,
        expectedVersion: recorded.length,
        events,
        metadata,
        now: new Date(),
        newId: ulid,
      })),
    );
  }
  return recorded;
}

export interface KafkaArrival {
  readonly key: string;
  readonly envelope: RecordedEvent;
  readonly headers: Record<string, string>;
}

/** A kafkajs consumer of a fresh group from the topic's beginning; arrivals whose key passes `keep`. */
export async function consumeTopic(brokers: string[], topic: string, keep: (key: string) => boolean) {
  const kafka = new Kafka({ brokers, clientId: "test-consumer", logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, retry: { retries: 20 } });
  const arrivals: KafkaArrival[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }: EachMessagePayload) => {
      const key = message.key?.toString() ?? "";
      if (!keep(key)) return;
      arrivals.push({
        key,
        envelope: JSON.parse(message.value!.toString()) as RecordedEvent,
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
  return { arrivals, stop: () => consumer.disconnect() };
}

/**
 * Receives (and deletes) every message a queue has now; stops after `idleRounds` empty receives.
 * Short polls: the emulator holds a long poll for its whole wait when it has fewer than 10 messages.
 */
export async function drainQueue(sqs: SQSClient, queueUrl: string, idleRounds = 2): Promise<string[]> {
  const bodies: string[] = [];
  for (let idle = 0; idle < idleRounds; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) {
      idle++;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    idle = 0;
    bodies.push(...Messages.map((m) => m.Body ?? ""));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return bodies;
}

/** Per payment, the versions in order of first arrival; and how many arrivals were repeats. */
export function firstArrivals(envelopes: readonly RecordedEvent[]) {
  const seen = new Set<string>();
  const order = new Map<string, number[]>();
  let duplicates = 0;
  for (const e of envelopes) {
    if (seen.has(e.id)) {
      duplicates++;
      continue;
    }
    seen.add(e.id);
    order.set(e.paymentId, [...(order.get(e.paymentId) ?? []), e.version]);
  }
  return { order, unique: seen, duplicates };
}
