/**
 * The system's resources as plain data: read by stacks/ (SST on AWS), packages/local (the offline
 * stack) and the adapters, so that local and AWS cannot drift. No SST or SDK imports here.
 */

export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey: string;
  /** What the index copies besides the keys: everything (the default), nothing, or these attributes. */
  readonly projection?: "all" | "keys-only" | readonly string[];
}

export interface TableDefinition {
  /** Logical name: the SST component name and the `SST_RESOURCE_<Name>` link. */
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** The attribute DynamoDB's time to live reads (epoch seconds). */
  readonly ttlAttribute?: string;
  readonly stream?: "NEW_AND_OLD_IMAGES" | "NEW_IMAGE";
  readonly indexes: Readonly<Record<string, KeySchema>>;
}

export const eventStoreTable = {
  name: "EventStore",
  partitionKey: "pk",
  sortKey: "sk",
  stream: "NEW_AND_OLD_IMAGES",
  indexes: {},
} as const satisfies TableDefinition;

export const readModelTable = {
  name: "ReadModels",
  partitionKey: "pk",
  sortKey: "sk",
  /**
   * What expires: the metrics read model's buckets ({@link metricsRetentionDays}), the customers'
   * activity buckets (two days) and their counted-once markers (15 days). Not a customer's lifetime
   * item, which never expires, nor the `expiresAt` that activity items written before 2026-12-06
   * carry (their lifetime count had it too).
   */
  ttlAttribute: "timeToLive",
  indexes: {
    byOrder: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    byCustomer: { partitionKey: "gsi2pk", sortKey: "gsi2sk" },
    /**
     * Open payments (SPEC §6.1), sparse: only a payment still `initiated` or with a refund held back
     * has these keys, so the reconciler reads what may be stuck, never the whole table. The sort key
     * is when it may next be looked at (`<ISO time>#<paymentId>`), spread over
     * {@link openPaymentShards} partitions.
     */
    byOpen: {
      partitionKey: "gsi3pk",
      sortKey: "gsi3sk",
      projection: ["version", "reconcileAttempts"],
    },
    /**
     * Payments by provider and day of creation, for `npm run reconcile` over a window and the
     * console's newest payments. Keys only. A day's key is spread over {@link createdPaymentShards}
     * partitions (`created#<provider>#<day>#<shard>`): one partition takes ~1,000 writes a second,
     * and a peak puts every payment of the day under one provider.
     */
    byCreated: { partitionKey: "gsi4pk", sortKey: "gsi4sk", projection: "keys-only" },
    /**
     * Payments a person must look at (SPEC §6.1), sparse: flagged `needs_attention`, `unmatched` or
     * `amount_mismatch`, or `underpaid`; newest first, for the console's Needs attention page.
     */
    byAttention: { partitionKey: "gsi5pk", sortKey: "gsi5sk", projection: "keys-only" },
  },
} as const satisfies TableDefinition;

/** How many partitions a provider's day spreads over in the by-creation index (each is queried). */
export const createdPaymentShards = 16;

/**
 * The metrics read model (the console's overview): figures per minute and per hour, each interval
 * spread over this many items so that concurrent projector transactions seldom meet on one.
 */
export const metricShards = 4;

/** How long the metrics read model keeps a minute's and an hour's figures (DynamoDB's TTL removes them). */
export const metricsRetentionDays = 35;

/** How many partitions the open-payments index spreads over (each is queried on every run). */
export const openPaymentShards = 4;

/**
 * The CloudCafe transaction log (SPEC §3): one item per payment in that system's shape, built from
 * the events by the projector and by replay.
 */
export const transactionLogTable = {
  name: "TransactionLog",
  partitionKey: "transaction_id",
  indexes: {},
} as const satisfies TableDefinition;

/**
 * Idempotency-Key records of the REST API (SPEC §2), kept 24 h: Powertools' idempotency utility
 * writes them (its default attribute names).
 */
export const idempotencyTable = {
  name: "IdempotencyKeys",
  partitionKey: "id",
  ttlAttribute: "expiration",
  indexes: {},
} as const satisfies TableDefinition;

