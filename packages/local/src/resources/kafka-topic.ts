import { Kafka, logLevel } from "kafkajs";

/** Creates a topic if it does not exist (single broker: replication factor 1). */
export async function ensureKafkaTopic(brokers: string[], topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({ brokers, clientId: "payments-local", logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      });
    }
  } finally {
    await admin.disconnect();
  }
}
