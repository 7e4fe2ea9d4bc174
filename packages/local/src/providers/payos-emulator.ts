import { createHmac, randomBytes } from "node:crypto";
import { payosSignature } from "@payments/adapters/webhooks";
import { type EmulatorReply, type RunningEmulator, serveEmulator } from "./emulator-http";

/**
 * A local PayOS (payment requests API v2), built from PayOS's documentation and the types of its
 * own Node SDK: `POST /v2/payment-requests` (the request's signature checked), `GET
 * /v2/payment-requests/{id}` and `POST /v2/payment-requests/{id}/cancel`, by order code or link
 * id, with `x-client-id` and `x-api-key` checked and every answer's `data` signed with the checksum
 * key, as the SDK checks it. Payments call the service back with PayOS's webhook.
 *
 * Not PayOS's: `POST /_emulator/pay {reference, amount?, deliver?}` pays a link (its order code;
 * an unknown one is created with `amount`), even a canceled one (a transfer that arrives anyway),
 * and, unless `deliver` is false, sends the webhook; `GET /_emulator/ledger`.
 */
export interface PayOSEmulatorOptions {
  readonly clientId: string;
  readonly apiKey: string;
  readonly checksumKey: string;
  /** Where payment webhooks go: the service's `/webhooks/payos`. */
  readonly webhookUrl?: string;
  readonly port?: number;
}

interface Link {
  id: string;
  orderCode: number;
  amount: number;
  description: string;
  amountPaid: number;
  status: "PENDING" | "CANCELLED" | "UNDERPAID" | "PAID";
  createdAt: string;
  canceledAt: string | null;
  cancellationReason: string | null;
  transactions: Array<Record<string, unknown>>;
}

export interface PayOSEmulator extends RunningEmulator {
  pay(input: { reference: string; amount?: number; deliver?: boolean }): Promise<{
    readonly status: number;
    readonly webhook?: Record<string, unknown>;
    readonly delivered?: number;
    readonly error?: string;
  }>;
  ledger(): { readonly links: readonly Link[] };
}

