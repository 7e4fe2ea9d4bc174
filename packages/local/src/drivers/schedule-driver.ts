import { randomUUID } from "node:crypto";
import type { Context, ScheduledEvent } from "aws-lambda";
import { LOCAL_REGION } from "../platform";
import { createLambdaContext, type FunctionConfig, logInvocation } from "./lambda-context";
import type { RunningDriver } from "./sqs-driver";

const UNITS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/**
 * The period of an EventBridge rate expression, in ms.
 * @example ratePeriodMs("rate(5 minutes)") // 300000
 */
export function ratePeriodMs(expression: string): number {
  const m = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!m) throw new Error(`"${expression}" is not a rate expression such as "rate(1 minute)"`);
  const value = Number(m[1]);
  const unit = m[2]!;
  if (value === 1 ? unit.endsWith("s") : !unit.endsWith("s")) {
    throw new Error(
      `"${expression}": EventBridge wants "rate(1 ${unit.replace(/s$/, "")})" and "rate(${value} ${unit.replace(/s?$/, "s")})"`,
    );
  }
  return value * UNITS[unit]!;
}

export interface ScheduleDriverOptions {
  readonly expression: string;
  readonly handler: (event: ScheduledEvent, context: Context) => Promise<unknown>;
  readonly fn: FunctionConfig;
  /** Local runs may tick faster than the expression says; the default keeps its period. */
  readonly periodMs?: number;
}

/** Invokes a function on a rate schedule, never two at once (concurrency 1), with a Scheduled Event. */
export function startScheduleDriver(options: ScheduleDriverOptions): RunningDriver {
  const period = options.periodMs ?? ratePeriodMs(options.expression);
  let invocations = 0;
  let busy: Promise<void> | undefined;
  const tick = () => {
    if (busy) return;
    const started = Date.now();
    invocations++;
    const event: ScheduledEvent = {
      version: "0",
      id: randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: new Date().toISOString(),
      region: LOCAL_REGION,
      resources: [`arn:aws:events:${LOCAL_REGION}:000000000000:rule/${options.fn.name}`],
      detail: {},
    };
    busy = options
      .handler(event, createLambdaContext(options.fn))
      .then(() => logInvocation(options.fn, "schedule", options.expression, started))
      .catch((error) =>
        console.error(`[${options.fn.name}] scheduled run failed: ${(error as Error).message}`),
      )
      .finally(() => {
        busy = undefined;
      });
  };
  const timer = setInterval(tick, period);
  return {
    invocations: () => invocations,
    async stop() {
      clearInterval(timer);
      await busy;
    },
  };
}
