import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { LOCAL_REGION } from "../platform";

export interface FunctionConfig {
  /** The function's name, as in stacks/: `process-payment`, `outbox-relay`. */
  readonly name: string;
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
}

/** A real-looking Lambda context for one invocation, with a live remaining-time clock. */
export function createLambdaContext(fn: FunctionConfig): Context {
  const deadline = Date.now() + (fn.timeoutMs ?? 30_000);
  const requestId = randomUUID();
  const date = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${fn.name}`,
    memoryLimitInMB: String(fn.memoryMb ?? 1024),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `${date}/[$LATEST]${requestId.replaceAll("-", "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** One short line per invocation, as `sst dev` prints them. */
export function logInvocation(fn: FunctionConfig, source: string, summary: string, startedAt: number): void {
  if (process.env.PAYMENTS_LOCAL_QUIET === "1") return;
  console.log(`[${fn.name}] ${source} ${summary} (${Date.now() - startedAt} ms)`);
}
