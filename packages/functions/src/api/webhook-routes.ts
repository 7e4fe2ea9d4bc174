import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { StripeLookup } from "@payments/adapters/stripe";
import {
  parseBoundedJson,
  verifyPayosSignature,
  verifyStripeSignature,
  verifyZaloPayMac,
} from "@payments/adapters/webhooks";
import { InvalidAmountError, InvalidCurrencyError } from "@payments/core";
import type { EventMetadata } from "@payments/events";
import { Hono } from "hono";
import * as z from "zod";
import {
  type Notification,
  type NotificationOutcome,
  receivedCommands,
  stripeNotification,
  type WebhookService,
} from "../payments/webhook-service";
import { continueTrace, logSpan, traceIdOf } from "../shared/trace";
import { problem, problemResponse } from "./problem";

export interface WebhookSecrets {
  readonly stripeWebhookSecret: string;
  readonly zaloPayKey2: string;
  readonly payosChecksumKey: string;
}

export interface WebhookRoutesDeps {
  readonly webhooks: () => WebhookService;
  /** What Stripe's notices leave out, read back from Stripe: an intent's payment, a charge's refunds. */
  readonly stripeLookup: () => StripeLookup;
  readonly webhookSecrets: () => WebhookSecrets;
  readonly logger: Logger;
  /** `WebhooksReceived` and `WebhookErrors` (4xx/5xx, or ZaloPay's "call again"), for the error-rate alarm. */
  readonly metrics?: Metrics;
}

/** Lenient reads of the providers' bodies: only the fields used are checked; providers add fields. */
const ZaloPayBody = z.object({
  data: z.string().max(60_000),
  mac: z.string().max(256),
  /** 1: an order was paid. Only that records money (SPEC §4.3). */
  type: z.union([z.number(), z.string().max(16)]).optional(),
});
const ZaloPayData = z.object({
  app_trans_id: z.string().min(1).max(255),
  zp_trans_id: z.union([z.string().min(1).max(64), z.number().int().nonnegative()]),
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
/** Only `data` and `signature` count: the top-level `code`, `desc` and `success` are not signed. */
const PayosBody = z.object({
  data: z.record(z.string(), z.unknown()),
  signature: z.string().max(256),
});
/** The signed fields used, as PayOS's own SDK types them (`WebhookData` of @payos/node). */
const PayosData = z.object({
  code: z.string().max(16),
  orderCode: z.union([z.number().int().nonnegative(), z.string().min(1).max(64)]),
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  reference: z.string().min(1).max(255),
  paymentLinkId: z.string().min(1).max(255),
  currency: z.string().max(8).optional(),
});

/** A webhook body's JSON, bounded in depth and size: a hostile body is unreadable, never a crash. */
const parseJson = (raw: string) => parseBoundedJson(raw);

/** Reads own properties only: a body's `__proto__` or `constructor` is data, never inherited behaviour. */
function ownProperties<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value)) as T;
}

const unauthorized = (provider: string) =>
  problemResponse(
    problem(
      401,
      "bad-signature",
      "The webhook signature does not verify",
      `the ${provider} signature does not match this body and secret`,
    ),
  );

/**
 * Provider webhooks (SPEC §4.3), at /webhooks/{provider} and the /webhook/{provider} aliases. Each
 * reads the raw body once, verifies it before any parsing, and answers in the provider's own format:
 * a transient failure is answered so that the provider tries again.
 */
