import {
  IdempotencyAlreadyInProgressError,
  IdempotencyValidationError,
} from "@aws-lambda-powertools/idempotency";
import { InvalidCursorError } from "@payments/adapters/dynamodb";
import {
  ConcurrencyError,
  EventTooLargeError,
  GatewayUnavailableError,
  InvalidAmountError,
  InvalidCommandError,
  InvalidCurrencyError,
  LifecycleRuleError,
  PaymentNotFoundError,
  UniquenessConflictError,
} from "@payments/core";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { GatewayRefusedError, OrderConflictError } from "../payments/payment-service";

/** SPEC §4.2: request bodies over 64 KB are refused with 413 (the console's forms too). */
export const MAX_BODY_BYTES = 64 * 1024;

/** What the logs keep of an unexpected error: never sent to a caller. */
export const errorDetails = (error: unknown) => ({
  name: (error as Error).name,
  message: (error as Error).message,
  stack: (error as Error).stack,
});

/** An RFC 9457 problem: `type` names the problem, `detail` says what to do about it. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>;
  /** For a lifecycle rule: its name (`refund_exceeds_captured`, …). */
  readonly rule?: string;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Problem types are relative URIs, documented in the OpenAPI document. */
export function problem(
  status: number,
  code: string,
  title: string,
  detail: string,
  extra: Partial<Pick<Problem, "errors" | "rule">> = {},
): Problem {
  return { type: `/problems/${code}`, title, status, detail, ...extra };
}

/** A problem as a Response, with the one content type every error of the API carries. */
export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(p), {
    status: p.status as ContentfulStatusCode,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, ...headers },
  });
}

/**
 * The one mapping of errors to problems (SPEC §4.2): a bad request is 400, a rule of the lifecycle
 * 409, and nothing a caller sends ever becomes a 500. Unknown errors are a 500 without any detail:
 * no stack trace or message of ours leaves the process.
 */
export function toProblem(error: unknown): {
  problem: Problem;
  headers?: Record<string, string>;
  unexpected: boolean;
} {
  const known = (p: Problem, headers?: Record<string, string>) => ({
    problem: p,
    headers,
    unexpected: false,
  });
  if (error instanceof InvalidCommandError) {
    return known(
      problem(400, "invalid-request", "The request is not valid", error.message, {
        errors: [{ path: error.field, message: error.message }],
        rule: error.rule,
      }),
    );
  }
  if (
    error instanceof InvalidAmountError ||
    error instanceof InvalidCurrencyError ||
    error instanceof InvalidCursorError
  ) {
    return known(problem(400, "invalid-request", "The request is not valid", error.message));
  }
  if (error instanceof PaymentNotFoundError) {
    return known(problem(404, "payment-not-found", "No such payment", error.message));
  }
  if (error instanceof LifecycleRuleError) {
    return known(
      problem(409, "lifecycle-rule", "The payment's lifecycle does not allow this", error.message, {
        rule: error.rule,
      }),
    );
  }
  if (error instanceof ConcurrencyError) {
    return known(
      problem(
        409,
        "concurrent-change",
        "The payment changed while the request ran",
        `${error.message}; try again`,
      ),
    );
  }
  if (error instanceof OrderConflictError) {
    return known(problem(409, "order-conflict", "The order already has another payment", error.message));
  }
  if (error instanceof UniquenessConflictError) {
    return known(problem(409, "already-taken", "A unique value is already taken", error.message));
  }
  if (error instanceof GatewayRefusedError) {
    return known(
      problem(409, "gateway-refused", "The payment gateway refused", error.message, { rule: error.code }),
    );
  }
  if (error instanceof EventTooLargeError) {
    return known(problem(413, "too-large", "The request is too large to record", error.message));
  }
  if (error instanceof IdempotencyValidationError) {
    return known(
      problem(
        422,
        "idempotency_key_reused",
        "Idempotency-Key reused with another request",
        "this Idempotency-Key was first used with a different body; use a new key for a new request",
      ),
    );
  }
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return known(
      problem(
        409,
        "idempotency-key-in-progress",
        "A request with this Idempotency-Key is still running",
        "wait for the first request to finish, then send this one again to get its response",
      ),
      { "retry-after": "1" },
    );
  }
  if (error instanceof GatewayUnavailableError) {
    return known(
      problem(
        503,
        "gateway-unavailable",
        "The payment gateway is unavailable",
        "nothing was charged twice; send the same request again, with the same Idempotency-Key, shortly",
      ),
      { "retry-after": "2" },
    );
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    if (status === 401) {
      return known(
        problem(
          401,
          "unauthorized",
          "Authentication required",
          "send Authorization: Bearer <token> with a valid, unexpired token",
        ),
        { "www-authenticate": 'Bearer realm="payments"' },
      );
    }
    if (status === 413) {
      return known(
        problem(413, "too-large", "The request body is too large", "request bodies are limited to 64 KB"),
      );
    }
    return known(
      problem(status, "http-error", error.message || "Request refused", error.message || "request refused"),
    );
  }
  return {
    problem: problem(
      500,
      "internal",
      "Internal error",
      "the request failed on our side; it is logged, and it is safe to retry",
    ),
    unexpected: true,
  };
}
