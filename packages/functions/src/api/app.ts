import type { Logger } from "@aws-lambda-powertools/logger";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { traceIdOf } from "../shared/trace";
import { type CustomerRoutesDeps, customerRoutes } from "./customer-routes";
import { docsPage } from "./docs";
import { openApiDocument } from "./openapi";
import { type ApiEnv, type PaymentRoutesDeps, paymentRoutes } from "./payment-routes";
import { errorDetails, MAX_BODY_BYTES, problem, problemResponse, toProblem } from "./problem";
import { type WebhookRoutesDeps, webhookRoutes } from "./webhook-routes";

export interface ApiDeps
  extends PaymentRoutesDeps,
    WebhookRoutesDeps,
    Pick<CustomerRoutesDeps, "savedMethods"> {
  readonly logger: Logger;
  /**
   * The SST stage: the webhook routes also answer at `/{stage}/webhook/{provider}`, the paths
   * TicketBottle's providers are configured with (`/dev/webhook/…` under `npm run dev`).
   */
  readonly stage?: string;
}

/**
 * The REST API: one Hono app, a sub-app per resource mounted with `app.route()`. Every response
 * carries an X-Request-Id; every error is problem+json from one `onError`, and nothing a caller
 * sends can make it answer 5xx.
 */
export function createApiApp(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  app.use("*", requestId({ headerName: "X-Request-Id" }));
  // Every response carries the id, including the problems that middleware answers with.
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set("X-Request-Id", c.get("requestId"));
  });
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () =>
        problemResponse(
          problem(413, "too-large", "The request body is too large", "request bodies are limited to 64 KB"),
        ),
    }),
  );

  app.onError((error, c) => {
    // Hono's validator throws HTTPException(400) for a body that is not JSON at all.
    if (error instanceof HTTPException && error.status === 400) {
      return problemResponse(
        problem(
          400,
          "invalid-request",
          "The request is not valid",
          "the body must be a JSON object (Content-Type: application/json)",
        ),
      );
    }
    const { problem: p, headers, unexpected } = toProblem(error);
    if (unexpected) {
      deps.logger.error("request failed", {
        requestId: c.get("requestId"),
        // The caller's trace, when it sent one: the events of the request carry the same trace id.
        traceId: traceIdOf(c.req.header("traceparent")),
        method: c.req.method,
        path: c.req.path,
        error: errorDetails(error),
      });
    }
    return problemResponse(p, headers);
  });
  app.notFound((c) =>
    problemResponse(
      problem(404, "not-found", "No such route", `${c.req.method} ${c.req.path} is not a route of this API`),
      {
        "x-request-id": c.get("requestId") ?? "",
      },
    ),
  );

  app.get("/health", (c) => c.json({ status: "ok" }));
  const document = openApiDocument();
  const docs = docsPage(document);
  app.get("/openapi.json", (c) => c.json(document));
  app.get("/docs", (c) => c.html(docs));
  app.route("/payments", paymentRoutes(deps));
  app.route("/customers", customerRoutes(deps));
  const webhooks = webhookRoutes(deps);
  app.route("/webhooks", webhooks);
  // The paths already set in providers' dashboards (SPEC §4.2).
  app.route("/webhook", webhooks);
  if (deps.stage && /^[A-Za-z0-9-]{1,64}$/.test(deps.stage)) app.route(`/${deps.stage}/webhook`, webhooks);
  return app;
}

export type ApiApp = ReturnType<typeof createApiApp>;
