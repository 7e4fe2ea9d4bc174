import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { metricsNamespace } from "@payments/topology";

/** One logger and one metrics object per container, shared by the functions' code. */
export const logger = new Logger({ serviceName: metricsNamespace.service });
export const metrics = new Metrics({
  namespace: metricsNamespace.namespace,
  serviceName: metricsNamespace.service,
});

/**
 * Powertools' Tracer (X-Ray, SPEC §8), loaded only when active tracing is on: stacks/ turns it on
 * with POWERTOOLS_TRACE_ENABLED beside the functions' active tracing, and the X-Ray SDK is not
 * evaluated otherwise (`npm run bench -- --only coldstart` reports what it adds to each import).
 */
export const tracer =
  process.env.POWERTOOLS_TRACE_ENABLED === "true"
    ? new (await import("@aws-lambda-powertools/tracer")).Tracer({ serviceName: metricsNamespace.service })
    : undefined;

/** An AWS SDK v3 client whose requests are X-Ray subsegments when tracing is on; as it is otherwise. */
export function traced<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

let cold = true;

/**
 * Wraps a Lambda handler so that its container's first invocation records `ColdStartDuration`:
 * the milliseconds from the Node process's start to that invocation (runtime start and every
 * import: what the cold start alarm of SPEC §8 watches). Published at once, on its own.
 */
export function withColdStartMetric<A extends unknown[], R>(handler: (...args: A) => R): (...args: A) => R {
  return (...args: A) => {
    if (cold) {
      cold = false;
      metrics.addMetric("ColdStartDuration", MetricUnit.Milliseconds, Math.round(process.uptime() * 1000));
      metrics.publishStoredMetrics();
    }
    return handler(...args);
  };
}
