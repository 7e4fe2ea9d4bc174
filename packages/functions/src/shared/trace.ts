import { createHash, randomBytes } from "node:crypto";
import { TRACEPARENT } from "@payments/events";

/**
 * W3C Trace Context (SPEC §5): a `traceparent` from the API request or the order message's
 * attributes continues the caller's trace; without one (or with one that is not well formed, which
 * the W3C recommendation says to ignore) a new trace is started. Either way this service's work gets
 * a span id of its own, and every event it appends keeps the result in `metadata.traceparent`.
 * `startFrom` makes a started trace's id a function of it (an SQS message id): every delivery of one
 * message then belongs to one trace.
 */
export function continueTrace(given: string | undefined, startFrom?: string): string {
  const span = randomBytes(8).toString("hex");
  const parsed = given?.trim().toLowerCase();
  if (parsed && TRACEPARENT.test(parsed)) {
    const [, traceId, , flags] = parsed.split("-");
    return `00-${traceId}-${span}-${flags}`;
  }
  const traceId = startFrom
    ? createHash("sha256").update(startFrom).digest("hex").slice(0, 32)
    : randomBytes(16).toString("hex");
  return `00-${traceId}-${span}-01`;
}

/**
 * One line per span this service would send to a tracer, under `npm run dev` (`DEV_SPAN_LOG=1`):
 * `[span] trace=<id> span=<id> <name> <ms> ms <attributes>`. On AWS nothing is written here.
 */
export function logSpan(
  name: string,
  traceparent: string | undefined,
  startedAt: number,
  attributes: Readonly<Record<string, string | number | undefined>> = {},
): void {
  if (process.env.DEV_SPAN_LOG !== "1" || !traceparent) return;
  const [, traceId, spanId] = traceparent.split("-");
  const extra = Object.entries(attributes)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}=${value}`)
    .join("");
  process.stdout.write(
    `[span] trace=${traceId} span=${spanId} ${name} ${Date.now() - startedAt} ms${extra}\n`,
  );
}

/** The trace id of a well-formed traceparent (what the logs carry); nothing for anything else. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const parsed = traceparent?.trim().toLowerCase();
  return parsed && TRACEPARENT.test(parsed) ? parsed.split("-")[1] : undefined;
}
