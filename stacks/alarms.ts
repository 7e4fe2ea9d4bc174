import { alarms, awsAlarms, metricsNamespace, queuesWithDlq } from "../packages/topology/src";
import { apiRoute } from "./api";
import { operationsConsole } from "./console";
import { orderStatus } from "./order-status";
import { cleanup, relay, sweeper } from "./outbox";
import { paymentTasks } from "./payment-tasks";
import { subscribers } from "./processing";
import { projector } from "./projector";
import {
  orderDlq,
  orderDlqFifo,
  orderQueue,
  orderQueueFifo,
  orderStatusDlq,
  orderStatusQueue,
} from "./queues";
import { reconciler } from "./reconciler";

/** Where every alarm goes: subscribe the on-call rota (email, chat, pager) to this topic. */
export const alarmTopic = new sst.aws.SnsTopic("Alarms");

const query = (metricName: string, periodSeconds: number, stat: "Sum") => ({
  namespace: metricsNamespace.namespace,
  metricName,
  period: periodSeconds,
  stat,
  dimensions: { service: metricsNamespace.service },
});

/** One metric as an alarm's own (not a query): MetricAlarmArgs name the statistic `statistic`. */
const single = (metricName: string, periodSeconds: number, statistic: "Sum" | "Maximum") => ({
  namespace: metricsNamespace.namespace,
  metricName,
  period: periodSeconds,
  statistic,
  dimensions: { service: metricsNamespace.service },
});

const common = {
  alarmActions: [alarmTopic.arn],
  okActions: [alarmTopic.arn],
  // No traffic is not a failure.
  treatMissingData: "notBreaching",
};

/** SPEC §8: webhook error rate over 5 %. */
export const webhookErrorRate = new aws.cloudwatch.MetricAlarm(alarms.webhookErrorRate.name, {
  ...common,
  alarmDescription: "Webhook answers of 4xx/5xx over 5 % of those received (5 minutes)",
  comparisonOperator: "GreaterThanThreshold",
  threshold: alarms.webhookErrorRate.thresholdPercent,
  evaluationPeriods: 1,
  metricQueries: [
    {
      id: "errors",
      metric: query(alarms.webhookErrorRate.errors, alarms.webhookErrorRate.periodSeconds, "Sum"),
      returnData: false,
    },
    {
      id: "received",
      metric: query(alarms.webhookErrorRate.received, alarms.webhookErrorRate.periodSeconds, "Sum"),
      returnData: false,
    },
    { id: "rate", expression: "100 * errors / received", label: "Webhook error rate (%)", returnData: true },
  ],
});

/** SPEC §8: the relay failing more than 3 times in a row. */
export const relayFailing = new aws.cloudwatch.MetricAlarm(alarms.relayFailing.name, {
  ...common,
  alarmDescription: "The outbox relay failed a batch in each of 4 consecutive minutes",
  comparisonOperator: "GreaterThanThreshold",
  threshold: 0,
  evaluationPeriods: alarms.relayFailing.consecutiveMinutes,
  datapointsToAlarm: alarms.relayFailing.consecutiveMinutes,
  ...single(alarms.relayFailing.metric, 60, "Sum"),
});

/** SPEC §8: any failed cleanup run (it runs daily). */
export const cleanupFailures = new aws.cloudwatch.MetricAlarm(alarms.cleanupFailures.name, {
  ...common,
  alarmDescription: "An outbox cleanup run failed (it runs daily)",
  comparisonOperator: "GreaterThanThreshold",
  threshold: alarms.cleanupFailures.threshold,
  evaluationPeriods: 1,
  ...single(alarms.cleanupFailures.metric, alarms.cleanupFailures.periodSeconds, "Sum"),
});

/** SPEC §4.3: any verified provider notice that the lifecycle could not apply, in 5 minutes. */
export const providerNoticesUnapplied = new aws.cloudwatch.MetricAlarm(alarms.providerNoticesUnapplied.name, {
  ...common,
  alarmDescription:
    "A verified provider notice could not be applied (paid after cancel, paid twice, a refund beyond the capture, a PaymentIntent or currency that disagrees): see the payment's needs_attention flag",
  comparisonOperator: "GreaterThanThreshold",
  threshold: 0,
  evaluationPeriods: 1,
  ...single(alarms.providerNoticesUnapplied.metric, alarms.providerNoticesUnapplied.periodSeconds, "Sum"),
});

