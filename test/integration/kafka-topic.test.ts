import { ensureTopic } from "@payments/adapters/outbox";
import { Kafka, logLevel } from "kafkajs";
import { ulid } from "ulid";
import { describe, expect, it } from "vitest";
import { testStack } from "../helpers/stack";

/** The one-off topic creation of `npm run outbox -- create-topic`, against the test run's Kafka. */
describe("creating the Kafka topic", () => {
  it("creates it with the partitions asked for, once: a second run finds it there", async () => {
    const { kafka } = testStack();
    const topic = { name: `payments.events.${ulid().toLowerCase()}`, partitions: 2, replicationFactor: 1 };
    expect(await ensureTopic({ brokers: kafka.brokers }, topic)).toBe(true);
    expect(await ensureTopic({ brokers: kafka.brokers }, topic)).toBe(false);
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic.name] })).topics;
      expect(metadata?.partitions).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });
});
