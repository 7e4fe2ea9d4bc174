import { createHmac } from "node:crypto";
import { type EmulatorReply, type RunningEmulator, serveEmulator } from "./emulator-http";

/**
 * A local ZaloPay (merchant API v2), built from ZaloPay's documentation: `/v2/create`, `/v2/query`,
 * `/v2/refund` (asynchronous: answered 3, processing, then settled) and `/v2/query_refund`, each
 * with its mac checked (key1); paid orders call the service back with ZaloPay's callback (data,
 * mac over it with key2, type 1). It keeps a ledger of orders, payments and refunds.
 *
 * Not ZaloPay's: `POST /_emulator/pay {reference, amount?, deliver?}` pays an order (its
 * `app_trans_id`; an unknown one is created with `amount`) and, unless `deliver` is false, sends
 * the callback; `GET /_emulator/ledger`.
 */
export interface ZaloPayEmulatorOptions {
  readonly appId: number;
  readonly key1: string;
  readonly key2: string;
  /** Where paid callbacks go: the service's `/webhooks/zalopay`. */
  readonly callbackUrl?: string;
  readonly port?: number;
  /** How many `query_refund` answers say "processing" before a refund succeeds (default 1). */
  readonly refundProcessingPolls?: number;
}

export interface ZaloPayLedger {
  readonly orders: ReadonlyArray<{
    readonly appTransId: string;
    readonly amount: number;
    readonly payments: ReadonlyArray<{ readonly zpTransId: string; readonly amount: number }>;
  }>;
  readonly refunds: ReadonlyArray<{
    readonly mRefundId: string;
    readonly zpTransId: string;
    readonly amount: number;
    readonly status: "processing" | "success" | "failed";
  }>;
}

export interface ZaloPayEmulator extends RunningEmulator {
  pay(input: { reference: string; amount?: number; deliver?: boolean }): Promise<PayResult>;
  ledger(): ZaloPayLedger;
  setRefundProcessingPolls(polls: number): void;
}

export interface PayResult {
  readonly status: number;
  readonly zpTransId?: string;
  readonly amount?: number;
  readonly callback?: Record<string, unknown>;
  /** The service's HTTP status for the callback, when it was delivered. */
  readonly delivered?: number;
  readonly error?: string;
}

const hmac = (key: string, input: string) => createHmac("sha256", key).update(input, "utf8").digest("hex");
const ok = (body: Record<string, unknown>): EmulatorReply => ({ status: 200, body });
/** ZaloPay answers HTTP 200 with its own codes; 2 is "failed", with a sub code saying why. */
const failed = (sub: number, message: string) =>
  ok({
    return_code: 2,
    return_message: "Giao dịch thất bại",
    sub_return_code: sub,
    sub_return_message: message,
  });