/** SPEC §6.1: any drift between the ledger and a provider, whatever its class, in 5 minutes. */
export const reconciliationDrift = new aws.cloudwatch.MetricAlarm(alarms.reconciliationDrift.name, {
  ...common,
  alarmDescription:
    "Reconciliation found the ledger and a provider disagreeing: see the Needs attention page, or run npm run reconcile",
  comparisonOperator: "GreaterThanThreshold",
  threshold: 0,
  evaluationPeriods: 1,
  metricQueries: [
    ...alarms.reconciliationDrift.classes.map((driftClass, i) => ({
      id: `drift${i}`,
      metric: {
        ...query(alarms.reconciliationDrift.metric, alarms.reconciliationDrift.periodSeconds, "Sum"),
        dimensions: { service: metricsNamespace.service, class: driftClass },
      },
      returnData: false,
    })),
    {
      id: "drift",
      expression: alarms.reconciliationDrift.classes.map((_, i) => `FILL(drift${i}, 0)`).join(" + "),
      label: "Drift found (all classes)",
      returnData: true,
    },
  ],
});

/** SPEC §8: a cold start over 3 s. */
export const coldStart = new aws.cloudwatch.MetricAlarm(alarms.coldStart.name, {
  ...common,
  alarmDescription: "A function's cold start (process start to first invocation) took over 3 s",
  comparisonOperator: "GreaterThanThreshold",
  threshold: alarms.coldStart.thresholdMs,
  evaluationPeriods: 1,
  ...single(alarms.coldStart.metric, alarms.coldStart.periodSeconds, "Maximum"),
});

/** SPEC §8: more than 10 deliveries in the failed state (open failure records), as the sweeper counts them. */
export const openFailures = new aws.cloudwatch.MetricAlarm(alarms.openFailures.name, {
  ...common,
  alarmDescription:
    "More than 10 outbox deliveries are failed and wait for a redrive (npm run outbox -- redrive --failed)",
  comparisonOperator: "GreaterThanThreshold",
  threshold: alarms.openFailures.threshold,
  evaluationPeriods: 1,
  ...single(alarms.openFailures.metric, alarms.openFailures.periodSeconds, "Maximum"),
});

/** SPEC §8: PaymentsFailed over a threshold. */
export const paymentsFailed = new aws.cloudwatch.MetricAlarm(alarms.paymentsFailed.name, {
  ...common,
  alarmDescription: `More than ${alarms.paymentsFailed.threshold} payments failed (declined, rejected or malformed) in 5 minutes`,
  comparisonOperator: "GreaterThanThreshold",
  threshold: alarms.paymentsFailed.threshold,
  evaluationPeriods: 1,
  ...single(alarms.paymentsFailed.metric, alarms.paymentsFailed.periodSeconds, "Sum"),
});

/** Each queue with a DLQ (from topology), with its SST queue and its DLQ's. */
export const queueObjects: Record<string, { queue: sst.aws.Queue; dlq: sst.aws.Queue }> = {
  orders: { queue: orderQueue, dlq: orderDlq },
  ordersFifo: { queue: orderQueueFifo, dlq: orderDlqFifo },
  orderStatus: { queue: orderStatusQueue, dlq: orderStatusDlq },
};

