import { kafkaTopic } from "../packages/topology/src";

/** The Kafka cluster the relay publishes to; brokers come from the stage's environment. */
export const kafka = new sst.Linkable("Kafka", {
  properties: {
    brokers: (process.env.KAFKA_BROKERS ?? "").split(",").filter(Boolean),
    topic: kafkaTopic.name,
    /** TLS to the brokers (KAFKA_SSL=true); MSK with IAM always uses TLS. */
    ssl: process.env.KAFKA_SSL === "true",
    /** none, plain, scram-sha-256, scram-sha-512 or aws-iam (KAFKA_SASL_MECHANISM). */
    saslMechanism: process.env.KAFKA_SASL_MECHANISM ?? "none",
  },
});

/** Stripe's API: the default endpoint on AWS (an empty apiUrl); the local stack links its own. */
export const stripe = new sst.Linkable("Stripe", { properties: { apiUrl: "" } });

/** ZaloPay's merchant API v2 (SPEC §4.5): the app id and endpoint from the stage's environment. */
export const zalopay = new sst.Linkable("ZaloPay", {
  properties: {
    appId: Number(process.env.ZALOPAY_APP_ID ?? 0),
    endpoint: process.env.ZALOPAY_ENDPOINT ?? "https://openapi.zalopay.vn",
  },
});

/** PayOS's API (SPEC §4.5): its endpoint from the stage's environment. */
export const payos = new sst.Linkable("PayOS", {
  properties: { endpoint: process.env.PAYOS_ENDPOINT ?? "https://api-merchant.payos.vn" },
});