/** How long an Idempotency-Key is remembered (SPEC §2). */
export const IDEMPOTENCY_KEY_SECONDS = 24 * 3600;

/**
 * The outbox relay's delivery state (SPEC §5): per payment and sink, a cursor item (`cursor#<sink>`:
 * every version up to `delivered` is delivered) and, when a delivery is given up on, a failure item
 * (`failure#<sink>#<at>`). The sparse `byState` index lists what is lagging, failed or resolved.
 */
export const outboxTable = {
  name: "OutboxDeliveries",
  partitionKey: "pk",
  sortKey: "sk",
  indexes: { byState: { partitionKey: "gsi1pk", sortKey: "gsi1sk" } },
} as const satisfies TableDefinition;

/**
 * The order service's table (SPEC §5): `order-status` writes each payment's outcome on the item of
 * its order. It belongs to the order service on AWS (its name comes from config); the dev stack
 * creates one.
 */
export const ordersTable = {
  name: "Orders",
  partitionKey: "order_id",
  indexes: {},
} as const satisfies TableDefinition;

/** ElectroDB's service name and entity names, also used by stream filter patterns. */
export const electro = {
  service: "payments",
  entities: { event: "event", unique: "unique" },
  /** The attribute ElectroDB writes with the entity name. */
  entityAttribute: "__edb_e__",
} as const;

export interface QueueDefinition {
  readonly name: string;
  readonly fifo: boolean;
  /** FIFO only: dedupe by a hash of the body, so senders need no MessageDeduplicationId. */
  readonly contentBasedDeduplication?: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly deadLetter?: { readonly queue: string; readonly maxReceiveCount: number };
}

export const queues = {
  orders: {
    name: "OrderQueue",
    fifo: false,
    visibilityTimeoutSeconds: 180,
    deadLetter: { queue: "OrderDlq", maxReceiveCount: 3 },
  },
  ordersDlq: { name: "OrderDlq", fifo: false, visibilityTimeoutSeconds: 30 },
  ordersFifo: {
    name: "OrderQueueFifo",
    fifo: true,
    contentBasedDeduplication: true,
    visibilityTimeoutSeconds: 180,
    deadLetter: { queue: "OrderDlqFifo", maxReceiveCount: 3 },
  },
  ordersFifoDlq: {
    name: "OrderDlqFifo",
    fifo: true,
    contentBasedDeduplication: true,
    visibilityTimeoutSeconds: 30,
  },
  downstream: { name: "DownstreamQueue", fifo: false, visibilityTimeoutSeconds: 30 },
  /** Where EventBridge delivers the events whose outcome `order-status` writes back (SPEC §5). */
  orderStatus: {
    name: "OrderStatusQueue",
    fifo: false,
    visibilityTimeoutSeconds: 60,
    deadLetter: { queue: "OrderStatusDlq", maxReceiveCount: 3 },
  },
  orderStatusDlq: { name: "OrderStatusDlq", fifo: false, visibilityTimeoutSeconds: 30 },
  /** The relay subscription's on-failure destination: the sweeper reads it and marks those payments lagging. */
  relayFailures: { name: "RelayFailures", fifo: false, visibilityTimeoutSeconds: 60 },
  /** The projector subscription's on-failure destination: the records it gave up on (SPEC §8). */
  projectorFailures: { name: "ProjectorFailures", fifo: false, visibilityTimeoutSeconds: 30 },
} as const satisfies Record<string, QueueDefinition>;

/**
 * How the order queue is subscribed (SPEC §4.1, §8). Seed 000 capped Stripe load at 10 concurrent
 * charges: process-payment's reserved concurrency (per function: the standard and the FIFO queue's)
 * and the event source's maximum concurrency (SQS's own cap, at least 2) say the same here.
 * PROCESS_PAYMENT_CONCURRENCY at deploy time overrides both.
 */
export const orderSubscription = {
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  partialBatchResponse: true,
  reservedConcurrency: 10,
  maximumConcurrency: 10,
} as const;

