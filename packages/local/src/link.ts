import {
  eventBus,
  eventStoreTable,
  idempotencyTable,
  ordersTable,
  outboxTable,
  queues,
  readModelTable,
  transactionLogTable,
} from "@payments/topology";
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from "./platform";

/** The ZaloPay app id of the local stack's emulator. */
export const LOCAL_ZALOPAY_APP_ID = 2553;

/**
 * The environment that links handler code to the local stack exactly as SST links it on AWS:
 * `SST_RESOURCE_<Name>` JSON for `Resource` from sst, and `AWS_ENDPOINT_URL_<SERVICE>` so that
 * plain SDK clients reach the local servers. Handler code has no local-only branch.
 *
 * @param overrides e.g. the Stripe API URL of the test proxy in front of stripe-mock
 */
export function linkedEnvironment(
  stack: LocalStack,
  overrides: { stripeApiUrl?: string; zalopayUrl?: string; payosUrl?: string } = {},
): Record<string, string> {
  const link = (value: Record<string, unknown>) => JSON.stringify(value);
  const env: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: stack.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: stack.awsEndpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: stack.awsEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stack.awsEndpoint,
    AWS_ENDPOINT_URL_SSM: stack.awsEndpoint,
    SST_RESOURCE_App: link({ name: "payments", stage: stack.stage }),
    [`SST_RESOURCE_${eventStoreTable.name}`]: link({ name: stack.tables.events, type: "sst.aws.Dynamo" }),
    [`SST_RESOURCE_${readModelTable.name}`]: link({ name: stack.tables.readModels, type: "sst.aws.Dynamo" }),
    [`SST_RESOURCE_${transactionLogTable.name}`]: link({
      name: stack.tables.transactionLog,
      type: "sst.aws.Dynamo",
    }),
    [`SST_RESOURCE_${idempotencyTable.name}`]: link({
      name: stack.tables.idempotency,
      type: "sst.aws.Dynamo",
    }),
    [`SST_RESOURCE_${outboxTable.name}`]: link({ name: stack.tables.outbox, type: "sst.aws.Dynamo" }),
    [`SST_RESOURCE_${ordersTable.name}`]: link({ name: stack.tables.orders, type: "sst.sst.Linkable" }),
    [`SST_RESOURCE_${eventBus.name}`]: link({
      name: stack.bus.name,
      arn: stack.bus.arn,
      type: "sst.aws.Bus",
    }),
    SST_RESOURCE_Kafka: link({
      brokers: stack.kafka.brokers,
      topic: stack.kafka.topic,
      ssl: false,
      saslMechanism: "none",
      type: "sst.sst.Linkable",
    }),
    SST_RESOURCE_Stripe: link({
      apiUrl: overrides.stripeApiUrl ?? stack.stripeMockUrl,
      type: "sst.sst.Linkable",
    }),
    // The emulators' URLs when they run (npm run dev, the tests that start them); nothing listens
    // at the placeholder otherwise, so a call fails as an outage would.
    SST_RESOURCE_ZaloPay: link({
      appId: LOCAL_ZALOPAY_APP_ID,
      endpoint: overrides.zalopayUrl ?? "http://127.0.0.1:9",
      type: "sst.sst.Linkable",
    }),
    SST_RESOURCE_PayOS: link({
      endpoint: overrides.payosUrl ?? "http://127.0.0.1:9",
      type: "sst.sst.Linkable",
    }),
  };
  for (const [key, queue] of Object.entries(queues) as Array<
    [keyof typeof queues, (typeof queues)[keyof typeof queues]]
  >) {
    env[`SST_RESOURCE_${queue.name}`] = link({
      url: stack.queues[key].url,
      arn: stack.queues[key].arn,
      type: "sst.aws.Queue",
    });
  }
  for (const [name, value] of Object.entries(stack.secretValues)) {
    env[`SST_RESOURCE_${name}`] = link({ value, type: "sst.sst.Secret" });
  }
  return env;
}
