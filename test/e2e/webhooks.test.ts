import { createHmac, randomUUID } from "node:crypto";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import { payosSignature } from "@payments/adapters/webhooks";
import { foldPaymentView } from "@payments/core";
import { type LocalStack, linkedEnvironment, type StripeProxy, startStripeProxy } from "@payments/local";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureConsole, silenceConsole } from "../helpers/output";
import { stackClients, testStack } from "../helpers/stack";

const stack: LocalStack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const secrets = stack.secretValues;
let proxy: StripeProxy;
let app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
let token: string;
let restoreConsole: () => void;

beforeAll(async () => {
  restoreConsole = silenceConsole();
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_DEV: "true",
  });
  ({ app } = await import("@payments/functions/api"));
  const { issueToken } = await import("@payments/functions/api/auth");
  token = await issueToken(secrets.JwtSecret);
});
afterAll(async () => {
  restoreConsole();
  await proxy.stop();
  for (const client of Object.values(clients)) client.destroy();
});

async function api(method: string, path: string, body?: unknown) {
  const response = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}
async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const viewOf = async (paymentId: string) => foldPaymentView(await store.load(paymentId));
const typesOf = async (paymentId: string) => (await store.load(paymentId)).map((e) => e.type);

function stripeEvent(type: string, object: Record<string, unknown>, id = `evt_${randomUUID().slice(0, 12)}`) {
  const payload = JSON.stringify({
    id,
    object: "event",
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  });
  return {
    payload,
    header: Stripe.webhooks.generateTestHeaderString({ payload, secret: secrets.StripeWebhookSecret }),
  };
}
const zalopay = (data: Record<string, unknown>, key2 = secrets.ZaloPayKey2) => {
  const text = JSON.stringify(data);
  return JSON.stringify({ data: text, mac: createHmac("sha256", key2).update(text).digest("hex"), type: 1 });
};
const payos = (data: Record<string, unknown>, key = secrets.PayOSChecksumKey) =>
  JSON.stringify({ code: "00", desc: "success", success: true, data, signature: payosSignature(data, key) });

describe("Stripe webhooks", () => {
  it("captures a held payment on payment_intent.succeeded, once however often it is delivered", async () => {
    const held = await api("POST", "/payments", {
      orderId: `ord-${randomUUID()}`,
      amount: 5_000,
      currency: "usd",
      paymentMethodId: "pm_card_visa",
      captureMethod: "manual",
    });
    const id = held.paymentId as string;
    const event = stripeEvent("payment_intent.succeeded", {
      id: held.gatewayPaymentId,
      object: "payment_intent",
      amount: 5_000,
      amount_received: 5_000,
      currency: "usd",
      metadata: { paymentId: id },
    });
    for (let i = 0; i < 3; i++) {
      const response = await post("/webhooks/stripe", event.payload, { "stripe-signature": event.header });
      expect(response.status).toBe(200);
    }
    expect((await typesOf(id)).filter((t) => t === "PaymentCaptured")).toHaveLength(1);
    expect(await viewOf(id)).toMatchObject({ status: "captured", amountCaptured: 5_000 });
  });

  it("adds nothing for the echo of our own refund, and records a refund made at Stripe's dashboard", async () => {
    const paid = await api("POST", "/payments", {
      orderId: `ord-${randomUUID()}`,
      amount: 8_000,
      currency: "usd",
      paymentMethodId: "pm_card_visa",
    });
    const id = paid.paymentId as string;
    await api("POST", `/payments/${id}/refund`, { amount: 1_000 });
    const refunded = (await store.load(id)).find((e) => e.type === "PaymentRefunded");
    expect(refunded).toBeDefined();
    const { refundId } = refunded!.data as { refundId: string };
    const echo = stripeEvent("charge.refunded", {
      id: "ch_1",
      object: "charge",
      payment_intent: paid.gatewayPaymentId,
      amount: 8_000,
      currency: "usd",
      metadata: { paymentId: id },
      refunds: {
        data: [
          { id: "re_ours", amount: 1_000, status: "succeeded", metadata: { refundId } },
          { id: "re_dashboard", amount: 2_000, status: "succeeded", metadata: {} },
        ],
      },
    });
    expect((await post("/webhook/stripe", echo.payload, { "stripe-signature": echo.header })).status).toBe(
      200,
    );
    expect(await viewOf(id)).toMatchObject({ status: "partially_refunded", amountRefunded: 3_000 });
    expect((await typesOf(id)).filter((t) => t === "PaymentRefunded")).toHaveLength(2);
  });

  it("refuses a tampered signature or a stale timestamp with 401, appends nothing, and logs no secret", async () => {
    const held = await api("POST", "/payments", {
      orderId: `ord-${randomUUID()}`,
      amount: 5_000,
      currency: "usd",
      paymentMethodId: "pm_card_visa",
      captureMethod: "manual",
    });
    const id = held.paymentId as string;
    const object = {
      id: held.gatewayPaymentId,
      amount_received: 5_000,
      currency: "usd",
      metadata: { paymentId: id },
    };
    const good = stripeEvent("payment_intent.succeeded", object);
    const payload = good.payload;
    const stale = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: secrets.StripeWebhookSecret,
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    const before = (await store.load(id)).length;
    const { result, lines } = await captureConsole(async () => [
      await post("/webhooks/stripe", payload.replace("5000", "9000"), { "stripe-signature": good.header }),
      await post("/webhooks/stripe", payload, { "stripe-signature": stale }),
      await post("/webhooks/stripe", payload, {
        "stripe-signature": good.header.replace(/v1=(.)/, (_, c: string) => `v1=${c === "0" ? "1" : "0"}`),
      }),
      await post("/webhooks/stripe", payload, {}),
    ]);
    for (const response of result)
      expect(response).toMatchObject({ status: 401, body: { type: "/problems/bad-signature" } });
    expect((await store.load(id)).length).toBe(before);
    const text = lines.join("\n");
    expect(text).not.toContain(secrets.StripeWebhookSecret);
    expect(text).toContain("stripe webhook refused");
  });

  it("creates an unmatched payment for a verified event that names no payment, flagged for reconciliation", async () => {
    const pi = `pi_${randomUUID().slice(0, 12)}`;
    const event = stripeEvent("payment_intent.succeeded", {
      id: pi,
      amount_received: 4_200,
      currency: "eur",
      metadata: {},
    });
    expect((await post("/webhooks/stripe", event.payload, { "stripe-signature": event.header })).status).toBe(
      200,
    );
    const paymentId = await store.findOwner({ kind: "orderId", value: `unmatched:stripe:${pi}` });
    expect(await viewOf(paymentId!)).toMatchObject({
      orderId: `unmatched:stripe:${pi}`,
      status: "captured",
      amountCaptured: 4_200,
      currency: "eur",
      flags: ["unmatched"],
    });
  });
});

