import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  eventStoreTable,
  idempotencyTable,
  kafkaTopic,
  ordersTable,
  outboxTable,
  physicalName,
  queues,
  readModelTable,
  transactionLogTable,
} from "@payments/topology";
import { freePort, type RunningService } from "./process";
import { ensureTable } from "./resources/dynamodb-tables";
import { type BusHandle, ensureEventBus } from "./resources/event-bus";
import { ensureKafkaTopic } from "./resources/kafka-topic";
import { ensureSecrets, type SecretName, secretValues } from "./resources/secrets";
import { ensureQueues, type QueueHandle } from "./resources/sqs-queues";
import { startDynamoDbLocal } from "./services/dynamodb-local";
import { startKafka } from "./services/kafka";
import { startMoto } from "./services/moto";
import { startStripeMock } from "./services/stripe-mock";

export const LOCAL_REGION = "us-east-1";
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

export interface PlatformPorts {
  readonly dynamodb?: number;
  readonly moto?: number;
  readonly kafka?: number;
  readonly stripeMock?: number;
}

export interface LocalPlatform {
  readonly dynamoEndpoint: string;
  /** moto: SQS, EventBridge, Secrets Manager, SSM. */
  readonly awsEndpoint: string;
  readonly kafkaBrokers: string[];
  readonly stripeMockUrl: string;
  /** Seconds each server took to become healthy, started side by side. */
  readonly startupSeconds: Record<string, number>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  /** Fixed ports (the dev stack); any free port for what is not given (tests). */
  readonly ports?: PlatformPorts;
  /** Keep DynamoDB and Kafka data here; in memory / a temporary folder when not given. */
  readonly dataDir?: string;
  readonly logDir: string;
}

/**
 * Starts the four local servers side by side, each installed on first use and cached. If one
 * fails, the others are stopped and the error says which and why.
 */
export async function startLocalPlatform(options: PlatformOptions): Promise<LocalPlatform> {
  const ports = {
    dynamodb: options.ports?.dynamodb ?? (await freePort()),
    moto: options.ports?.moto ?? (await freePort()),
    kafka: options.ports?.kafka ?? (await freePort()),
    stripeMock: options.ports?.stripeMock ?? (await freePort()),
  };
  const startupSeconds: Record<string, number> = {};
  const timed = async <T>(name: string, start: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const service = await start();
    startupSeconds[name] = (Date.now() - t0) / 1000;
    return service;
  };
  const kafkaData = options.dataDir ? join(options.dataDir, "kafka") : join(options.logDir, "kafka-data");
  const dynamoData = options.dataDir ? join(options.dataDir, "dynamodb") : undefined;
  if (dynamoData) mkdirSync(dynamoData, { recursive: true });
  const started = await Promise.allSettled([
    timed("dynamodb", () =>
      startDynamoDbLocal({ port: ports.dynamodb, dbPath: dynamoData, logDir: options.logDir }),
    ),
    timed("moto", () => startMoto({ port: ports.moto, logDir: options.logDir })),
    timed("kafka", () => startKafka({ port: ports.kafka, dataDir: kafkaData, logDir: options.logDir })),
    timed("stripeMock", () => startStripeMock({ port: ports.stripeMock, logDir: options.logDir })),
  ]);
  const running = started.flatMap((r) => (r.status === "fulfilled" ? [r.value as RunningService] : []));
  const stop = async () => {
    await Promise.all(running.map((s) => s.stop()));
  };
  const failures = started.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
  if (failures.length > 0) {
    await stop();
    throw new Error(
      `the local platform could not start:\n${failures.map((e) => `- ${e.message}`).join("\n")}`,
    );
  }
  const [dynamo, moto, kafka, stripe] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    { endpoint: string },
    { endpoint: string },
    { brokers: string[] },
    { url: string },
  ];
  return {
    dynamoEndpoint: dynamo.endpoint,
    awsEndpoint: moto.endpoint,
    kafkaBrokers: kafka.brokers,
    stripeMockUrl: stripe.url,
    startupSeconds,
    stop,
  };
}

/** Every resource of the stack as created on the local servers. */
export interface LocalStack {
  readonly stage: string;
  readonly region: string;
  readonly dynamoEndpoint: string;
  readonly awsEndpoint: string;
  readonly stripeMockUrl: string;
  readonly tables: {
    readonly events: string;
    readonly readModels: string;
    readonly transactionLog: string;
    readonly idempotency: string;
    readonly outbox: string;
    /** The order service's table (its own on AWS); order-status writes payment outcomes on it. */
    readonly orders: string;
  };
  readonly queues: Record<keyof typeof queues, QueueHandle>;
  readonly bus: BusHandle;
  readonly kafka: { readonly brokers: string[]; readonly topic: string };
  readonly secrets: Record<SecretName, { name: string; arn: string }>;
  readonly secretValues: Record<SecretName, string>;
}

export interface ProvisionOptions {
  readonly stage: string;
  /** Local runs may shorten the visibility timeout so retries take seconds; semantics stay. */
  readonly visibilityTimeoutSeconds?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Clients for the local servers, built the way handler code builds them (endpoint by env var). */
export function localClients(platform: Pick<LocalPlatform, "dynamoEndpoint" | "awsEndpoint">) {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: platform.dynamoEndpoint }),
    sqs: new SQSClient({ ...common, endpoint: platform.awsEndpoint }),
    eventBridge: new EventBridgeClient({ ...common, endpoint: platform.awsEndpoint }),
    secrets: new SecretsManagerClient({ ...common, endpoint: platform.awsEndpoint }),
  };
}

/**
 * Creates every resource of the topology on the local servers, idempotently: the tables, the
 * queues and their DLQs, the bus and its rules, the Kafka topic and the secrets.
 */
export async function provisionLocalStack(
  platform: LocalPlatform,
  options: ProvisionOptions,
): Promise<LocalStack> {
  const clients = localClients(platform);
  try {
    const tables = {
      events: physicalName(options.stage, eventStoreTable.name),
      readModels: physicalName(options.stage, readModelTable.name),
      transactionLog: physicalName(options.stage, transactionLogTable.name),
      idempotency: physicalName(options.stage, idempotencyTable.name),
      outbox: physicalName(options.stage, outboxTable.name),
      orders: physicalName(options.stage, ordersTable.name),
    };
    await ensureTable(clients.dynamodb, eventStoreTable, tables.events);
    await ensureTable(clients.dynamodb, readModelTable, tables.readModels);
    await ensureTable(clients.dynamodb, transactionLogTable, tables.transactionLog);
    await ensureTable(clients.dynamodb, idempotencyTable, tables.idempotency);
    await ensureTable(clients.dynamodb, outboxTable, tables.outbox);
    await ensureTable(clients.dynamodb, ordersTable, tables.orders);
    const createdQueues = await ensureQueues(clients.sqs, queues, options);
    const bus = await ensureEventBus(clients.eventBridge, options.stage, createdQueues);
    await ensureKafkaTopic(platform.kafkaBrokers, kafkaTopic.name, kafkaTopic.partitions);
    const values = secretValues(options.env);
    const secrets = await ensureSecrets(clients.secrets, options.stage, values);
    return {
      stage: options.stage,
      region: LOCAL_REGION,
      dynamoEndpoint: platform.dynamoEndpoint,
      awsEndpoint: platform.awsEndpoint,
      stripeMockUrl: platform.stripeMockUrl,
      tables,
      queues: createdQueues,
      bus,
      kafka: { brokers: platform.kafkaBrokers, topic: kafkaTopic.name },
      secrets,
      secretValues: values,
    };
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}
