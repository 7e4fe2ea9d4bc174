import { createHash } from "node:crypto";
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IDEMPOTENCY_KEY_SECONDS } from "@payments/topology";
import type { Context } from "aws-lambda";

/** A response the API can replay: what the first request answered. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

/** The outcome of a payment POST: stored and replayed for 2xx and 4xx; a thrown error is not stored. */
export type Run = () => Promise<StoredResponse>;

export type IdempotentRunner = (
  scope: {
    caller: string;
    route: string;
    key: string;
    body: unknown;
    /** On Lambda, the invocation's context: how long this request may still run. */
    lambdaContext?: Pick<Context, "getRemainingTimeInMillis">;
  },
  run: Run,
) => Promise<StoredResponse>;

/**
 * Off Lambda (the local server), how long a request may run. A key's in-progress record expires
 * after it, so a request that died mid-flight does not hold its key for the whole 24 h.
 */
export const REQUEST_DEADLINE_MS = 30_000;

/** Canonical JSON: the same body with keys in another order hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Idempotency-Key for the payment POST routes (SPEC §2), on Powertools' idempotency utility with
 * DynamoDB persistence, kept 24 h. Keys are scoped to the caller and route; the body's hash is
 * validated, so the same key with another body raises IdempotencyValidationError (422), and the same
 * key while the first request runs raises IdempotencyAlreadyInProgressError (409). The function
 * wrapper is used, not the Middy middleware (which deleted records it never acquired).
 */
export function createIdempotentRunner(options: {
  client: DynamoDBClient;
  tableName: string;
}): IdempotentRunner {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client,
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "key",
    payloadValidationJmesPath: "bodyHash",
    expiresAfterSeconds: IDEMPOTENCY_KEY_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  const idempotent = makeIdempotent(
    async (_record: { key: string; bodyHash: string }, run: Run): Promise<StoredResponse> => run(),
    { persistenceStore, config, keyPrefix: "payments-api", dataIndexArgument: 0 },
  );
  return (scope, run) => {
    config.registerLambdaContext(
      (scope.lambdaContext ?? { getRemainingTimeInMillis: () => REQUEST_DEADLINE_MS }) as Context,
    );
    return idempotent(
      {
        key: `${scope.caller} ${scope.route} ${scope.key}`,
        bodyHash: createHash("sha256").update(canonical(scope.body)).digest("hex"),
      },
      run,
    );
  };
}
