/**
 * The links the functions use, as `sst dev`/`sst deploy` would generate them into sst-env.d.ts.
 * Written by hand because neither can run offline; the shapes match stacks/ and packages/local's
 * linkedEnvironment (checked at run time by test/integration/local-platform.test.ts).
 */
import "sst";

declare module "sst" {
  export interface Resource {
    EventStore: { name: string; type: "sst.aws.Dynamo" };
    ReadModels: { name: string; type: "sst.aws.Dynamo" };
    IdempotencyKeys: { name: string; type: "sst.aws.Dynamo" };
    TransactionLog: { name: string; type: "sst.aws.Dynamo" };
    OutboxDeliveries: { name: string; type: "sst.aws.Dynamo" };
    /** The order service's table, linked by name (SPEC §5). */
    Orders: { name: string; type: "sst.sst.Linkable" };
    RelayFailures: { url: string; type: "sst.aws.Queue" };
    OrderDlq: { url: string; type: "sst.aws.Queue" };
    OrderQueue: { url: string; type: "sst.aws.Queue" };
    PaymentsBus: { name: string; arn: string; type: "sst.aws.Bus" };
    StripeSecretKey: { value: string; type: "sst.sst.Secret" };
    StripeWebhookSecret: { value: string; type: "sst.sst.Secret" };
    ZaloPayKey1: { value: string; type: "sst.sst.Secret" };
    ZaloPayKey2: { value: string; type: "sst.sst.Secret" };
    PayOSClientId: { value: string; type: "sst.sst.Secret" };
    PayOSApiKey: { value: string; type: "sst.sst.Secret" };
    PayOSChecksumKey: { value: string; type: "sst.sst.Secret" };
    JwtSecret: { value: string; type: "sst.sst.Secret" };
    KafkaUsername: { value: string; type: "sst.sst.Secret" };
    KafkaPassword: { value: string; type: "sst.sst.Secret" };
    Kafka: {
      brokers: string[];
      topic: string;
      /** TLS to the brokers. */
      ssl: boolean;
      /** none, plain, scram-sha-256, scram-sha-512 or aws-iam. */
      saslMechanism: string;
      type: "sst.sst.Linkable";
    };
    Stripe: { apiUrl: string; type: "sst.sst.Linkable" };
    /** ZaloPay's merchant API (ZALOPAY_APP_ID, ZALOPAY_ENDPOINT). */
    ZaloPay: { appId: number; endpoint: string; type: "sst.sst.Linkable" };
    /** PayOS's API (PAYOS_ENDPOINT). */
    PayOS: { endpoint: string; type: "sst.sst.Linkable" };
  }
}
