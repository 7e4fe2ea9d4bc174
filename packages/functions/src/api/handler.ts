import { createReadModelStore } from "@payments/adapters/dynamodb";
import { fraudThresholdsFromConfig } from "@payments/core";
import { handle } from "hono/aws-lambda";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { logger, metrics, withColdStartMetric } from "../shared/observability";
import { createWiring } from "../shared/wiring";
import { createApiApp } from "./app";
import { createIdempotentRunner } from "./idempotency";

const wiring = createWiring({ fraudThresholds: fraudThresholdsFromConfig(process.env) });

/** The REST API as one Hono app: on Lambda through `handler`, locally through @hono/node-server. */
export const app = createApiApp({
  payments: wiring.payments,
  store: wiring.store,
  readModels: lazy(() =>
    createReadModelStore({
      client: wiring.dynamodb(),
      tableName: Resource.ReadModels.name,
      transactionLogTableName: Resource.TransactionLog.name,
    }),
  ),
  idempotent: lazy(() =>
    createIdempotentRunner({ client: wiring.dynamodb(), tableName: Resource.IdempotencyKeys.name }),
  ),
  jwtSecret: () => Resource.JwtSecret.value,
  webhooks: wiring.webhooks,
  savedMethods: wiring.savedMethods,
  stripeLookup: wiring.stripeLookup,
  webhookSecrets: () => ({
    stripeWebhookSecret: Resource.StripeWebhookSecret.value,
    zaloPayKey2: Resource.ZaloPayKey2.value,
    payosChecksumKey: Resource.PayOSChecksumKey.value,
  }),
  logger,
  metrics,
  stage: Resource.App.stage,
});

export const handler = withColdStartMetric(handle(app));