export const eventBus = {
  name: "PaymentsBus",
  source: "payments",
  rules: {
    capturedToDownstream: {
      name: "PaymentCapturedToDownstream",
      pattern: { source: ["payments"], "detail-type": ["PaymentCaptured"] },
      targetQueue: "downstream",
    },
    orderStatus: {
      name: "PaymentOutcomeToOrderStatus",
      pattern: {
        source: ["payments"],
        "detail-type": [
          "PaymentAuthorized",
          "PaymentCaptured",
          "PaymentFailed",
          "PaymentRejected",
          "PaymentCanceled",
          "PaymentRefunded",
        ],
      },
      targetQueue: "orderStatus",
    },
  },
} as const;

/** How order-status is subscribed to its queue (SPEC §5). */
export const orderStatusSubscription = { batchSize: 10, partialBatchResponse: true } as const;

export const kafkaTopic = { name: "payments.events", partitions: 3, replicationFactor: 3 } as const;

/**
 * What the functions that publish to Kafka may do on an MSK cluster that authenticates with IAM
 * (SPEC §8; AWS's MSK IAM access control): connect to the cluster (and write idempotently, as the
 * relay's producer does), describe the topic and write to it, and nothing else. The topic's ARN is
 * the cluster's with `topic/<cluster name>/<cluster uuid>/<topic>`.
 */
export function mskIamStatements(
  clusterArn: string,
  topic: string = kafkaTopic.name,
): Array<{ actions: string[]; resources: string[] }> {
  const cluster = /^arn:(aws[\w-]*):kafka:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)\/([^/]+)$/.exec(clusterArn);
  if (!cluster) throw new Error(`KAFKA_CLUSTER_ARN is not an MSK cluster's ARN: ${clusterArn}`);
  const [, partition, region, account, name, uuid] = cluster;
  return [
    { actions: ["kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"], resources: [clusterArn] },
    {
      actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
      resources: [`arn:${partition}:kafka:${region}:${account}:topic/${name}/${uuid}/${topic}`],
    },
  ];
}

/** The physical name of a resource in a stage: `payments-<stage>-<Name>` (FIFO queues end in .fifo). */
export function physicalName(stage: string, logicalName: string, { fifo = false } = {}): string {
  return `payments-${stage}-${logicalName}${fifo ? ".fifo" : ""}`;
}

/** Secrets: the SST secret name and the environment variable the local stack reads. */
export const secrets = {
  StripeSecretKey: { env: "STRIPE_SECRET_KEY" },
  StripeWebhookSecret: { env: "STRIPE_WEBHOOK_SECRET" },
  /** Signs our requests to ZaloPay (query, refund). */
  ZaloPayKey1: { env: "ZALOPAY_KEY1" },
  /** Checks ZaloPay's callbacks. */
  ZaloPayKey2: { env: "ZALOPAY_KEY2" },
  PayOSClientId: { env: "PAYOS_CLIENT_ID" },
  PayOSApiKey: { env: "PAYOS_API_KEY" },
  PayOSChecksumKey: { env: "PAYOS_CHECKSUM_KEY" },
  JwtSecret: { env: "JWT_SECRET" },
  KafkaUsername: { env: "KAFKA_USERNAME" },
  KafkaPassword: { env: "KAFKA_PASSWORD" },
} as const;

/** The REST API's throttling at API Gateway (requests per second, and the burst above it). */
export const apiThrottling = { rateLimit: 200, burstLimit: 400 } as const;

/**
 * Where existing state machines find the Step Functions tasks (SPEC §8): an SSM parameter per task
 * holding its function ARN.
 */
export const stepFunctionTasks = ["collect", "refund"] as const;
export const taskParameterName = (stage: string, task: (typeof stepFunctionTasks)[number]) =>
  `/${stage}/service/payment/function/${task}`;

/**
 * The stream subscriptions on the event table (SPEC §8): event items only (not uniqueness rows),
 * partial batch responses, bisect on error, bounded retries, then the on-failure destination.
 */
export const eventItemFilter = {
  dynamodb: { NewImage: { [electro.entityAttribute]: { S: [electro.entities.event] } } },
} as const;
export const streamSubscriptions = {
  projector: { batchSize: 100, maxRetries: 3, bisectOnError: true },
  relay: { batchSize: 100, maxRetries: 3, bisectOnError: true },
} as const;

