import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createPayOSClient } from "@payments/adapters/payos";
import { createStripeLookup } from "@payments/adapters/stripe";
import { createZaloPayClient } from "@payments/adapters/zalopay";
import type { FraudThresholds } from "@payments/core";
import { Resource } from "sst";
import { createPaymentService } from "../payments/payment-service";
import { createWebhookService } from "../payments/webhook-service";
import { lazy } from "./lazy";
import { createProcessorWiring, newPaymentId, ulid } from "./processor-wiring";

/**
 * The clients and services the API, the reconciler and the payment tasks share, built on first use
 * and kept for the container's life: the order processor's (createProcessorWiring), the ZaloPay and
 * PayOS clients, the payment and webhook services. Handlers take what they call, so nothing is built
 * that a function never uses.
 */
export function createWiring(options: {
  fraudThresholds: FraudThresholds;
  /** The DynamoDB client to use instead of a plain one (the bench's, which counts what it sends). */
  dynamodb?: () => DynamoDBClient;
}) {
  const processor = createProcessorWiring(options);
  const { store, handle, gateway, processOrder, stripe } = processor;
  const stripeLookup = lazy(() =>
    createStripeLookup({ secretKey: stripe.secretKey(), apiUrl: stripe.apiUrl() }),
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
  return { ...processor, stripeLookup, zalopay, payos, payments, webhooks };
}