describe("ZaloPay callbacks", () => {
  const zaloPayment = async (amount = 100_000) => {
    const reference = `251123_${randomUUID().slice(0, 10)}`;
    const created = await api("POST", "/payments", {
      orderId: `ord-${randomUUID()}`,
      amount,
      currency: "vnd",
      provider: "zalopay",
      providerReference: reference,
    });
    return { id: created.paymentId as string, reference };
  };

  it("captures the notified amount, answers return_code 1, and appends once for a replayed callback", async () => {
    const { id, reference } = await zaloPayment();
    const body = zalopay({
      app_trans_id: reference,
      zp_trans_id: Date.now(),
      amount: 100_000,
      app_id: 2553,
      extra: "providers add fields",
    });
    for (let i = 0; i < 2; i++) {
      expect(await post("/webhooks/zalopay", body)).toMatchObject({
        status: 200,
        body: { return_code: 1, return_message: "success" },
      });
    }
    expect(await typesOf(id)).toEqual(["PaymentInitiated", "PaymentAuthorized", "PaymentCaptured"]);
    expect(await viewOf(id)).toMatchObject({ status: "captured", amountCaptured: 100_000, flags: [] });
  });

  it("records a different amount as received and flags amount_mismatch, never as paid in full", async () => {
    const { id, reference } = await zaloPayment(100_000);
    await post(
      "/webhook/zalopay",
      zalopay({ app_trans_id: reference, zp_trans_id: Date.now(), amount: 90_000 }),
    );
    expect(await viewOf(id)).toMatchObject({
      status: "captured",
      amountCaptured: 90_000,
      flags: ["amount_mismatch"],
    });
  });

  it("refuses a bad mac in ZaloPay's own format, with nothing appended", async () => {
    const { id, reference } = await zaloPayment();
    const response = await post(
      "/webhooks/zalopay",
      zalopay({ app_trans_id: reference, zp_trans_id: Date.now(), amount: 100_000 }, "not-the-key2"),
    );
    expect(response).toMatchObject({ status: 401, body: { return_code: -1 } });
    expect(await typesOf(id)).toEqual(["PaymentInitiated"]);
  });

  it("creates an unmatched payment for an unknown app_trans_id", async () => {
    const reference = `251123_unknown_${randomUUID().slice(0, 6)}`;
    await post(
      "/webhooks/zalopay",
      zalopay({ app_trans_id: reference, zp_trans_id: Date.now(), amount: 55_000 }),
    );
    const paymentId = await store.findOwner({ kind: "orderId", value: `unmatched:zalopay:${reference}` });
    expect(await viewOf(paymentId!)).toMatchObject({
      status: "captured",
      amountCaptured: 55_000,
      currency: "vnd",
      flags: ["unmatched"],
    });
  });
});

describe("PayOS webhooks", () => {
  it("captures on code 00, answers success, appends once, and refuses a bad signature", async () => {
    const orderCode = Math.floor(Math.random() * 1e9);
    const created = await api("POST", "/payments", {
      orderId: `ord-${randomUUID()}`,
      amount: 3_000,
      currency: "vnd",
      provider: "payos",
      providerReference: String(orderCode),
    });
    const data = {
      orderCode,
      amount: 3_000,
      description: "VQRIO123",
      reference: `TF${Date.now()}`,
      transactionDateTime: "2026-11-23 10:25:00",
      currency: "VND",
      paymentLinkId: randomUUID().replaceAll("-", ""),
      code: "00",
      desc: "Thành công",
      counterAccountName: null,
    };
    expect(await post("/webhooks/payos", payos(data, "wrong-key"))).toMatchObject({ status: 401 });
    for (let i = 0; i < 2; i++) {
      expect(await post("/webhooks/payos", payos(data))).toMatchObject({
        status: 200,
        body: { success: true },
      });
    }
    expect(await typesOf(created.paymentId as string)).toEqual([
      "PaymentInitiated",
      "PaymentAuthorized",
      "PaymentCaptured",
    ]);
  });
});