/** The outbox's knobs (SPEC §5), read from the environment by the relay's functions. */
export const outboxDefaults = {
  /** Lagging payments a sweep takes at a time (OUTBOX_BATCH_SIZE). */
  batchSize: 50,
  /** Sweeps of a lagging payment before its delivery is marked failed (OUTBOX_MAX_RETRIES). */
  maxRetries: 3,
  /** Days a resolved failure record is kept (OUTBOX_RETENTION_DAYS): 7 in dev, 30 in prod (SPEC §5). */
  retentionDays: 7,
  retentionDaysByStage: { dev: 7, prod: 30 } as Readonly<Record<string, number>>,
  /** The sweeper and the cleanup run one at a time (reserved concurrency 1, SPEC §8). */
  scheduledConcurrency: 1,
} as const;

/** OUTBOX_RETENTION_DAYS of a stage: 30 in prod, 7 elsewhere (dev and personal stages). */
export const outboxRetentionDays = (stage: string): number =>
  outboxDefaults.retentionDaysByStage[stage] ?? outboxDefaults.retentionDays;

/** The sinks the relay delivers to. */
export const outboxSinks = ["eventbridge", "kafka"] as const;
export type OutboxSink = (typeof outboxSinks)[number];

/**
 * The public events (SPEC §5): the ones downstream services subscribe to, and the only ones the bus
 * carries (at most 3 entries for an ordinary payment: initiated, authorized, captured). Internal
 * steps (PaymentScreened, PaymentIntentCreated, PaymentRefundRequested, PaymentFlagged,
 * PaymentAttentionResolved, PaymentDriftFound) go to Kafka only; Kafka carries every event.
 */
export const busEventTypes = [
  "PaymentInitiated",
  "PaymentAuthorized",
  "PaymentCaptured",
  "PaymentRefunded",
  "PaymentRefundFailed",
  "PaymentCanceled",
  "PaymentFailed",
  "PaymentRejected",
  "ProviderNoticeUnapplied",
] as const;
export type BusEventType = (typeof busEventTypes)[number];

/** Whether a sink carries an event type: the bus the public ones, Kafka every one. */
export function sinkCarries(sink: OutboxSink, type: string): boolean {
  return sink === "kafka" || (busEventTypes as readonly string[]).includes(type);
}

/** The relay's scheduled jobs (SPEC §5). */
export const schedules = {
  sweeper: { name: "OutboxSweeper", expression: "rate(1 minute)" },
  cleanup: { name: "OutboxCleanup", expression: "rate(1 day)" },
  /** Settles what is stuck (SPEC §6.1); `npm run dev` runs it every 15 s. */
  reconciler: { name: "Reconciler", expression: "rate(5 minutes)" },
} as const;

/** The reconciler's settings (SPEC §6.1): how long a payment may stay open, and how much one run takes on. */
export const reconcilerDefaults = {
  /** RECONCILE_AFTER: a payment open longer than this is asked about at its provider. */
  afterSeconds: 600,
  /** RECONCILE_AFTER under `npm run dev`. */
  devAfterSeconds: 30,
  /** The most payments one run examines; the rest wait for the next run. */
  maxPerRun: 200,
  /** Payments examined at once. */
  concurrency: 8,
  /** A payment the provider still has in progress is looked at again after a growing pause, up to this. */
  maxBackoffSeconds: 86_400,
} as const;

/** Where the functions' metrics go: Powertools' namespace, and its `service` dimension. */
export const metricsNamespace = { namespace: "Payments", service: "payments" } as const;

/**
 * The alarms of SPEC §8, on the functions' own metrics (namespace {@link metricsNamespace}). Each
 * sends to the `Alarms` SNS topic.
 */
