import { createHmac } from "node:crypto";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  payosQueryString,
  payosSignature,
  verifyPayosSignature,
  verifyStripeSignature,
  verifyZaloPayMac,
  WebhookSignatureError,
} from "./signatures";

describe("PayOS signatures", () => {
  // PayOS's documented example ("kiểm tra dữ liệu với signature"): its checksum key, data and signature.
  const key = "1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675";
  const signature = "412e915d2871504ed31be63c8f62a149a4410d34c4c42affc9006ef9917eaa03";
  const data = () => ({
    orderCode: 123,
    amount: 3000,
    description: "VQRIO123",
    accountNumber: "12345678",
    reference: "TF230204212323",
    transactionDateTime: "2023-02-04 18:25:00",
    currency: "VND",
    paymentLinkId: "124c33293c43417ab7879e14c8d9eb18",
    code: "00",
    desc: "Thành công",
    counterAccountBankId: "",
    counterAccountBankName: "",
    counterAccountName: "",
    counterAccountNumber: "",
    virtualAccountName: "",
    virtualAccountNumber: "",
  });

  it("reproduces PayOS's published example signature", () => {
    expect(payosSignature(data(), key)).toBe(signature);
    expect(verifyPayosSignature(data(), signature, key)).toBe(true);
    expect(verifyPayosSignature(data(), signature.toUpperCase(), key)).toBe(true);
  });

  it("refuses the example with one field changed, another key, or a malformed signature", () => {
    expect(verifyPayosSignature({ ...data(), amount: 3001 }, signature, key)).toBe(false);
    expect(verifyPayosSignature(data(), signature, "another-key")).toBe(false);
    for (const bad of ["", "zz", signature.slice(0, 20), `${signature}00`]) {
      expect(verifyPayosSignature(data(), bad, key)).toBe(false);
    }
  });

  it("writes null as empty and objects as JSON with sorted keys, unencoded", () => {
    expect(payosQueryString({ b: null, a: { z: 1, y: [2, { d: 1, c: 2 }] }, c: "x y&z" })).toBe(
      'a={"y":[2,{"c":2,"d":1}],"z":1}&b=&c=x y&z',
    );
  });
});

describe("ZaloPay macs", () => {
  // ZaloPay's sandbox key2 as its documentation publishes it; the mac is computed independently here.
  const key2 = "kLtgPl8HHhfvMuDHPwKfgfsY4Ydm9eIz";
  const data =
    '{"app_id":2553,"app_trans_id":"190613_2553_1","app_time":1560417022003,"app_user":"user123","amount":50000,"embed_data":"{}","item":"[]","zp_trans_id":190613000002022,"server_time":1560417022003,"channel":38,"merchant_user_id":"user123","user_fee_amount":0,"discount_amount":0}';
  const mac = createHmac("sha256", key2).update(data).digest("hex");

  it("verifies the mac over the data string exactly as received", () => {
    expect(verifyZaloPayMac(data, mac, key2)).toBe(true);
    // Re-serialising the data (another spacing) is not the data that was signed.
    expect(verifyZaloPayMac(JSON.stringify(JSON.parse(data), null, 1), mac, key2)).toBe(false);
    expect(verifyZaloPayMac(data.replace("50000", "50001"), mac, key2)).toBe(false);
    expect(verifyZaloPayMac(data, mac, "another-key2")).toBe(false);
  });
});

describe("Stripe signatures", () => {
  const secret = "whsec_test_secret";
  const payload = JSON.stringify({
    id: "evt_1",
    object: "event",
    type: "payment_intent.succeeded",
    data: { object: {} },
  });

  it("accepts a header made by stripe-node's generateTestHeaderString, with any v1 matching", () => {
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    expect(verifyStripeSignature(payload, header, secret).id).toBe("evt_1");
    const [t, v1] = header.split(",");
    expect(verifyStripeSignature(payload, `${t},v1=${"0".repeat(64)},${v1}`, secret).id).toBe("evt_1");
  });

  it("refuses a tampered body, another secret, a missing header, and a timestamp over 300 s old", () => {
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    expect(() => verifyStripeSignature(payload.replace("evt_1", "evt_2"), header, secret)).toThrow(
      WebhookSignatureError,
    );
    expect(() => verifyStripeSignature(payload, header, "whsec_other")).toThrow(WebhookSignatureError);
    expect(() => verifyStripeSignature(payload, undefined, secret)).toThrow(WebhookSignatureError);
    const stale = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret,
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    expect(() => verifyStripeSignature(payload, stale, secret)).toThrow(WebhookSignatureError);
    const fine = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret,
      timestamp: Math.floor(Date.now() / 1000) - 299,
    });
    expect(verifyStripeSignature(payload, fine, secret).id).toBe("evt_1");
  });
});
