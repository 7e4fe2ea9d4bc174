import { createHmac, randomUUID } from "node:crypto";
import { createPayOSClient, PayOSRequestError } from "@payments/adapters/payos";
import { verifyPayosSignature } from "@payments/adapters/webhooks";
import { createZaloPayClient, mRefundId } from "@payments/adapters/zalopay";
import { GatewayUnavailableError } from "@payments/core";
import {
  type PayOSEmulator,
  startPayOSEmulator,
  startZaloPayEmulator,
  type ZaloPayEmulator,
} from "@payments/local";
import { PayOS } from "@payos/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The provider clients against the local emulators, and the emulators against what the providers
 * publish: ZaloPay's mac inputs as its documentation writes them (computed here, not by our
 * client), and PayOS's own Node SDK, which signs the requests and checks every answer's signature.
 */
const zalo = { appId: 2553, key1: "emulator-key1", key2: "emulator-key2" };
const payosKeys = { clientId: "client-1", apiKey: "api-key-1", checksumKey: "checksum-1" };
let zalopay: ZaloPayEmulator;
let payos: PayOSEmulator;

beforeAll(async () => {
  zalopay = await startZaloPayEmulator(zalo);
  payos = await startPayOSEmulator(payosKeys);
});
afterAll(async () => {
  await zalopay.stop();
  await payos.stop();
});

const hmac = (key: string, input: string) => createHmac("sha256", key).update(input).digest("hex");

describe("m_refund_id", () => {
  it("starts with the date in Vietnam (GMT+7), then the app id, as ZaloPay requires", () => {
    expect(mRefundId(new Date("2026-12-04T16:59:59Z"), 2553, "rfd_01AB")).toBe("261204_2553_rfd01AB");
    expect(mRefundId(new Date("2026-12-04T17:00:00Z"), 2553, "rfd_01AB")).toBe("261205_2553_rfd01AB");
  });
});