export const alarms = {
  /** Webhook answers of 4xx/5xx over all webhooks received, in percent, over 5 minutes. */
  webhookErrorRate: {
    name: "WebhookErrorRate",
    errors: "WebhookErrors",
    received: "WebhooksReceived",
    thresholdPercent: 5,
    periodSeconds: 300,
  },
  /** The relay failing more than 3 times in a row: a failed batch in each of 4 consecutive minutes. */
  relayFailing: { name: "OutboxRelayFailing", metric: "OutboxRelayErrors", consecutiveMinutes: 4 },
  /** Any failed cleanup run in a day (the cleanup runs daily, SPEC §8). */
  cleanupFailures: {
    name: "OutboxCleanupFailures",
    metric: "OutboxCleanupErrors",
    threshold: 0,
    periodSeconds: 86_400,
  },
  /** More than 10 deliveries in the failed state (open failure records), as the sweeper counts them. */
  openFailures: {
    name: "OutboxOpenFailures",
    metric: "OutboxOpenFailures",
    threshold: 10,
    periodSeconds: 300,
  },
  /** Payments failed (declined, rejected, malformed) over a threshold in 5 minutes. */
  paymentsFailed: { name: "PaymentsFailed", metric: "PaymentsFailed", threshold: 50, periodSeconds: 300 },
  /** Any verified provider notice recorded as unapplied within 5 minutes (SPEC §4.3): a person must look. */
  providerNoticesUnapplied: {
    name: "ProviderNoticesUnapplied",
    metric: "ProviderNoticesUnapplied",
    periodSeconds: 300,
  },
  /** Any drift between the ledger and a provider found by reconciliation (SPEC §6.1), by class. */
  reconciliationDrift: {
    name: "ReconciliationDrift",
    metric: "ReconciliationDrift",
    periodSeconds: 300,
    /** The metric's `class` dimension: SPEC §6.1's drift classes (events' DriftClass, checked by a test). */
    classes: [
      "missing_in_ledger",
      "amount_differs",
      "status_differs",
      "missing_at_provider",
      "unapplied_notice",
    ],
  },
  /** A cold start (process start to first invocation) over 3 s, any function, within 5 minutes. */
  coldStart: { name: "ColdStartOver3s", metric: "ColdStartDuration", thresholdMs: 3000, periodSeconds: 300 },
} as const;

/**
 * The alarms on AWS's own metrics (SPEC §8), per queue with a DLQ and per function: the age of a
 * queue's oldest message, any message in its DLQ, any Lambda error, and a Lambda's p99 duration
 * near its timeout.
 */
export const awsAlarms = {
  queueAge: {
    namespace: "AWS/SQS",
    metric: "ApproximateAgeOfOldestMessage",
    thresholdSeconds: 900,
    periodSeconds: 300,
  },
  dlqDepth: {
    namespace: "AWS/SQS",
    metric: "ApproximateNumberOfMessagesVisible",
    threshold: 0,
    periodSeconds: 300,
  },
  lambdaErrors: { namespace: "AWS/Lambda", metric: "Errors", threshold: 0, periodSeconds: 300 },
  lambdaDurationP99: {
    namespace: "AWS/Lambda",
    metric: "Duration",
    percentOfTimeout: 80,
    periodSeconds: 300,
  },
} as const;

/**
 * The CloudWatch dashboard of stacks/dashboard.ts (SPEC §8): the console overview's figures from the
 * functions' own metrics (namespace {@link metricsNamespace}, any dimensions), one graph per row
 * here; stacks/dashboard.ts adds AWS's own (Lambda errors, throttles, p99 duration, the stream
 * subscriptions' iterator age, the DLQs' depth). Every metric the code emits is on it (a contract
 * test checks it from the source).
 */