export async function startPayOSEmulator(options: PayOSEmulatorOptions): Promise<PayOSEmulator> {
  const links = new Map<number, Link>();
  const signed = (data: Record<string, unknown>): EmulatorReply => ({
    status: 200,
    body: { code: "00", desc: "success", data, signature: payosSignature(data, options.checksumKey) },
  });
  /** PayOS's error answer: HTTP 200 or 4xx with its own code, and no data. */
  const error = (status: number, code: string, desc: string): EmulatorReply => ({
    status,
    body: { code, desc, data: null },
  });
  const find = (id: string) =>
    /^\d+$/.test(id) ? links.get(Number(id)) : [...links.values()].find((l) => l.id === id);
  const view = (l: Link) => ({
    id: l.id,
    orderCode: l.orderCode,
    amount: l.amount,
    amountPaid: l.amountPaid,
    amountRemaining: Math.max(0, l.amount - l.amountPaid),
    status: l.status,
    createdAt: l.createdAt,
    transactions: l.transactions,
    cancellationReason: l.cancellationReason,
    canceledAt: l.canceledAt,
  });
  const create = (orderCode: number, amount: number, description: string): Link => {
    const link: Link = {
      id: randomBytes(16).toString("hex"),
      orderCode,
      amount,
      description,
      amountPaid: 0,
      status: "PENDING",
      createdAt: new Date().toISOString(),
      canceledAt: null,
      cancellationReason: null,
      transactions: [],
    };
    links.set(orderCode, link);
    return link;
  };

  const emulator = await serveEmulator(options.port, async ({ method, path, headers, body }) => {
    if (path.startsWith("/_emulator/")) {
      if (method === "POST" && path === "/_emulator/pay") {
        const result = await pay({
          reference: String(body.reference ?? ""),
          amount: body.amount === undefined ? undefined : Number(body.amount),
          deliver: body.deliver === undefined ? undefined : body.deliver === true,
        });
        return { status: result.status, body: result };
      }
      if (method === "GET" && path === "/_emulator/ledger") return { status: 200, body: ledger() };
    }
    if (headers["x-client-id"] !== options.clientId || headers["x-api-key"] !== options.apiKey)
      return error(401, "401", "Thông tin xác thực không hợp lệ (x-client-id, x-api-key)");
    if (method === "POST" && path === "/v2/payment-requests") {
      const { amount, cancelUrl, description, orderCode, returnUrl } = body as Record<
        string,
        string | number
      >;
      const expected = createHmac("sha256", options.checksumKey)
        .update(
          `amount=${amount}&cancelUrl=${cancelUrl}&description=${description}&orderCode=${orderCode}&returnUrl=${returnUrl}`,
        )
        .digest("hex");
      if (body.signature !== expected) return error(200, "201", "Chữ ký không hợp lệ");
      if (links.has(Number(orderCode))) return error(200, "231", "Đơn thanh toán đã tồn tại");
      const link = create(Number(orderCode), Number(amount), String(description));
      return signed({
        bin: "970422",
        accountNumber: "0123456789",
        accountName: "EMULATOR",
        amount: link.amount,
        description: link.description,
        orderCode: link.orderCode,
        currency: "VND",
        paymentLinkId: link.id,
        status: link.status,
        checkoutUrl: `${emulator.url}/_emulator/checkout/${link.id}`,
        qrCode: `emulator-qr-${link.id}`,
      });
    }
    const match = /^\/v2\/payment-requests\/([^/]+)(\/cancel)?$/.exec(path);
    if (match) {
      const link = find(decodeURIComponent(match[1]!));
      if (!link) return error(200, "101", "Không tìm thấy thông tin đơn thanh toán");
      if (method === "GET" && !match[2]) return signed(view(link));
      if (method === "POST" && match[2]) {
        if (link.status === "PAID")
          return error(200, "20", "Đơn thanh toán đã được thanh toán, không thể hủy");
        if (link.status !== "CANCELLED") {
          link.status = "CANCELLED";
          link.canceledAt = new Date().toISOString();
          link.cancellationReason =
            typeof body.cancellationReason === "string" ? body.cancellationReason : null;
        }
        return signed(view(link));
      }
    }
    return error(404, "404", `${method} ${path} is not a PayOS API this emulator serves`);
  });

  async function pay(input: { reference: string; amount?: number; deliver?: boolean }) {
    const orderCode = Number(input.reference);
    if (!Number.isSafeInteger(orderCode)) return { status: 400, error: "a PayOS reference is an order code" };
    let link = links.get(orderCode);
    if (!link) {
      if (input.amount === undefined) return { status: 404, error: `no link ${orderCode}: give an amount` };
      link = create(orderCode, input.amount, `DH${orderCode}`);
    }
    const amount = input.amount ?? link.amount - link.amountPaid;
    const reference = `FT${Date.now()}${randomBytes(3).toString("hex").toUpperCase()}`;
    const at = new Date(Date.now() + 7 * 3600_000).toISOString().replace("T", " ").slice(0, 19);
    link.transactions.push({
      reference,
      amount,
      accountNumber: "0123456789",
      description: link.description,
      transactionDateTime: at,
      virtualAccountName: null,
      virtualAccountNumber: null,
      counterAccountBankId: null,
      counterAccountBankName: null,
      counterAccountName: null,
      counterAccountNumber: null,
    });
    link.amountPaid += amount;
    if (link.status !== "CANCELLED") link.status = link.amountPaid >= link.amount ? "PAID" : "UNDERPAID";
    const data = {
      orderCode,
      amount,
      description: link.description,
      accountNumber: "0123456789",
      reference,
      transactionDateTime: at,
      currency: "VND",
      paymentLinkId: link.id,
      code: "00",
      desc: "success",
      counterAccountBankId: "",
      counterAccountBankName: "",
      counterAccountName: "",
      counterAccountNumber: "",
      virtualAccountName: "",
      virtualAccountNumber: "",
    };
    const webhook = {
      code: "00",
      desc: "success",
      success: true,
      data,
      signature: payosSignature(data, options.checksumKey),
    };
    if (input.deliver === false || !options.webhookUrl) return { status: 200, webhook };
    const response = await fetch(options.webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(webhook),
    });
    await response.arrayBuffer();
    return { status: 200, webhook, delivered: response.status };
  }

  const ledger = () => ({
    links: [...links.values()].map((l) => ({ ...l, transactions: [...l.transactions] })),
  });

  return { ...emulator, pay, ledger };
}
