import { createHash } from "node:crypto";
import { zValidator } from "@hono/zod-validator";
import type { ReadModelStore } from "@payments/adapters/dynamodb";
import { type EventStore, PaymentNotFoundError } from "@payments/core";
import type { Context as LambdaContext } from "aws-lambda";
import { type Context, Hono } from "hono";
import type { RequestIdVariables } from "hono/request-id";
import { ulid } from "ulid";
import type { z } from "zod";
import type { PaymentService, RequestContext } from "../payments/payment-service";
import { continueTrace, logSpan } from "../shared/trace";
import { type AuthVariables, bearerJwt, callerOf, type ExpectedClaims, requireScope } from "./auth";
import type { IdempotentRunner, StoredResponse } from "./idempotency";
import {
  CancelBody,
  CaptureBody,
  CreatePaymentBody,
  IdempotencyKeyHeader,
  ListQuery,
  PaymentIdParam,
  RefundBody,
} from "./payment-schemas";
import { PROBLEM_CONTENT_TYPE, problem, problemResponse, toProblem } from "./problem";

export interface PaymentRoutesDeps {
  readonly payments: () => PaymentService;
  /** The read model of the projections: lookups by customer. */
  readonly readModels: () => Pick<ReadModelStore, "viewsByCustomer">;
  readonly store: () => EventStore;
  readonly idempotent: () => IdempotentRunner;
  readonly jwtSecret: () => string;
  /** `iss` / `aud` a token must carry when set; `JWT_ISSUER` / `JWT_AUDIENCE` by default. */
  readonly expectedClaims?: () => ExpectedClaims;
}

export type ApiEnv = { Variables: AuthVariables & RequestIdVariables };

/** A zValidator failure as a 400 problem that lists every field at fault. */
export const invalid = (result: { success: boolean; error?: { issues: readonly z.core.$ZodIssue[] } }) => {
  if (result.success) return undefined;
  const errors = (result.error?.issues ?? []).slice(0, 20).map((issue) => ({
    path: issue.path.join(".") || "body",
    message: issue.message,
  }));
  return problemResponse(
    problem(
      400,
      "invalid-request",
      "The request is not valid",
      errors.map((e) => `${e.path}: ${e.message}`).join("; "),
      { errors },
    ),
  );
};

/**
 * Who is asking, for the events' metadata: the caller's X-Correlation-Id, or this request's id; the
 * caller's W3C `traceparent` continued, or a trace started (SPEC §5).
 */
function requestContext(c: Context<ApiEnv>): RequestContext {
  const given = c.req.header("x-correlation-id");
  const correlationId = given && /^[\x21-\x7e]{1,128}$/.test(given) ? given : c.get("requestId");
  return { correlationId, causationId: c.get("requestId"), source: "api", traceparent: traceOf(c) };
}

/** The request's trace: continued or started once per request (its span, in the logs under npm run dev). */
const traces = new WeakMap<Context<ApiEnv>, string>();
function traceOf(c: Context<ApiEnv>): string {
  let traceparent = traces.get(c);
  if (!traceparent) {
    traceparent = continueTrace(c.req.header("traceparent"));
    traces.set(c, traceparent);
  }
  return traceparent;
}

/**
 * Which failures a replay answers with again: a 4xx the same request would always get. A lost race,
 * an outage or an error of ours is thrown instead, so the key's record is released and a retry runs.
 */
function storable(error: unknown): StoredResponse {
  const { problem: p } = toProblem(error);
  if (p.status >= 500 || p.type === "/problems/concurrent-change") throw error;
  return { status: p.status, body: p };
}

function send(c: Context, response: StoredResponse): Response {
  return c.newResponse(JSON.stringify(response.body), response.status as 200, {
    "content-type": response.status >= 400 ? PROBLEM_CONTENT_TYPE : "application/json",
  });
}

/**
 * The payment resource (SPEC §4.2): POST routes need `payments:write`, GET routes `payments:read`.
 * Each POST honours an Idempotency-Key, scoped to the caller and the route.
 */