describe("the ZaloPay emulator and client", () => {
  const client = () => createZaloPayClient({ endpoint: zalopay.url, ...zalo });
  const createOrder = async (appTransId: string, amount: number) => {
    const order = {
      app_id: zalo.appId,
      app_trans_id: appTransId,
      app_user: "u1",
      amount,
      app_time: Date.now(),
      embed_data: "{}",
      item: "[]",
    };
    const mac = hmac(
      zalo.key1,
      [
        order.app_id,
        order.app_trans_id,
        order.app_user,
        order.amount,
        order.app_time,
        order.embed_data,
        order.item,
      ].join("|"),
    );
    const response = await fetch(`${zalopay.url}/v2/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...order, description: "order", bank_code: "", mac }),
    });
    return (await response.json()) as { return_code: number };
  };

  it("creates an order with the documented mac, answers 3 until it is paid, then 1 with the amount", async () => {
    const appTransId = `261204_${randomUUID().slice(0, 8)}`;
    expect(await createOrder(appTransId, 50_000)).toMatchObject({ return_code: 1 });
    expect(await client().query(appTransId)).toMatchObject({ returnCode: 3 });
    const paid = await zalopay.pay({ reference: appTransId, deliver: false });
    expect(await client().query(appTransId)).toMatchObject({
      returnCode: 1,
      amount: 50_000,
      zpTransId: paid.zpTransId,
    });
    // The callback it would send is signed with key2 over the data string, as ZaloPay signs it.
    expect(paid.callback!.mac).toBe(hmac(zalo.key2, paid.callback!.data as string));
  });

  it("refuses a request whose mac is not ZaloPay's, with return code 2", async () => {
    const wrong = createZaloPayClient({ endpoint: zalopay.url, ...zalo, key1: "not-key1" });
    expect(await wrong.query("261204_x")).toMatchObject({ returnCode: 2, subReturnCode: -402 });
  });

  it("refunds asynchronously: 3 on the refund, 'processing' twice from query_refund, then 1", async () => {
    const appTransId = `261204_${randomUUID().slice(0, 8)}`;
    const paid = await zalopay.pay({ reference: appTransId, amount: 80_000, deliver: false });
    zalopay.setRefundProcessingPolls(2);
    const id = mRefundId(new Date(), zalo.appId, randomUUID());
    const refund = { mRefundId: id, zpTransId: paid.zpTransId!, amount: 30_000, description: "refund" };
    expect(await client().refund(refund)).toMatchObject({ returnCode: 3 });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await client().queryRefund(id)).returnCode);
    expect(answers).toEqual([3, 3, 1]);
    expect(zalopay.ledger().refunds.find((r) => r.mRefundId === id)).toMatchObject({
      amount: 30_000,
      status: "success",
    });
    // More than what is left to refund is refused.
    const tooMuch = { ...refund, mRefundId: mRefundId(new Date(), zalo.appId, randomUUID()), amount: 50_001 };
    expect(await client().refund(tooMuch)).toMatchObject({ returnCode: 2 });
    zalopay.setRefundProcessingPolls(1);
  });

  it("answers an injected outage, and the client calls it unavailability: the fault fired", async () => {
    const before = zalopay.faultsFired();
    zalopay.injectFaults([{ pathIncludes: "/v2/query", respond: 503, times: 1 }]);
    await expect(client().query("261204_down")).rejects.toBeInstanceOf(GatewayUnavailableError);
    expect(zalopay.faultsFired()).toBe(before + 1);
  });
});

describe("the PayOS emulator, driven by PayOS's own SDK", () => {
  const sdk = () => new PayOS({ ...payosKeys, baseURL: payos.url, maxRetries: 0 });

  it("creates, reads and cancels a payment link, every answer's signature checked by the SDK", async () => {
    const orderCode = Math.floor(Math.random() * 1e9);
    const created = await sdk().paymentRequests.create({
      orderCode,
      amount: 30_000,
      description: `DH${orderCode}`.slice(0, 9),
      cancelUrl: "https://shop.example/cancel",
      returnUrl: "https://shop.example/return",
    });
    expect(created).toMatchObject({ orderCode, amount: 30_000, status: "PENDING" });
    expect(await sdk().paymentRequests.get(orderCode)).toMatchObject({
      id: created.paymentLinkId,
      amountPaid: 0,
    });
    const ours = createPayOSClient({ endpoint: payos.url, ...payosKeys });
    expect(await ours.cancel(orderCode, "customer left")).toMatchObject({ status: "CANCELLED" });
    expect(await ours.get(orderCode)).toMatchObject({ status: "CANCELLED" });
  });

  it("sends a webhook that the SDK's webhooks.verify and our check both accept", async () => {
    const orderCode = Math.floor(Math.random() * 1e9);
    const paid = await payos.pay({ reference: String(orderCode), amount: 10_000, deliver: false });
    const webhook = paid.webhook as { data: Record<string, unknown>; signature: string };
    expect(await sdk().webhooks.verify(webhook as never)).toMatchObject({
      orderCode,
      amount: 10_000,
      code: "00",
    });
    expect(verifyPayosSignature(webhook.data, webhook.signature, payosKeys.checksumKey)).toBe(true);
    expect(await createPayOSClient({ endpoint: payos.url, ...payosKeys }).get(orderCode)).toMatchObject({
      amountPaid: 10_000,
      status: "PAID",
    });
  });

  it("refuses a wrong API key, and an unknown link is PayOS's refusal, not an outage", async () => {
    const wrong = createPayOSClient({ endpoint: payos.url, ...payosKeys, apiKey: "nope" });
    await expect(wrong.get(1)).rejects.toBeInstanceOf(PayOSRequestError);
    await expect(
      createPayOSClient({ endpoint: payos.url, ...payosKeys }).get(999_999_999_999),
    ).rejects.toBeInstanceOf(PayOSRequestError);
  });
});