/** SPEC §8: the age of the oldest message and the DLQ's depth, on every queue with a DLQ. */
export const queueAlarms = queuesWithDlq.flatMap(({ key, name, dlq }) => {
  const sqs = queueObjects[key];
  if (!sqs) throw new Error(`stacks/alarms.ts: no SST queue for topology's ${key}`);
  const onQueue = (queue: sst.aws.Queue) => ({ QueueName: queue.nodes.queue.name });
  return [
    new aws.cloudwatch.MetricAlarm(`${name}Age`, {
      ...common,
      alarmDescription: `${name}'s oldest message is over ${awsAlarms.queueAge.thresholdSeconds / 60} minutes old`,
      comparisonOperator: "GreaterThanThreshold",
      threshold: awsAlarms.queueAge.thresholdSeconds,
      evaluationPeriods: 1,
      namespace: awsAlarms.queueAge.namespace,
      metricName: awsAlarms.queueAge.metric,
      period: awsAlarms.queueAge.periodSeconds,
      statistic: "Maximum",
      dimensions: onQueue(sqs.queue),
    }),
    new aws.cloudwatch.MetricAlarm(`${dlq}Depth`, {
      ...common,
      alarmDescription: `${dlq} holds messages: see the console's DLQ page`,
      comparisonOperator: "GreaterThanThreshold",
      threshold: awsAlarms.dlqDepth.threshold,
      evaluationPeriods: 1,
      namespace: awsAlarms.dlqDepth.namespace,
      metricName: awsAlarms.dlqDepth.metric,
      period: awsAlarms.dlqDepth.periodSeconds,
      statistic: "Maximum",
      dimensions: onQueue(sqs.dlq),
    }),
  ];
});

/** Every function of the service, with its timeout in seconds (as the stacks set it). */
export const watched: Array<{ key: string; name: $util.Input<string>; timeoutSeconds: number }> = [
  { key: "Api", name: apiRoute.nodes.function.apply((f) => f.name), timeoutSeconds: 30 },
  { key: "OperationsConsole", name: operationsConsole.name, timeoutSeconds: 30 },
  ...subscribers.map((subscriber, i) => ({
    key: i === 0 ? "ProcessPayment" : "ProcessPaymentFifo",
    name: subscriber.nodes.function.apply((f) => f.name),
    timeoutSeconds: 30,
  })),
  { key: "Projector", name: projector.nodes.function.apply((f) => f.name), timeoutSeconds: 60 },
  { key: "OutboxRelay", name: relay.nodes.function.apply((f) => f.name), timeoutSeconds: 60 },
  { key: "OutboxSweeper", name: sweeper.nodes.function.apply((f) => f.name), timeoutSeconds: 60 },
  { key: "OutboxCleanup", name: cleanup.nodes.function.apply((f) => f.name), timeoutSeconds: 300 },
  { key: "Reconciler", name: reconciler.nodes.function.apply((f) => f.name), timeoutSeconds: 240 },
  { key: "OrderStatus", name: orderStatus.nodes.function.apply((f) => f.name), timeoutSeconds: 30 },
  ...Object.entries(paymentTasks).map(([task, fn]) => ({
    key: `PaymentTask-${task}`,
    name: (fn as sst.aws.Function).name,
    timeoutSeconds: 30,
  })),
];

/** SPEC §8: Lambda errors and duration p99 per function (CloudWatch's own metrics). */
export const functionAlarms = watched.flatMap(({ key, name, timeoutSeconds }) => [
  new aws.cloudwatch.MetricAlarm(`${key}Errors`, {
    ...common,
    alarmDescription: `${key} threw (Lambda Errors) in 5 minutes`,
    comparisonOperator: "GreaterThanThreshold",
    threshold: awsAlarms.lambdaErrors.threshold,
    evaluationPeriods: 1,
    namespace: awsAlarms.lambdaErrors.namespace,
    metricName: awsAlarms.lambdaErrors.metric,
    period: awsAlarms.lambdaErrors.periodSeconds,
    statistic: "Sum",
    dimensions: { FunctionName: name },
  }),
  new aws.cloudwatch.MetricAlarm(`${key}DurationP99`, {
    ...common,
    alarmDescription: `${key}'s p99 duration is over ${awsAlarms.lambdaDurationP99.percentOfTimeout} % of its ${timeoutSeconds} s timeout`,
    comparisonOperator: "GreaterThanThreshold",
    threshold: (timeoutSeconds * 1000 * awsAlarms.lambdaDurationP99.percentOfTimeout) / 100,
    evaluationPeriods: 1,
    namespace: awsAlarms.lambdaDurationP99.namespace,
    metricName: awsAlarms.lambdaDurationP99.metric,
    period: awsAlarms.lambdaDurationP99.periodSeconds,
    extendedStatistic: "p99",
    dimensions: { FunctionName: name },
  }),
]);
