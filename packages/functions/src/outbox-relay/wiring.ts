import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { createDynamoEventStore, createOutboxDeliveries } from "@payments/adapters/dynamodb";
import { createEventBridgePublisher, createKafkaPublisher, kafkaSasl } from "@payments/adapters/outbox";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { traced } from "../shared/observability";
import { outboxConfig } from "./config";
import { createRelay } from "./relay";

export { outboxConfig, positiveInteger } from "./config";

/**
 * What the relay's functions share, built on first use and kept for the container: one DynamoDB
 * client, the event store, the delivery cursors, and one publisher per sink (one Kafka producer
 * per container). Nothing of the payment flow (Stripe, Hono) is imported here.
 */
export function createRelayWiring(env: NodeJS.ProcessEnv = process.env) {
  const config = outboxConfig(env);
  const dynamodb = lazy(() => traced(new DynamoDBClient({})));
  const deliveries = lazy(() =>
    createOutboxDeliveries({ client: dynamodb(), tableName: Resource.OutboxDeliveries.name }),
  );
  const publishers = lazy(() => [
    createEventBridgePublisher({
      client: traced(new EventBridgeClient({})),
      busName: Resource.PaymentsBus.name,
      source: config.source,
    }),
    createKafkaPublisher({
      topic: Resource.Kafka.topic,
      connection: {
        brokers: Resource.Kafka.brokers,
        ssl: Resource.Kafka.ssl,
        sasl: kafkaSasl(Resource.Kafka.saslMechanism, {
          username: Resource.KafkaUsername.value,
          password: Resource.KafkaPassword.value,
          region: env.AWS_REGION,
        }),
      },
    }),
  ]);
  const relay = lazy(() =>
    createRelay({
      store: createDynamoEventStore({ client: dynamodb(), tableName: Resource.EventStore.name }),
      deliveries: deliveries(),
      publishers: publishers(),
      maxRetries: config.maxRetries,
    }),
  );
  return { config, dynamodb, deliveries, publishers, relay };
}
