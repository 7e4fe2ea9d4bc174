import { apiThrottling, functionHandlers } from "../packages/topology/src";
import { payos, stripe, zalopay } from "./config";
import { fraudEnvironment, lambdaDefaults, tokenEnvironment } from "./functions";
import { secrets } from "./secrets";
import { eventStore, idempotencyKeys, readModels } from "./storage";

/** The REST API and the providers' webhooks: one Hono function behind an HTTP API, throttled. */
export const api = new sst.aws.ApiGatewayV2("Api", {
  transform: {
    stage: (args) => {
      args.defaultRouteSettings = {
        throttlingRateLimit: apiThrottling.rateLimit,
        throttlingBurstLimit: apiThrottling.burstLimit,
      };
    },
  },
});

export const apiRoute = api.route("$default", {
  ...lambdaDefaults,
  name: "PaymentsApi",
  handler: functionHandlers.api,
  timeout: "30 seconds",
  memory: "1024 MB",
  link: [
    eventStore,
    readModels,
    idempotencyKeys,
    stripe,
    secrets.StripeSecretKey,
    secrets.StripeWebhookSecret,
    zalopay,
    secrets.ZaloPayKey1,
    secrets.ZaloPayKey2,
    payos,
    secrets.PayOSClientId,
    secrets.PayOSApiKey,
    secrets.PayOSChecksumKey,
    secrets.JwtSecret,
  ],
  environment: { ...fraudEnvironment, ...tokenEnvironment },
});
