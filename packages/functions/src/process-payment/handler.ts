import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createCustomerActivity, createDynamoEventStore } from "@payments/adapters/dynamodb";
import { createStripeGateway } from "@payments/adapters/stripe";
import { createCommandHandler } from "@payments/core";
import { Resource } from "sst";
import { monotonicFactory } from "ulid";
import { lazy } from "../shared/lazy";
import { logger, metrics } from "../shared/observability";
import { createBatchHandler } from "./batch-handler";
import { createOrderProcessor } from "./process-order";

const ulid = monotonicFactory();

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
    fraudThresholds: {
      reviewAt: Number(process.env.FRAUD_REVIEW_AT ?? 60),
      rejectAt: Number(process.env.FRAUD_REJECT_AT ?? 85),
    },
    newPaymentId: () => `pay_${ulid()}`,
    now: () => new Date(),
  });
});

export const handler = createBatchHandler({
  processOrder,
  defaultCurrency: process.env.DEFAULT_CURRENCY ?? "usd",
  logger,
  metrics,
});
