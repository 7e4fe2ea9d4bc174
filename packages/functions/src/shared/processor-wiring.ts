import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  createCustomerActivity,
  createDynamoEventStore,
  createReadModelStore,
} from "@payments/adapters/dynamodb";
import { createStripeCustomers, createStripeGateway } from "@payments/adapters/stripe";
import { createCommandHandler, type FraudThresholds } from "@payments/core";
import { Resource } from "sst";
import { monotonicFactory } from "ulid";
import { createSavedMethods } from "../payments/saved-methods";
import { createOrderProcessor } from "../process-payment/process-order";
import { lazy } from "./lazy";
import { traced } from "./observability";

export const ulid = monotonicFactory();
export const newPaymentId = () => `pay_${ulid()}`;

/**
 * What the order processor needs, built on first use and kept for the container's life: one
 * DynamoDB client, the event store, the Stripe gateway (its key read once) and the processor. Its
 * own module, so that process-payment's bundle carries no other provider's client and none of the
 * API's services: what a function imports, it parses at every cold start.
 */
export function createProcessorWiring(options: {
  fraudThresholds: FraudThresholds;
  /** The DynamoDB client to use instead of a plain one (the bench's, which counts what it sends). */
  dynamodb?: () => DynamoDBClient;
}) {
  const dynamodb = lazy(options.dynamodb ?? (() => traced(new DynamoDBClient({}))));
  const store = lazy(() =>
    createDynamoEventStore({
      client: dynamodb(),
      tableName: Resource.EventStore.name,
      activityTableName: () => Resource.ReadModels.name,
    }),
  );
  const handle = lazy(() => createCommandHandler(store(), { newId: ulid }));
  const stripe = { secretKey: () => Resource.StripeSecretKey.value, apiUrl: () => Resource.Stripe.apiUrl };
  const gateway = lazy(() => createStripeGateway({ secretKey: stripe.secretKey(), apiUrl: stripe.apiUrl() }));
  const savedMethods = lazy(() =>
    createSavedMethods({
      customers: lazy(() =>
        createStripeCustomers({ secretKey: stripe.secretKey(), apiUrl: stripe.apiUrl() }),
      ),
      // The customer mapping lives in the read-model table; the transaction log is not touched.
      mapping: lazy(() =>
        createReadModelStore({
          client: dynamodb(),
          tableName: Resource.ReadModels.name,
          transactionLogTableName: "",
        }),
      ),
    }),
  );
  const processOrder = lazy(() =>
    createOrderProcessor({
      store: store(),
      handle: handle(),
      gateway: gateway(),
      activity: createCustomerActivity({ client: dynamodb(), tableName: Resource.ReadModels.name }),
      fraudThresholds: options.fraudThresholds,
      newPaymentId,
      now: () => new Date(),
      savedMethods: savedMethods(),
    }),
  );
  return { dynamodb, store, handle, gateway, stripe, savedMethods, processOrder };
}
