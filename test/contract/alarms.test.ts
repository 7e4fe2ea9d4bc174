import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  alarms,
  awsAlarms,
  dashboardWidgets,
  functionHandlers,
  metricsNotAlarmed,
  outboxSinks,
  queuesWithDlq,
} from "@payments/topology";
import { describe, expect, it } from "vitest";

/**
 * Every alarm of stacks/alarms.ts watches something real (SPEC §8): a metric that some function's
 * code emits, or a metric AWS publishes itself. Checked from the topology data the stacks read, so
 * an alarm on a metric nobody emits (an alarm that can never fire) fails here.
 */
const root = process.cwd();

/** The source of the functions, tests left out. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") ? [readFileSync(path, "utf8")] : [];
  });
}
const code = sources(join(root, "packages", "functions", "src")).join("\n");
const emitted = new Set([...code.matchAll(/addMetric\(\s*"([A-Za-z]+)"/g)].map((m) => m[1]!));
// Metrics named by a template: `OutboxPublished_${sink}`, one per sink.
const templated = [...code.matchAll(/addMetric\(\s*`([A-Za-z]+)_\$\{sink\}`/g)].map((m) => m[1]!);
for (const prefix of templated) for (const sink of outboxSinks) emitted.add(`${prefix}_${sink}`);

/** The metrics the service's own alarms read, from topology. */
const ownMetrics = Object.values(alarms).flatMap((alarm) =>
  "errors" in alarm ? [alarm.errors, alarm.received] : [alarm.metric],
);

describe("the alarms", () => {
  it("read metrics some function emits", () => {
    expect(emitted.size).toBeGreaterThan(10);
    expect(ownMetrics.filter((metric) => !emitted.has(metric))).toEqual([]);
  });

  it("on AWS's own metrics name AWS's namespaces, on every queue with a DLQ", () => {
    for (const alarm of Object.values(awsAlarms))
      expect(["AWS/SQS", "AWS/Lambda"]).toContain(alarm.namespace);
    expect(queuesWithDlq.map((q) => q.key).sort()).toEqual(["orderStatus", "orders", "ordersFifo"]);
    const stack = readFileSync(join(root, "stacks", "alarms.ts"), "utf8");
    for (const { key } of queuesWithDlq) expect(stack).toContain(`${key}: { queue:`);
  });

  it("cover every function with errors and p99 duration, and every function emits ColdStartDuration", () => {
    const stack = readFileSync(join(root, "stacks", "alarms.ts"), "utf8");
    // Every deployed function has its entry in the watched list (the tasks share one, by task).
    const watched = new Set([...stack.matchAll(/key: (?:i === 0 \? )?"([A-Za-z-]+)"/g)].map((m) => m[1]!));
    const entryOf: Record<keyof typeof functionHandlers, string> = {
      api: "Api",
      console: "OperationsConsole",
      processPayment: "ProcessPayment",
      projector: "Projector",
      outboxRelay: "OutboxRelay",
      outboxSweeper: "OutboxSweeper",
      outboxCleanup: "OutboxCleanup",
      orderStatus: "OrderStatus",
      collectTask: "PaymentTask-",
      refundTask: "PaymentTask-",
      reconciler: "Reconciler",
    };
    const tasks = (key: string) => key === "PaymentTask-";
    expect(
      Object.entries(entryOf)
        .filter(([, key]) => !tasks(key) && !watched.has(key))
        .map(([name]) => name),
    ).toEqual([]);
    expect(stack).toContain('key: i === 0 ? "ProcessPayment" : "ProcessPaymentFifo"');
    expect(stack).toMatch(
      /Object\.entries\(paymentTasks\)\.map\(\(\[task, fn\]\) => \(\{\s+key: `PaymentTask-\$\{task\}`/,
    );
    // Each handler's module wraps its export with withColdStartMetric.
    for (const [name, handler] of Object.entries(functionHandlers)) {
      const [file, exported] = handler.split(/\.(?=[^.]+$)/) as [string, string];
      const text = readFileSync(join(root, `${file}.ts`), "utf8");
      expect({
        name,
        wrapped: new RegExp(`export const ${exported}\\b[^=]*=\\s*withColdStartMetric`).test(text),
      }).toEqual({
        name,
        wrapped: true,
      });
    }
  });
});

describe("the CloudWatch dashboard", () => {
  const onDashboard = new Set<string>(dashboardWidgets.flatMap((w) => [...w.metrics]));

  it("shows every metric the code emits, and only those", () => {
    expect(templated).toEqual(["OutboxPublished"]);
    expect([...emitted].filter((metric) => !onDashboard.has(metric)).sort()).toEqual([]);
    expect([...onDashboard].filter((metric) => !emitted.has(metric)).sort()).toEqual([]);
  });

  it("has an alarm on every emitted metric, or the stated reason why not", () => {
    const alarmed = new Set<string>(ownMetrics);
    expect([...emitted].filter((m) => !alarmed.has(m) && !(m in metricsNotAlarmed)).sort()).toEqual([]);
    // A reason for a metric that is alarmed anyway, or that nothing emits, is stale.
    expect(Object.keys(metricsNotAlarmed).filter((m) => alarmed.has(m) || !emitted.has(m))).toEqual([]);
    for (const reason of Object.values(metricsNotAlarmed)) expect(reason.length).toBeGreaterThan(20);
  });

  it("adds AWS's own figures in stacks/dashboard.ts: errors, throttles, p99 duration, iterator age, DLQ depth", () => {
    const stack = readFileSync(join(root, "stacks", "dashboard.ts"), "utf8");
    for (const figure of ["Throttles", '"Duration", "p99"', "IteratorAge", "awsAlarms.lambdaErrors.metric"])
      expect(stack).toContain(figure);
    expect(stack).toMatch(/Projector: projector\.nodes\.function/);
    expect(stack).toMatch(/OutboxRelay: relay\.nodes\.function/);
    expect(stack).toContain("queuesWithDlq.map");
    expect(readFileSync(join(root, "sst.config.ts"), "utf8")).toContain('import("./stacks/dashboard")');
  });
});
