/**
 * `npm run reconcile -- [--provider stripe|zalopay|payos|all] [--since ISO] [--until ISO] [--repair]
 * [--json] [--stack .dev/stack.json]` (SPEC §6.1): compares the providers' records of the window
 * (default: the last 24 hours) with the ledger and prints each drift and the totals per currency;
 * with --repair, appends each drift's correction through the decider (`metadata.repair`). Exit 0
 * with no drift left, 1 with drift left over, 2 for a usage error. It finds the local stack through
 * .dev/stack.json, and AWS through the links of `npx sst shell`. Each run keeps its summary for the
 * console's Needs attention page and puts `ReconciliationDrift` by class to CloudWatch.
 */
import "../shared/lambda-node";
import { parseArgs } from "node:util";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { ReconciliationSummary } from "@payments/adapters/dynamodb";
import type { Provider } from "@payments/events";
import { alarms, metricsNamespace } from "@payments/topology";
import { SingleBar } from "cli-progress";
import { monotonicFactory } from "ulid";
import { linkTarget } from "../shared/target";

const PROVIDERS: readonly Provider[] = ["stripe", "zalopay", "payos"];

const { values } = parseArgs({
  options: {
    provider: { type: "string", default: "all" },
    since: { type: "string" },
    until: { type: "string" },
    repair: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    by: { type: "string", default: process.env.USER ? `cli:${process.env.USER}` : "cli" },
    stack: { type: "string", default: ".dev/stack.json" },
  },
});

function fail(message: string): never {
  console.error(`reconcile: ${message}`);
  process.exit(2);
}

function instant(name: string, value: string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) fail(`--${name} must be an ISO 8601 instant, not ${value}`);
  return new Date(parsed);
}

async function main() {
  const providers = values.provider === "all" ? PROVIDERS : PROVIDERS.filter((p) => p === values.provider);
  if (providers.length === 0) fail(`--provider takes stripe, zalopay, payos or all, not ${values.provider}`);
  const until = instant("until", values.until, new Date());
  const since = instant("since", values.since, new Date(until.getTime() - 86_400_000));
  if (since >= until) fail("--since must be before --until");

  const { where } = linkTarget(values.stack!);
  const say = values.json ? () => {} : (line: string) => console.log(line);
  say(`reconcile: ${where}`);
  say(`reconcile: ${providers.join(", ")} from ${since.toISOString()} to ${until.toISOString()}`);

  const { createReconcileWiring } = await import("@payments/functions/reconciler/wiring");
  const { drift, readModels } = createReconcileWiring();
  const bar =
    process.stdout.isTTY && !values.json
      ? new SingleBar({ format: "reconcile [{bar}] {value}/{total} providers | {provider}" })
      : undefined;
  bar?.start(providers.length, 0, { provider: providers[0] });
  let done = 0;
  const report = await drift().find({
    since,
    until,
    providers,
    onProgress: (provider, finished) => {
      if (finished) done += 1;
      bar?.update(done, { provider });
    },
  });
  bar?.stop();

  const runId = monotonicFactory()();
  const repairs = values.repair
    ? await Promise.all(report.drifts.map((d) => drift().repair(d, values.by!, runId)))
    : [];
  const settled = new Set(repairs.filter((r) => r.outcome === "repaired").map((r) => r.driftId));
  const flagged = new Set(repairs.filter((r) => r.outcome === "flagged").map((r) => r.driftId));
  const left = report.drifts.filter((d) => !settled.has(d.driftId));

  const stateOf = (driftId: string) =>
    settled.has(driftId)
      ? "repaired"
      : flagged.has(driftId)
        ? "flagged"
        : repairs.some((r) => r.driftId === driftId && r.outcome === "failed")
          ? "failed"
          : "left";
  const byClass: Record<string, number> = {};
  for (const d of report.drifts) byClass[d.driftClass] = (byClass[d.driftClass] ?? 0) + 1;
  const summary: ReconciliationSummary = {
    at: new Date().toISOString(),
    by: values.by!,
    window: report.window,
    providers: report.providers,
    compared: report.compared,
    repair: values.repair!,
    byClass,
    drifts: report.drifts.map((d) => ({
      driftId: d.driftId,
      driftClass: d.driftClass,
      provider: d.provider,
      ...(d.paymentId ? { paymentId: d.paymentId } : {}),
      providerObject: d.providerObject,
      amount: d.amount,
      currency: d.currency,
      state: stateOf(d.driftId),
    })),
    driftCount: report.drifts.length,
    left: left.length,
    providerErrors: report.providerErrors,
  };
  // Kept for the console, and counted where the alarm looks; neither may hide the report itself.
  const kept = await Promise.allSettled([
    readModels().putLastReconciliation(summary),
    putDriftMetric(byClass),
  ]);
  for (const result of kept)
    if (result.status === "rejected") console.error(`reconcile: not kept: ${result.reason}`);

  if (values.json) {
    console.log(JSON.stringify({ ...report, repairs, left: left.length }, null, 2));
  } else {
    for (const d of report.drifts) {
      const repair = repairs.find((r) => r.driftId === d.driftId);
      const state = repair
        ? `${repair.outcome}${repair.events.length ? ` (${repair.events.join(", ")})` : ""}${repair.reason ? `: ${repair.reason}` : ""}`
        : d.awaitingPerson
          ? "flagged earlier, waiting for a person (console: Needs attention)"
          : d.repair?.type === "RecordDrift" || !d.repair
            ? "needs a person: --repair flags it"
            : `--repair appends ${d.repair.type}`;
      console.log(
        `${d.driftClass.padEnd(19)} ${d.provider.padEnd(7)} ${d.paymentId ?? "(no payment)"} ${d.providerObject}\n` +
          `    ledger: ${d.ledger}\n    ${d.provider}: ${d.providerSays}\n    ${state}`,
      );
    }
    for (const [currency, total] of Object.entries(report.totals)) {
      const classes = Object.entries(total.byClass)
        .map(([c, amount]) => `${c} ${amount}`)
        .join(", ");
      console.log(`reconcile: total ${total.amount} ${currency} (minor units) in drift: ${classes}`);
    }
    for (const error of report.providerErrors) console.error(`reconcile: not compared, ${error}`);
    console.log(
      `reconcile: ${report.compared} compared, ${report.drifts.length} drift(s)` +
        (values.repair ? `, ${settled.size} repaired, ${flagged.size} flagged for a person` : "") +
        `, ${left.length} left`,
    );
  }
  const exitCode = left.length > 0 || report.providerErrors.length > 0 ? 1 : 0;
  process.exit(exitCode);
}

/**
 * `ReconciliationDrift` by class (SPEC §6.1), in the namespace and dimensions the alarm reads: a
 * zero for each class without drift, so the alarm's data says "compared, none" rather than nothing.
 */
async function putDriftMetric(byClass: Record<string, number>) {
  const cloudwatch = new CloudWatchClient({});
  try {
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: metricsNamespace.namespace,
        MetricData: alarms.reconciliationDrift.classes.map((driftClass) => ({
          MetricName: alarms.reconciliationDrift.metric,
          Dimensions: [
            { Name: "service", Value: metricsNamespace.service },
            { Name: "class", Value: driftClass },
          ],
          Unit: "Count",
          Value: byClass[driftClass] ?? 0,
        })),
      }),
    );
  } finally {
    cloudwatch.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
