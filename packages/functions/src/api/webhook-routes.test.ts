import { createHmac } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { describe, expect, it } from "vitest";
import type { WebhookService } from "../payments/webhook-service";
import { webhookRoutes } from "./webhook-routes";

const secrets = { stripeWebhookSecret: "whsec_x", zaloPayKey2: "key2", payosChecksumKey: "payos" };
const logger = new Logger({ serviceName: "test", logLevel: "SILENT" });
/** These tests send no Stripe notice: a lookup would be a bug. */
const stripeLookup = () => {
  throw new Error("no Stripe lookup in these tests");
};

function zalopayBody() {
  const data = JSON.stringify({ app_trans_id: "251123_1", zp_trans_id: 42, amount: 1000 });
  return JSON.stringify({
    data,
    mac: createHmac("sha256", secrets.zaloPayKey2).update(data).digest("hex"),
    type: 1,
  });
}

describe("webhook replies when recording fails", () => {
  const failing = {
    record: async () => Promise.reject(new Error("DynamoDB is unavailable")),
  } as unknown as WebhookService;
  const app = webhookRoutes({ webhooks: () => failing, webhookSecrets: () => secrets, stripeLookup, logger });

  it("answers ZaloPay return_code 0 for a transient failure, so that ZaloPay calls back again", async () => {
    const response = await app.request("/zalopay", { method: "POST", body: zalopayBody() });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      return_code: 0,
      return_message: "temporarily unavailable, please retry",
    });
  });

  it("answers ZaloPay return_code -1 for a body that is not a callback at all", async () => {
    const response = await app.request("/zalopay", { method: "POST", body: "not json" });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ return_code: -1 });
  });
});

describe("webhook metrics, for the error-rate alarm", () => {
  it("counts every webhook received, and as an error a refusal or a ZaloPay 'call again'", async () => {
    const counted: Record<string, number> = {};
    const metrics = {
      addMetric: (name: string, _unit: unknown, value: number) => {
        counted[name] = (counted[name] ?? 0) + value;
      },
      publishStoredMetrics: () => undefined,
    } as unknown as Metrics;
    const failing = {
      record: async () => Promise.reject(new Error("DynamoDB is unavailable")),
    } as unknown as WebhookService;
    const recording = { record: async () => ({ kind: "recorded" }) } as unknown as WebhookService;
    let service = failing;
    const app = webhookRoutes({
      webhooks: () => service,
      webhookSecrets: () => secrets,
      stripeLookup,
      logger,
      metrics,
    });

    await app.request("/zalopay", { method: "POST", body: zalopayBody() });
    await app.request("/zalopay", { method: "POST", body: "not json" });
    await app.request("/payos", { method: "POST", body: "{}" });
    expect(counted).toEqual({ WebhooksReceived: 3, WebhookErrors: 3 });
    service = recording;
    const ok = await app.request("/zalopay", { method: "POST", body: zalopayBody() });
    expect(await ok.json()).toMatchObject({ return_code: 1 });
    expect(counted).toEqual({ WebhooksReceived: 4, WebhookErrors: 3 });
  });
});

describe("a verified notice the lifecycle could not apply", () => {
  it("is answered as received, and counted in ProviderNoticesUnapplied for its alarm", async () => {
    const counted: Record<string, number> = {};
    const metrics = {
      addMetric: (name: string, _unit: unknown, value: number) => {
        counted[name] = (counted[name] ?? 0) + value;
      },
      publishStoredMetrics: () => undefined,
    } as unknown as Metrics;
    const unapplied = {
      record: async () => ({ kind: "unapplied", paymentId: "pay_1", reason: "paid_after_end: canceled" }),
    } as unknown as WebhookService;
    const app = webhookRoutes({
      webhooks: () => unapplied,
      webhookSecrets: () => secrets,
      stripeLookup,
      logger,
      metrics,
    });
    const response = await app.request("/zalopay", { method: "POST", body: zalopayBody() });
    expect(await response.json()).toEqual({ return_code: 1, return_message: "success" });
    expect(counted).toEqual({ WebhooksReceived: 1, ProviderNoticesUnapplied: 1 });
  });
});
