import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createCustomerActivity, createDynamoEventStore } from "@payments/adapters/dynamodb";
import { createStripeGateway } from "@payments/adapters/stripe";
import { createCommandHandler, fraudThresholdsFromConfig, normalizeCurrency } from "@payments/core";
import { Resource } from "sst";
import { monotonicFactory } from "ulid";
import { lazy } from "../shared/lazy";
import { logger, metrics } from "../shared/observability";
import { createBatchHandler } from "./batch-handler";
import { createOrderProcessor } from "./process-order";

const ulid = monotonicFactory();
/** Checked at cold start: a threshold that is not a whole number from 1 to 100 stops the function here. */
const fraudThresholds = fraudThresholdsFromConfig(process.env);

/** Built on the first invocation and kept for the container's life: clients, and the Stripe key read once. */
const processOrder = lazy(() => {
  const dynamodb = new DynamoDBClient({});
  const store = createDynamoEventStore({ client: dynamodb, tableName: Resource.EventStore.name });
  return createOrderProcessor({
    store,
    handle: createCommandHandler(store, { newId: ulid }),
    gateway: createStripeGateway({
      secretKey: Resource.StripeSecretKey.value,
      apiUrl: Resource.Stripe.apiUrl,
    }),
    activity: createCustomerActivity({ client: dynamodb, tableName: Resource.ReadModels.name }),
    fraudThresholds,
    newPaymentId: () => `pay_${ulid()}`,
    now: () => new Date(),
  });
});

export const handler = createBatchHandler({
  processOrder,
  // Checked at cold start too: an unknown DEFAULT_CURRENCY would refuse every message as malformed.
  defaultCurrency: normalizeCurrency(process.env.DEFAULT_CURRENCY ?? "usd"),
  logger,
  metrics,
});
