import { alarms, metricsNamespace } from "../packages/topology/src";

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

/** SPEC §8: cleanup failures over 10. */
export const cleanupFailures = new aws.cloudwatch.MetricAlarm(alarms.cleanupFailures.name, {
  ...common,
  alarmDescription: "More than 10 failed outbox cleanup runs in a day",
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