export function webhookRoutes(deps: WebhookRoutesDeps) {
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    if (!deps.metrics) return;
    deps.metrics.addMetric("WebhooksReceived", MetricUnit.Count, 1);
    // ZaloPay is answered 200 with return_code 0 when it must call back again: a failure too.
    const retryLater =
      c.res.status === 200 &&
      c.req.path.endsWith("/zalopay") &&
      ((await c.res.clone().json()) as { return_code?: number }).return_code === 0;
    if (c.res.status >= 400 || retryLater) deps.metrics.addMetric("WebhookErrors", MetricUnit.Count, 1);
    deps.metrics.publishStoredMetrics();
  });

  const metadataFor = (provider: string, id: string, traceparent: string): EventMetadata => ({
    correlationId: `${provider}:${id}`,
    causationId: `${provider}:${id}`,
    source: `webhook:${provider}`,
    traceparent,
  });
  const log = (provider: string, outcome: NotificationOutcome, ref: string, traceparent: string) => {
    const fields = { provider, reference: ref, traceId: traceIdOf(traceparent), ...outcome };
    // A verified notice the lifecycle could not apply: recorded and flagged, and a person must look.
    if (outcome.kind === "unapplied" || outcome.kind === "invalid")
      deps.logger.warn(`${provider} webhook: ${outcome.kind}`, fields);
    else deps.logger.info(`${provider} webhook: ${outcome.kind}`, fields);
  };

  /** Records a verified notice; a `traceparent` the provider sent is continued, else one is started. */
  async function record(provider: string, n: Notification, given?: string): Promise<NotificationOutcome> {
    const started = Date.now();
    const traceparent = continueTrace(given);
    const outcome = await deps.webhooks().record(n, metadataFor(provider, n.dedupeKey, traceparent));
    log(provider, outcome, n.reference, traceparent);
    logSpan(`webhook ${provider}`, traceparent, started, { outcome: outcome.kind });
    if (outcome.kind === "unapplied" && deps.metrics) {
      deps.metrics.addMetric("ProviderNoticesUnapplied", MetricUnit.Count, 1);
    }
    return outcome;
  }

  const unreadable = (provider: string, detail: string) =>
    problemResponse(
      problem(400, "invalid-request", `Not a ${provider} notice this service can read`, detail),
    );

  app.post("/stripe", async (c) => {
    const raw = await c.req.text();
    let event: ReturnType<typeof verifyStripeSignature>;
    try {
      event = verifyStripeSignature(
        raw,
        c.req.header("stripe-signature"),
        deps.webhookSecrets().stripeWebhookSecret,
      );
    } catch (error) {
      deps.logger.warn("stripe webhook refused", { reason: (error as Error).message });
      return unauthorized("Stripe");
    }
    let n: Notification | undefined;
    try {
      n = await stripeNotification(event, deps.stripeLookup());
    } catch (error) {
      // Signed by Stripe, but with an amount or currency no payment can hold: refused, never a 500.
      if (error instanceof InvalidAmountError || error instanceof InvalidCurrencyError) {
        deps.logger.warn("stripe webhook verified but unreadable", { reason: error.message });
        return unreadable("Stripe", error.message);
      }
      throw error;
    }
    if (!n) return c.json({ received: true, handled: false, type: event.type });
    const outcome = await record("stripe", n, c.req.header("traceparent"));
    if (outcome.kind === "invalid") return unreadable("Stripe", outcome.reason);
    return c.json({ received: true, handled: true, outcome: outcome.kind });
  });

  app.post("/zalopay", async (c) => {
    const raw = await c.req.text();
    const body = ZaloPayBody.safeParse(parseJson(raw));
    if (
      !body.success ||
      !verifyZaloPayMac(body.data.data, body.data.mac, deps.webhookSecrets().zaloPayKey2)
    ) {
      deps.logger.warn("zalopay webhook refused: mac does not verify");
      return c.json({ return_code: -1, return_message: "mac not equal" }, 401);
    }
    const data = ZaloPayData.safeParse(parseJson(body.data.data));
    if (!data.success) {
      deps.logger.error("zalopay webhook verified but unreadable", { reason: data.error.issues[0]?.message });
      return c.json({ return_code: -1, return_message: "data is not a ZaloPay payment callback" }, 400);
    }
    if (Number(body.data.type ?? 1) !== 1) {
      // Not an order payment (type 2 is an agreement binding): acknowledged, and no money recorded.
      deps.logger.info("zalopay webhook: not a payment callback", { type: body.data.type });
      return c.json({ return_code: 1, return_message: "success" });
    }
    const { app_trans_id, zp_trans_id, amount } = ownProperties(data.data);
    try {
      // ZaloPay settles in VND, which has no minor unit: the notified amount is the amount.
      const outcome = await record(
        "zalopay",
        {
          provider: "zalopay",
          dedupeKey: String(zp_trans_id),
          noticeType: "payment",
          reference: app_trans_id,
          amount,
          currency: "vnd",
          createsPayment: true,
          commands: receivedCommands("zalopay", String(zp_trans_id), amount),
        },
        c.req.header("traceparent"),
      );
      if (outcome.kind === "invalid")
        return c.json({ return_code: -1, return_message: outcome.reason.slice(0, 200) }, 400);
      return c.json({ return_code: 1, return_message: "success" });
    } catch (error) {
      deps.logger.warn("zalopay webhook failed; ZaloPay will retry", { error: (error as Error).message });
      return c.json({ return_code: 0, return_message: "temporarily unavailable, please retry" });
    }
  });

  app.post("/payos", async (c) => {
    const raw = await c.req.text();
    const body = PayosBody.safeParse(parseJson(raw));
    if (
      !body.success ||
      !verifyPayosSignature(body.data.data, body.data.signature, deps.webhookSecrets().payosChecksumKey)
    ) {
      deps.logger.warn("payos webhook refused: signature does not verify");
      return unauthorized("PayOS");
    }
    const data = PayosData.safeParse(body.data.data);
    if (!data.success) {
      deps.logger.error("payos webhook verified but unreadable", { reason: data.error.issues[0]?.message });
      return unreadable("PayOS", data.error.issues[0]?.message ?? "unreadable data");
    }
    const { code, orderCode, amount, reference, paymentLinkId, currency } = ownProperties(data.data);
    // Only the signed data.code says whether money arrived; the top-level code is not signed.
    if (code !== "00") return c.json({ success: true, handled: false });
    const outcome = await record(
      "payos",
      {
        provider: "payos",
        dedupeKey: `${paymentLinkId}:${reference}`,
        noticeType: "payment",
        reference: String(orderCode),
        // PayOS settles in VND, which has no minor unit: the notified amount is the amount.
        amount,
        currency: (currency ?? "vnd").toLowerCase(),
        createsPayment: true,
        commands: receivedCommands("payos", reference, amount),
      },
      c.req.header("traceparent"),
    );
    if (outcome.kind === "invalid") return unreadable("PayOS", outcome.reason);
    return c.json({ success: true });
  });

  return app;
}
