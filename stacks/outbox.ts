import {
  functionHandlers,
  mskIamStatements,
  outboxDefaults,
  outboxRetentionDays,
  schedules,
  streamSubscriptions,
} from "../packages/topology/src";
import { bus } from "./bus";
import { kafka } from "./config";
import { eventStreamSubscription, lambdaDefaults } from "./functions";
import { relayFailures } from "./queues";
import { secrets } from "./secrets";
import { eventStore, outboxDeliveries } from "./storage";

/** A comma-separated list from the deploying shell's environment. */
const listFrom = (name: string) =>
  (process.env[name] ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);

/**
 * A private Kafka (MSK in a VPC): the functions that publish to it run in the subnets and security
 * groups given at deploy time (KAFKA_VPC_SUBNETS, KAFKA_VPC_SECURITY_GROUPS); unset, outside any VPC.
 * They then reach DynamoDB, EventBridge and SQS through the VPC's endpoints or NAT.
 */
const kafkaVpc =
  listFrom("KAFKA_VPC_SUBNETS").length > 0
    ? {
        vpc: {
          privateSubnets: listFrom("KAFKA_VPC_SUBNETS"),
          securityGroups: listFrom("KAFKA_VPC_SECURITY_GROUPS"),
        },
      }
    : {};

/** MSK with IAM (KAFKA_SASL_MECHANISM=aws-iam): connect, describe and write the topic on KAFKA_CLUSTER_ARN. */
const kafkaPermissions =
  process.env.KAFKA_SASL_MECHANISM === "aws-iam"
    ? mskIamStatements(
        process.env.KAFKA_CLUSTER_ARN ??
          (() => {
            throw new Error("KAFKA_SASL_MECHANISM=aws-iam needs KAFKA_CLUSTER_ARN, the MSK cluster's ARN");
          })(),
      )
    : [];

/** What the relay, the sweeper and the cleanup share: the event store, the cursors, the sinks. */
export const relayFunction = {
  ...lambdaDefaults,
  ...kafkaVpc,
  permissions: kafkaPermissions,
  memory: "512 MB" as const,
  link: [eventStore, outboxDeliveries, bus, kafka, secrets.KafkaUsername, secrets.KafkaPassword],
  environment: {
    OUTBOX_BATCH_SIZE: String(outboxDefaults.batchSize),
    OUTBOX_MAX_RETRIES: String(outboxDefaults.maxRetries),
    OUTBOX_RETENTION_DAYS: String(outboxRetentionDays($app.stage)),
  },
};

/** The outbox relay: the event table's stream, event items only, to EventBridge and Kafka (SPEC §5). */
export const relay = eventStore.subscribe(
  "OutboxRelay",
  {
    ...relayFunction,
    handler: functionHandlers.outboxRelay,
    timeout: "60 seconds",
  },
  eventStreamSubscription(streamSubscriptions.relay, relayFailures),
);

/** Every minute: the batches the stream gave up on, then the lagging payments (SPEC §5). */
export const sweeper = new sst.aws.Cron(schedules.sweeper.name, {
  schedule: schedules.sweeper.expression,
  function: {
    ...relayFunction,
    handler: functionHandlers.outboxSweeper,
    timeout: "60 seconds",
    concurrency: { reserved: outboxDefaults.scheduledConcurrency },
    link: [...relayFunction.link, relayFailures],
    permissions: [
      ...relayFunction.permissions,
      {
        actions: ["dynamodb:GetShardIterator", "dynamodb:GetRecords"],
        resources: [eventStore.nodes.table.streamArn],
      },
    ],
  },
});

/** Daily: resolved failure records older than OUTBOX_RETENTION_DAYS are deleted (SPEC §5). */
export const cleanup = new sst.aws.Cron(schedules.cleanup.name, {
  schedule: schedules.cleanup.expression,
  function: {
    ...relayFunction,
    handler: functionHandlers.outboxCleanup,
    timeout: "300 seconds",
    concurrency: { reserved: outboxDefaults.scheduledConcurrency },
    link: [outboxDeliveries],
  },
});