export const dashboardWidgets = [
  {
    title: "Payments by outcome (per 5 minutes)",
    metrics: [
      "PaymentsProcessed",
      "PaymentsFailed",
      "SuccessfulPayment",
      "FailedPayment",
      "InvalidPaymentRequest",
    ],
    stat: "Sum",
  },
  { title: "Captured volume, minor units per currency", metrics: ["PaymentAmount"], stat: "Sum" },
  {
    title: "Webhooks: received, answered 4xx/5xx, notices not applied",
    metrics: ["WebhooksReceived", "WebhookErrors", "ProviderNoticesUnapplied"],
    stat: "Sum",
  },
  {
    title: "Delivery: published per sink, lagging, swept, failed",
    metrics: [
      "OutboxPublished_eventbridge",
      "OutboxPublished_kafka",
      "OutboxPaymentsLagging",
      "OutboxPaymentsSwept",
      "OutboxDeliveriesFailed",
      "OutboxRelayErrors",
    ],
    stat: "Sum",
  },
  {
    title: "Delivery: open failure records, cleanup",
    metrics: ["OutboxOpenFailures", "OutboxCleanupErrors", "OutboxFailuresDeleted"],
    stat: "Maximum",
  },
  {
    title: "Reconciliation: drift by class, settled, provider errors",
    metrics: ["ReconciliationDrift", "ReconcilerPaymentsSettled", "ReconcilerProviderErrors"],
    stat: "Sum",
  },
  {
    title: "order-status: orders the order service does not have",
    metrics: ["OrderStatusOrderMissing"],
    stat: "Sum",
  },
  { title: "Cold starts (count)", metrics: ["ColdStart"], stat: "Sum" },
  { title: "Cold start duration, ms (p99)", metrics: ["ColdStartDuration"], stat: "p99" },
] as const;

/**
 * The emitted metrics no alarm reads, each with the reason (SPEC §8); every other emitted metric
 * has an alarm in {@link alarms}. A contract test checks that the two lists cover every metric.
 */
export const metricsNotAlarmed: Readonly<Record<string, string>> = {
  PaymentsProcessed: "throughput: a quiet night is not an incident; failures have PaymentsFailed",
  SuccessfulPayment: "the API's successes: throughput, not a failure",
  FailedPayment: "the API's failed payments are counted in PaymentsFailed too, which has the alarm",
  InvalidPaymentRequest: "a caller's malformed request is answered 400 and is the caller's to fix",
  PaymentAmount: "volume per currency, for the dashboard and the overview",
  OutboxPublished_eventbridge:
    "throughput per sink; lag is alarmed through OutboxOpenFailures and the relay's errors",
  OutboxPublished_kafka:
    "throughput per sink; lag is alarmed through OutboxOpenFailures and the relay's errors",
  OutboxPaymentsLagging:
    "transient: a lagging payment is swept within a minute; after 3 sweeps it is an open failure (alarmed)",
  OutboxPaymentsSwept: "the sweeper's work, for the dashboard",
  OutboxDeliveriesFailed: "each becomes an open failure record, which OutboxOpenFailures alarms on",
  OutboxFailuresDeleted: "the daily cleanup's housekeeping; its failures have OutboxCleanupFailures",
  ReconcilerPaymentsSettled: "the reconciler's work; what it finds as drift has ReconciliationDrift",
  ReconcilerProviderErrors:
    "a provider that does not answer is asked again each run; what stays open is listed on Needs attention",
  OrderStatusOrderMissing:
    "expected while the order service moves over (orders it does not have); watched on the dashboard",
  ColdStart: "a count; the duration has ColdStartOver3s",
};

/** The queues that have a DLQ: each gets the queue-age and DLQ-depth alarms. */
export const queuesWithDlq = Object.entries(queues).flatMap(([key, queue]) =>
  "deadLetter" in queue && queue.deadLetter ? [{ key, name: queue.name, dlq: queue.deadLetter.queue }] : [],
);

/**
 * Every Lambda's entry, as SST's `handler` (`file.export`): read by stacks/ and by the cold-start
 * bench, which bundles each the way SST does.
 */
export const functionHandlers = {
  api: "packages/functions/src/api/handler.handler",
  console: "packages/functions/src/console/handler.handler",
  processPayment: "packages/functions/src/process-payment/handler.handler",
  projector: "packages/functions/src/projector/handler.handler",
  outboxRelay: "packages/functions/src/outbox-relay/handler.handler",
  outboxSweeper: "packages/functions/src/outbox-relay/sweeper.handler",
  outboxCleanup: "packages/functions/src/outbox-relay/cleanup.handler",
  orderStatus: "packages/functions/src/order-status/handler.handler",
  collectTask: "packages/functions/src/payment-tasks/handler.collect",
  refundTask: "packages/functions/src/payment-tasks/handler.refund",
  reconciler: "packages/functions/src/reconciler/handler.handler",
} as const;

export * from "./runtime";
