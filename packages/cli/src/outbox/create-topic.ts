import { ensureTopic, kafkaSasl } from "@payments/adapters/outbox";
import { kafkaTopic } from "@payments/topology";
import { Resource } from "sst";

/**
 * The Kafka topic, created with the brokers and credentials the relay is linked to (on AWS through
 * `sst shell`), with topology's partitions and replication unless told otherwise.
 */
export async function createdTopic(options: { partitions?: number; replicationFactor?: number }) {
  const partitions = options.partitions ?? kafkaTopic.partitions;
  const replicationFactor = options.replicationFactor ?? kafkaTopic.replicationFactor;
  for (const [name, value] of Object.entries({ partitions, replicationFactor }))
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`--${name} takes a whole number, not ${value}`);
  const created = await ensureTopic(
    {
      brokers: Resource.Kafka.brokers,
      ssl: Resource.Kafka.ssl,
      sasl: kafkaSasl(Resource.Kafka.saslMechanism, {
        username: Resource.KafkaUsername.value,
        password: Resource.KafkaPassword.value,
        region: process.env.AWS_REGION,
      }),
    },
    { name: Resource.Kafka.topic, partitions, replicationFactor },
  );
  return { name: Resource.Kafka.topic, created };
}