export async function startZaloPayEmulator(options: ZaloPayEmulatorOptions): Promise<ZaloPayEmulator> {
  const orders = new Map<
    string,
    {
      amount: number;
      appUser: string;
      appTime: number;
      payments: Array<{ zpTransId: string; amount: number }>;
    }
  >();
  const refunds = new Map<
    string,
    { zpTransId: string; amount: number; status: "processing" | "success" | "failed"; pollsLeft: number }
  >();
  let refundPolls = options.refundProcessingPolls ?? 1;
  let nextTransId = Number(`${new Date().toISOString().slice(2, 10).replaceAll("-", "")}000001`);
  const appIdOk = (value: unknown) => Number(value) === options.appId;
  const paymentOf = (zpTransId: string) => {
    for (const [appTransId, order] of orders) {
      const payment = order.payments.find((p) => p.zpTransId === zpTransId);
      if (payment) return { appTransId, order, payment };
    }
    return undefined;
  };
  /** Today's date in Vietnam (GMT+7), as `m_refund_id` must start with it. */
  const vietnamDate = () =>
    new Date(Date.now() + 7 * 3600_000).toISOString().slice(2, 10).replaceAll("-", "");

  const emulator = await serveEmulator(options.port, async ({ method, path, body }) => {
    const s = (key: string) => (body[key] === undefined ? "" : String(body[key]));
    if (method === "POST" && path === "/v2/create") {
      const input = [
        s("app_id"),
        s("app_trans_id"),
        s("app_user"),
        s("amount"),
        s("app_time"),
        s("embed_data"),
        s("item"),
      ].join("|");
      if (!appIdOk(body.app_id) || s("mac") !== hmac(options.key1, input))
        return failed(-402, "mac not valid");
      if (orders.has(s("app_trans_id"))) return failed(-68, "app_trans_id is duplicated");
      orders.set(s("app_trans_id"), {
        amount: Number(s("amount")),
        appUser: s("app_user"),
        appTime: Number(s("app_time")),
        payments: [],
      });
      return ok({
        return_code: 1,
        return_message: "Giao dịch thành công",
        sub_return_code: 1,
        order_url: `${emulator.url}/_emulator/checkout/${encodeURIComponent(s("app_trans_id"))}`,
        zp_trans_token: `ACemulator${s("app_trans_id")}`,
      });
    }
    if (method === "POST" && path === "/v2/query") {
      const input = `${s("app_id")}|${s("app_trans_id")}|${options.key1}`;
      if (!appIdOk(body.app_id) || s("mac") !== hmac(options.key1, input))
        return failed(-402, "mac not valid");
      const order = orders.get(s("app_trans_id"));
      if (!order) return failed(-92, "order not found");
      const last = order.payments.at(-1);
      if (!last)
        return ok({
          return_code: 3,
          return_message: "Giao dịch chưa thanh toán",
          sub_return_code: -49,
          is_processing: false,
          amount: 0,
        });
      return ok({
        return_code: 1,
        return_message: "Giao dịch thành công",
        sub_return_code: 1,
        is_processing: false,
        amount: order.payments.reduce((sum, p) => sum + p.amount, 0),
        discount_amount: 0,
        zp_trans_id: Number(last.zpTransId),
        server_time: Date.now(),
      });
    }
    if (method === "POST" && path === "/v2/refund") {
      const input = `${s("app_id")}|${s("zp_trans_id")}|${s("amount")}|${s("description")}|${s("timestamp")}`;
      if (!appIdOk(body.app_id) || s("mac") !== hmac(options.key1, input))
        return failed(-402, "mac not valid");
      const mRefundId = s("m_refund_id");
      const existing = refunds.get(mRefundId);
      if (existing)
        return ok({
          return_code: existing.status === "success" ? 1 : existing.status === "failed" ? 2 : 3,
          return_message: "",
          refund_id: mRefundId,
        });
      if (!mRefundId.startsWith(`${vietnamDate()}_${options.appId}_`))
        return failed(-13, "m_refund_id must be yymmdd_appid_xxx, today's date in GMT+7");
      const paid = paymentOf(s("zp_trans_id"));
      if (!paid) return failed(-101, "zp_trans_id not found");
      const amount = Number(s("amount"));
      const refunded = [...refunds.values()]
        .filter((r) => r.zpTransId === s("zp_trans_id") && r.status !== "failed")
        .reduce((sum, r) => sum + r.amount, 0);
      if (!Number.isSafeInteger(amount) || amount <= 0 || amount > paid.payment.amount - refunded)
        return failed(-18, "refund amount is more than the refundable amount");
      refunds.set(mRefundId, {
        zpTransId: s("zp_trans_id"),
        amount,
        status: "processing",
        pollsLeft: refundPolls,
      });
      return ok({
        return_code: 3,
        return_message: "Giao dịch đang xử lý",
        sub_return_code: 3,
        refund_id: Date.now(),
      });
    }
    if (method === "POST" && path === "/v2/query_refund") {
      const input = `${s("app_id")}|${s("m_refund_id")}|${s("timestamp")}`;
      if (!appIdOk(body.app_id) || s("mac") !== hmac(options.key1, input))
        return failed(-402, "mac not valid");
      const refund = refunds.get(s("m_refund_id"));
      if (!refund) return failed(-101, "m_refund_id not found");
      if (refund.status === "processing" && refund.pollsLeft > 0) {
        refund.pollsLeft -= 1;
        return ok({ return_code: 3, return_message: "Giao dịch đang xử lý", sub_return_code: 3 });
      }
      if (refund.status === "processing") refund.status = "success";
      return refund.status === "success"
        ? ok({ return_code: 1, return_message: "Giao dịch thành công", sub_return_code: 1 })
        : failed(-1, "refund failed");
    }
    if (method === "POST" && path === "/_emulator/pay") {
      const result = await pay({
        reference: s("reference"),
        amount: body.amount === undefined ? undefined : Number(body.amount),
        deliver: body.deliver === undefined ? undefined : body.deliver === true || body.deliver === "true",
      });
      return { status: result.status, body: result };
    }
    if (method === "GET" && path === "/_emulator/ledger")
      return ok(ledger() as unknown as Record<string, unknown>);
    return { status: 404, body: { error: `${method} ${path} is not a ZaloPay API this emulator serves` } };
  });

  async function pay(input: { reference: string; amount?: number; deliver?: boolean }): Promise<PayResult> {
    let order = orders.get(input.reference);
    if (!order) {
      if (input.amount === undefined)
        return { status: 404, error: `no order ${input.reference}: give an amount` };
      order = { amount: input.amount, appUser: "emulator", appTime: Date.now(), payments: [] };
      orders.set(input.reference, order);
    }
    const amount = input.amount ?? order.amount;
    const zpTransId = String(nextTransId++);
    order.payments.push({ zpTransId, amount });
    const data = JSON.stringify({
      app_id: options.appId,
      app_trans_id: input.reference,
      app_time: order.appTime,
      app_user: order.appUser,
      amount,
      embed_data: "{}",
      item: "[]",
      zp_trans_id: Number(zpTransId),
      server_time: Date.now(),
      channel: 38,
      merchant_user_id: "emulator",
      user_fee_amount: 0,
      discount_amount: 0,
    });
    const callback = { data, mac: hmac(options.key2, data), type: 1 };
    if (input.deliver === false || !options.callbackUrl) return { status: 200, zpTransId, amount, callback };
    const response = await fetch(options.callbackUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(callback),
    });
    await response.arrayBuffer();
    return { status: 200, zpTransId, amount, callback, delivered: response.status };
  }

  function ledger(): ZaloPayLedger {
    return {
      orders: [...orders].map(([appTransId, o]) => ({
        appTransId,
        amount: o.amount,
        payments: [...o.payments],
      })),
      refunds: [...refunds].map(([mRefundId, r]) => ({
        mRefundId,
        zpTransId: r.zpTransId,
        amount: r.amount,
        status: r.status,
      })),
    };
  }

  return {
    ...emulator,
    pay,
    ledger,
    setRefundProcessingPolls(polls) {
      refundPolls = polls;
    },
  };
}
