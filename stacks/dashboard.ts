import { awsAlarms, dashboardWidgets, metricsNamespace, queuesWithDlq } from "../packages/topology/src";
import { queueObjects, watched } from "./alarms";
import { relay } from "./outbox";
import { projector } from "./projector";

/**
 * The CloudWatch dashboard (SPEC §8), generated from packages/topology: the console overview's
 * figures from the functions' own metrics (each a SEARCH over the namespace, so every dimension
 * shows, the currency of PaymentAmount and the class of ReconciliationDrift included), then AWS's
 * own: Lambda errors, throttles and p99 duration per function, the iterator age of both stream
 * subscriptions, and the depth of every DLQ.
 */
const PERIOD = 300;
const WIDTH = 12;
const HEIGHT = 6;

const region = aws.getRegionOutput().name;
const names = $resolve({
  region,
  functions: $resolve(Object.fromEntries(watched.map((f) => [f.key, f.name]))),
  streams: $resolve({
    Projector: projector.nodes.function.apply((f) => f.name),
    OutboxRelay: relay.nodes.function.apply((f) => f.name),
  }),
  dlqs: $resolve(
    Object.fromEntries(queuesWithDlq.map(({ key, dlq }) => [dlq, queueObjects[key]!.dlq.nodes.queue.name])),
  ),
});

type Widget = { title: string; metrics: unknown[]; stat?: string; view?: string };

/** One metric of ours, whatever its dimensions. */
const search = (metric: string, stat: string, i: number) => [
  {
    expression: `SEARCH('Namespace="${metricsNamespace.namespace}" MetricName="${metric}"', '${stat}', ${PERIOD})`,
    id: `m${i}`,
    label: metric,
  },
];

export const dashboard = new aws.cloudwatch.Dashboard("PaymentsDashboard", {
  dashboardName: $interpolate`payments-${$app.stage}`,
  dashboardBody: names.apply(({ region, functions, streams, dlqs }) => {
    const perFunction = (metric: string, stat: string) =>
      Object.values(functions).map((name) => ["AWS/Lambda", metric, "FunctionName", name, { stat }]);
    const widgets: Widget[] = [
      ...dashboardWidgets.map((w) => ({
        title: w.title,
        metrics: w.metrics.map((metric, i) => search(metric, w.stat, i)),
      })),
      { title: "Lambda errors per function", metrics: perFunction(awsAlarms.lambdaErrors.metric, "Sum") },
      { title: "Lambda throttles per function", metrics: perFunction("Throttles", "Sum") },
      { title: "Lambda duration p99 per function, ms", metrics: perFunction("Duration", "p99") },
      {
        title: "Stream subscriptions: iterator age (max), ms",
        metrics: Object.values(streams).map((name) => [
          "AWS/Lambda",
          "IteratorAge",
          "FunctionName",
          name,
          { stat: "Maximum" },
        ]),
      },
      {
        title: "Dead-letter queues: messages waiting",
        metrics: Object.values(dlqs).map((name) => [
          awsAlarms.dlqDepth.namespace,
          awsAlarms.dlqDepth.metric,
          "QueueName",
          name,
          { stat: "Maximum" },
        ]),
      },
    ];
    return JSON.stringify({
      widgets: widgets.map((w, i) => ({
        type: "metric",
        x: (i % 2) * WIDTH,
        y: Math.floor(i / 2) * HEIGHT,
        width: WIDTH,
        height: HEIGHT,
        properties: {
          title: w.title,
          region,
          period: PERIOD,
          view: "timeSeries",
          stacked: false,
          metrics: w.metrics,
        },
      })),
    });
  }),
});
