import { secrets as secretNames } from "../packages/topology/src";

/** `StripeSecretKey`, `StripeWebhookSecret`, `ZaloPayKey2`, `PayOSChecksumKey`, `JwtSecret`, Kafka credentials. */
export const secrets = Object.fromEntries(
  Object.keys(secretNames).map((name) => [name, new sst.Secret(name)]),
) as Record<keyof typeof secretNames, sst.Secret>;