export function paymentRoutes(deps: PaymentRoutesDeps) {
  const app = new Hono<ApiEnv>();
  app.use("*", bearerJwt(deps.jwtSecret, deps.expectedClaims));

  /** Runs a command once per Idempotency-Key (when the caller sent one), else once. */
  async function once(c: Context<ApiEnv>, route: string, body: unknown, run: () => Promise<StoredResponse>) {
    const started = Date.now();
    try {
      return await onceUntraced(c, route, body, run);
    } finally {
      logSpan(route, traces.get(c), started, { status: c.res?.status });
    }
  }
  async function onceUntraced(
    c: Context<ApiEnv>,
    route: string,
    body: unknown,
    run: () => Promise<StoredResponse>,
  ) {
    const key = c.req.header("idempotency-key");
    const guarded = async () => {
      try {
        return await run();
      } catch (error) {
        return storable(error);
      }
    };
    if (key === undefined) return send(c, await guarded());
    const checked = IdempotencyKeyHeader.safeParse(key);
    if (!checked.success) {
      return problemResponse(
        problem(
          400,
          "invalid-request",
          "The request is not valid",
          `Idempotency-Key: ${checked.error.issues[0]?.message}`,
        ),
      );
    }
    const caller = callerOf(c.get("jwtPayload")).subject;
    // hono/aws-lambda hands the invocation's context to the app as `env.lambdaContext`.
    const lambdaContext = (c.env as { lambdaContext?: LambdaContext } | undefined)?.lambdaContext;
    return send(c, await deps.idempotent()({ caller, route, key, body, lambdaContext }, guarded));
  }

  /** A refund's id: derived from the Idempotency-Key, so a retried request continues the same refund. */
  function refundIdFor(c: Context<ApiEnv>, paymentId: string): string {
    const key = c.req.header("idempotency-key");
    if (!key) return `rfd_${ulid()}`;
    const caller = callerOf(c.get("jwtPayload")).subject;
    return `rfd_${createHash("sha256").update(`${caller} ${paymentId} ${key}`).digest("hex").slice(0, 26)}`;
  }

  return app
    .post("/", requireScope("payments:write"), zValidator("json", CreatePaymentBody, invalid), (c) => {
      const body = c.req.valid("json");
      return once(c, "POST /payments", body, async () => {
        const { view, created } = await deps
          .payments()
          .create({ ...body, captureMethod: body.captureMethod ?? "automatic" }, requestContext(c));
        return { status: created ? 201 : 200, body: view };
      });
    })
    .post(
      "/:id/capture",
      requireScope("payments:write"),
      zValidator("param", PaymentIdParam, invalid),
      zValidator("json", CaptureBody, invalid),
      (c) => {
        const { id } = c.req.valid("param");
        const body = c.req.valid("json");
        return once(c, `POST /payments/${id}/capture`, body, async () => ({
          status: 200,
          body: await deps.payments().capture(id, body.amount, requestContext(c)),
        }));
      },
    )
    .post(
      "/:id/refund",
      requireScope("payments:write"),
      zValidator("param", PaymentIdParam, invalid),
      zValidator("json", RefundBody, invalid),
      (c) => {
        const { id } = c.req.valid("param");
        const body = c.req.valid("json");
        const refundId = refundIdFor(c, id);
        return once(c, `POST /payments/${id}/refund`, body, async () => ({
          status: 200,
          body: await deps.payments().refund(id, { ...body, refundId }, requestContext(c)),
        }));
      },
    )
    .post(
      "/:id/cancel",
      requireScope("payments:write"),
      zValidator("param", PaymentIdParam, invalid),
      zValidator("json", CancelBody, invalid),
      (c) => {
        const { id } = c.req.valid("param");
        const body = c.req.valid("json");
        return once(c, `POST /payments/${id}/cancel`, body, async () => ({
          status: 200,
          body: await deps.payments().cancel(id, body.reason ?? "requested by the caller", requestContext(c)),
        }));
      },
    )
    .get("/", requireScope("payments:read"), zValidator("query", ListQuery, invalid), async (c) => {
      const query = c.req.valid("query");
      if (query.customerId !== undefined) {
        // From the read model, newest first: it lags the events by the projector's delay.
        const page = await deps
          .readModels()
          .viewsByCustomer(query.customerId, { limit: query.limit, cursor: query.cursor });
        return c.json(page);
      }
      const paymentId = await deps.store().findOwner({ kind: "orderId", value: query.orderId! });
      return c.json({ items: paymentId ? [await deps.payments().view(paymentId)] : [] });
    })
    .get("/:id", requireScope("payments:read"), zValidator("param", PaymentIdParam, invalid), async (c) => {
      return c.json(await deps.payments().view(c.req.valid("param").id));
    })
    .get(
      "/:id/events",
      requireScope("payments:read"),
      zValidator("param", PaymentIdParam, invalid),
      async (c) => {
        const { id } = c.req.valid("param");
        const items = await deps.store().load(id);
        if (items.length === 0) throw new PaymentNotFoundError(id);
        return c.json({ items });
      },
    );
}
