import type { RecordedEvent } from "@payments/core";
import { Kafka, type KafkaConfig, logLevel, type Producer, type SASLOptions } from "kafkajs";
import { envelopeJson, type Publisher, type PublishResult } from "./publisher";

/** How to reach the brokers (SPEC §5: plain, SSL, SASL/SCRAM, and IAM on MSK). */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  readonly ssl?: boolean;
  readonly sasl?:
    | {
        readonly mechanism: "scram-sha-256" | "scram-sha-512" | "plain";
        readonly username: string;
        readonly password: string;
      }
    /** MSK IAM: a token from AWS's own signer (aws-msk-iam-sasl-signer-js) over OAUTHBEARER. */
    | { readonly mechanism: "aws-iam"; readonly region: string };
}

/**
 * Reads the SASL settings of the stage: KAFKA_SASL_MECHANISM (none, plain, scram-sha-256,
 * scram-sha-512, aws-iam) with the KafkaUsername/KafkaPassword secrets.
 * @throws Error naming what is missing or unknown
 */
export function kafkaSasl(
  mechanism: string | undefined,
  credentials: { username?: string; password?: string; region?: string },
): KafkaConnection["sasl"] {
  const m = (mechanism ?? "none").toLowerCase();
  if (m === "none" || m === "") return undefined;
  if (m === "aws-iam") {
    if (!credentials.region) throw new Error("KAFKA_SASL_MECHANISM=aws-iam needs AWS_REGION");
    return { mechanism: "aws-iam", region: credentials.region };
  }
  if (m === "plain" || m === "scram-sha-256" || m === "scram-sha-512") {
    if (!credentials.username || !credentials.password)
      throw new Error(`KAFKA_SASL_MECHANISM=${m} needs the KafkaUsername and KafkaPassword secrets`);
    return { mechanism: m, username: credentials.username, password: credentials.password };
  }
  throw new Error(
    `KAFKA_SASL_MECHANISM=${mechanism}: use none, plain, scram-sha-256, scram-sha-512 or aws-iam`,
  );
}

function saslOptions(sasl: KafkaConnection["sasl"]): SASLOptions | undefined {
  if (!sasl) return undefined;
  if (sasl.mechanism === "aws-iam") {
    const { region } = sasl;
    return {
      mechanism: "oauthbearer",
      oauthBearerProvider: async () => {
        const { generateAuthToken } = await import("aws-msk-iam-sasl-signer-js");
        const { token } = await generateAuthToken({ region });
        return { value: token };
      },
    };
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
}

/** The kafkajs client configuration: short timeouts, bounded retries, kafkajs' own logs off. */
export function kafkaClientConfig(connection: KafkaConnection): KafkaConfig {
  return {
    clientId: connection.clientId ?? "payments-outbox-relay",
    brokers: [...connection.brokers],
    ssl: connection.ssl || connection.sasl?.mechanism === "aws-iam" ? true : undefined,
    sasl: saslOptions(connection.sasl),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  };
}

/**
 * Creates the topic unless it is there (the one-off step on AWS: `npx sst shell -- npm run outbox
 * -- create-topic`). Returns whether it created it. An MSK cluster with IAM needs the caller to
 * have `kafka-cluster:CreateTopic` on it.
 */
export async function ensureTopic(
  connection: KafkaConnection,
  topic: { name: string; partitions: number; replicationFactor: number },
): Promise<boolean> {
  const admin = new Kafka(kafkaClientConfig({ ...connection, clientId: "payments-create-topic" })).admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic.name)) return false;
    return await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topic.name, numPartitions: topic.partitions, replicationFactor: topic.replicationFactor },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

export interface KafkaPublisherOptions {
  readonly connection: KafkaConnection;
  readonly topic: string;
  /** After a failed send, sends fail at once for this long, so the relay moves on (default 5 s). */
  readonly cooldownMs?: number;
}

/**
 * Publishes envelopes to the topic: key = paymentId, headers type/id/schemaVersion, one producer
 * per container, connected on first use. Idempotent with `acks: all` and ONE request in flight:
 * kafkajs' default of unlimited in-flight requests can reorder on retry, and version n+1 of a
 * payment must never land before n. A send is all or nothing for the relay: after a failure the
 * producer is replaced and nothing of that send counts as delivered (what did land is sent again:
 * at least once, first arrivals in order).
 */
export function createKafkaPublisher(options: KafkaPublisherOptions): Publisher {
  const kafka = new Kafka(kafkaClientConfig(options.connection));
  const cooldownMs = options.cooldownMs ?? 5000;
  let producer: Promise<Producer> | undefined;
  let failedUntil = 0;
  let lastFailure = "";

  const connected = () => {
    producer ??= (async () => {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
      });
      await p.connect();
      return p;
    })();
    return producer;
  };
  const discard = async () => {
    const old = producer;
    producer = undefined;
    await old?.then((p) => p.disconnect()).catch(() => undefined);
  };

  return {
    sink: "kafka",
    async ready() {},
    async publish(events): Promise<PublishResult> {
      if (events.length === 0) return { delivered: new Set(), calls: 0 };
      if (Date.now() < failedUntil) {
        return {
          delivered: new Set(),
          calls: 0,
          error: `not tried: the broker failed recently (${lastFailure})`,
        };
      }
      try {
        const p = await connected();
        await p.send({
          topic: options.topic,
          acks: -1,
          messages: events.map((event: RecordedEvent) => ({
            key: event.paymentId,
            value: envelopeJson(event),
            headers: {
              type: event.type,
              id: event.id,
              schemaVersion: String(event.schemaVersion),
              // W3C Trace Context on the record (SPEC §5), for consumers to continue the trace.
              ...(event.metadata.traceparent ? { traceparent: event.metadata.traceparent } : {}),
            },
          })),
        });
        return { delivered: new Set(events.map((e) => e.id)), calls: 1 };
      } catch (error) {
        lastFailure = `${(error as Error).name}: ${(error as Error).message}`;
        failedUntil = Date.now() + cooldownMs;
        await discard();
        return { delivered: new Set(), calls: 1, error: lastFailure };
      }
    },
    async close() {
      await discard();
    },
  };
}
