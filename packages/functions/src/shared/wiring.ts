import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  createCustomerActivity,
  createDynamoEventStore,
  createReadModelStore,
} from "@payments/adapters/dynamodb";
import { createPayOSClient } from "@payments/adapters/payos";
import { createStripeCustomers, createStripeGateway, createStripeLookup } from "@payments/adapters/stripe";
import { createZaloPayClient } from "@payments/adapters/zalopay";
import { createCommandHandler, type FraudThresholds } from "@payments/core";
import { Resource } from "sst";
import { monotonicFactory } from "ulid";
import { createPaymentService } from "../payments/payment-service";
import { createSavedMethods } from "../payments/saved-methods";
import { createWebhookService } from "../payments/webhook-service";
import { createOrderProcessor } from "../process-payment/process-order";
import { lazy } from "./lazy";
import { traced } from "./observability";

const ulid = monotonicFactory();

/**
 * The clients and services the functions share, built on first use and kept for the container's
 * life: one DynamoDB client, the event store, the Stripe gateway (its key read once), the order
 * processor and the payment service. Handlers take what they call, so nothing is built that a
 * function never uses.
 */
export function createWiring(options: {
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
  const gateway = lazy(() =>
    createStripeGateway({ secretKey: Resource.StripeSecretKey.value, apiUrl: Resource.Stripe.apiUrl }),
  );
  const stripeLookup = lazy(() =>
    createStripeLookup({ secretKey: Resource.StripeSecretKey.value, apiUrl: Resource.Stripe.apiUrl }),
  );
  const zalopay = lazy(() => ({
    appId: Resource.ZaloPay.appId,
    client: createZaloPayClient({
      endpoint: Resource.ZaloPay.endpoint,
      appId: Resource.ZaloPay.appId,
      key1: Resource.ZaloPayKey1.value,
    }),
  }));
  const payos = lazy(() =>
    createPayOSClient({
      endpoint: Resource.PayOS.endpoint,
      clientId: Resource.PayOSClientId.value,
      apiKey: Resource.PayOSApiKey.value,
      checksumKey: Resource.PayOSChecksumKey.value,
    }),
  );
  const savedMethods = lazy(() =>
    createSavedMethods({
      customers: lazy(() =>
        createStripeCustomers({ secretKey: Resource.StripeSecretKey.value, apiUrl: Resource.Stripe.apiUrl }),
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
  const newPaymentId = () => `pay_${ulid()}`;
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
  const payments = lazy(() =>
    createPaymentService({
      store: store(),
      handle: handle(),
      gateway: gateway(),
      charge: processOrder(),
      newPaymentId,
      zalopay,
      payos,
    }),
  );
  const webhooks = lazy(() => createWebhookService({ store: store(), newPaymentId, newId: ulid }));
  return {
    dynamodb,
    store,
    handle,
    gateway,
    stripeLookup,
    zalopay,
    payos,
    processOrder,
    payments,
    webhooks,
    savedMethods,
  };
}
