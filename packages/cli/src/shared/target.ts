import { existsSync, readFileSync } from "node:fs";
import { LOCAL_CREDENTIALS, LOCAL_REGION, secretValues } from "@payments/local";
import {
  eventBus,
  eventStoreTable,
  outboxTable,
  readModelTable,
  transactionLogTable,
} from "@payments/topology";

/** What `npm run dev` writes to .dev/stack.json (SPEC §7). */
export interface StackDescription {
  readonly dynamoEndpoint: string;
  readonly awsEndpoint: string;
  readonly region: string;
  readonly tables: {
    events: string;
    readModels: string;
    transactionLog: string;
    outbox: string;
    orders: string;
  };
  readonly queues: Record<string, string>;
  readonly bus: string;
  readonly kafka: { brokers: string[]; topic: string };
  readonly stripe?: { url: string; dashboardRefundsUrl: string };
  readonly providers?: { zalopay: { url: string; appId: number }; payos: { url: string } };
}

/**
 * Points the process at the stack a CLI works on: the local stack of `.dev/stack.json` when it is
 * there (its resources linked through `SST_RESOURCE_*` and `AWS_ENDPOINT_URL_*`, as the dev stack
 * links its functions), else AWS through the usual configuration and the links of `sst shell`.
 * Returns a line saying which.
 */
export function linkTarget(stackFile: string): { where: string; stack?: StackDescription } {
  if (!existsSync(stackFile))
    return { where: "AWS, with the resources SST links (run it under `npx sst shell`)" };
  const stack = JSON.parse(readFileSync(stackFile, "utf8")) as StackDescription;
  const link = (value: Record<string, unknown>) => JSON.stringify(value);
  Object.assign(process.env, {
    AWS_REGION: stack.region ?? LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: stack.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: stack.awsEndpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: stack.awsEndpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: stack.awsEndpoint,
    [`SST_RESOURCE_${eventStoreTable.name}`]: link({ name: stack.tables.events }),
    [`SST_RESOURCE_${readModelTable.name}`]: link({ name: stack.tables.readModels }),
    [`SST_RESOURCE_${transactionLogTable.name}`]: link({ name: stack.tables.transactionLog }),
    [`SST_RESOURCE_${outboxTable.name}`]: link({ name: stack.tables.outbox }),
    [`SST_RESOURCE_${eventBus.name}`]: link({ name: stack.bus }),
    SST_RESOURCE_Kafka: link({ ...stack.kafka, ssl: false, saslMechanism: "none" }),
    SST_RESOURCE_KafkaUsername: link({ value: "" }),
    SST_RESOURCE_KafkaPassword: link({ value: "" }),
    // The providers as npm run dev runs them (the Stripe proxy, the emulators), with the secrets it
    // was given: the same environment, or the dev defaults.
    ...(stack.stripe ? { SST_RESOURCE_Stripe: link({ apiUrl: stack.stripe.url }) } : {}),
    ...(stack.providers
      ? {
          SST_RESOURCE_ZaloPay: link({
            appId: stack.providers.zalopay.appId,
            endpoint: stack.providers.zalopay.url,
          }),
          SST_RESOURCE_PayOS: link({ endpoint: stack.providers.payos.url }),
        }
      : {}),
    ...Object.fromEntries(
      Object.entries(secretValues(process.env)).map(([name, value]) => [
        `SST_RESOURCE_${name}`,
        link({ value }),
      ]),
    ),
  });
  return { where: `the local stack of ${stackFile} (${stack.dynamoEndpoint}, ${stack.awsEndpoint})`, stack };
}
