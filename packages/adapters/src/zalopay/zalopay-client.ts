import { createHmac } from "node:crypto";
import { GatewayUnavailableError } from "@payments/core";

/**
 * ZaloPay's merchant API v2 (SPEC §4.5): order query, refund and refund query, each signed with
 * key1 as ZaloPay's documentation gives the mac input. Return codes: 1 success, 2 failed,
 * 3 processing (or, for an order, not paid yet).
 */
export interface ZaloPayClientOptions {
  /** ZALOPAY_ENDPOINT: `https://openapi.zalopay.vn` on AWS; the emulator's URL under `npm run dev`. */
  readonly endpoint: string;
  readonly appId: number;
  readonly key1: string;
  readonly timeoutMs?: number;
}

export interface ZaloPayOrderStatus {
  readonly returnCode: number;
  readonly returnMessage: string;
  readonly subReturnCode?: number;
  readonly isProcessing?: boolean;
  readonly amount?: number;
  readonly zpTransId?: string;
}

export interface ZaloPayRefundStatus {
  readonly returnCode: number;
  readonly returnMessage: string;
  readonly subReturnCode?: number;
  readonly refundId?: string;
}

const mac = (key: string, input: string) => createHmac("sha256", key).update(input, "utf8").digest("hex");

/** The mac inputs of ZaloPay's documentation, one per API. */
export const zaloPayMacInput = {
  query: (appId: number, appTransId: string, key1: string) => `${appId}|${appTransId}|${key1}`,
  refund: (appId: number, zpTransId: string, amount: number, description: string, timestamp: number) =>
    `${appId}|${zpTransId}|${amount}|${description}|${timestamp}`,
  queryRefund: (appId: number, mRefundId: string, timestamp: number) => `${appId}|${mRefundId}|${timestamp}`,
} as const;

/**
 * A refund's `m_refund_id`: `yymmdd_appid_<id>`, the date in GMT+7 (Vietnam's, which ZaloPay
 * reconciles by), of the day the refund was asked for.
 * @example mRefundId(new Date("2026-12-04T18:00:00Z"), 2553, "rfd1") // "261205_2553_rfd1"
 */
export function mRefundId(askedAt: Date, appId: number, id: string): string {
  const vietnam = new Date(askedAt.getTime() + 7 * 3600_000);
  const yymmdd = vietnam.toISOString().slice(2, 10).replaceAll("-", "");
  return `${yymmdd}_${appId}_${id.replace(/[^A-Za-z0-9]/g, "").slice(-30)}`;
}

export function createZaloPayClient(options: ZaloPayClientOptions) {
  const { endpoint, appId, key1 } = options;

  async function post(path: string, body: Record<string, string | number>): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(new URL(path, endpoint), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(
          Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]),
        ).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new GatewayUnavailableError(`ZaloPay did not answer ${path}: ${(error as Error).message}`);
    }
    if (response.status >= 500 || response.status === 429)
      throw new GatewayUnavailableError(`ZaloPay answered ${path} with ${response.status}`, response.status);
    const parsed = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!parsed || typeof parsed.return_code !== "number")
      throw new GatewayUnavailableError(
        `ZaloPay answered ${path} with no return_code (HTTP ${response.status})`,
      );
    return parsed;
  }
  const text = (v: unknown) =>
    typeof v === "string" ? v : v === undefined || v === null ? undefined : String(v);

  return {
    /** POST /v2/query: whether the order `app_trans_id` was paid, and how much. */
    async query(appTransId: string): Promise<ZaloPayOrderStatus> {
      const r = await post("/v2/query", {
        app_id: appId,
        app_trans_id: appTransId,
        mac: mac(key1, zaloPayMacInput.query(appId, appTransId, key1)),
      });
      return {
        returnCode: r.return_code as number,
        returnMessage: text(r.return_message) ?? "",
        subReturnCode: r.sub_return_code as number | undefined,
        isProcessing: r.is_processing as boolean | undefined,
        amount: typeof r.amount === "number" ? r.amount : undefined,
        zpTransId: text(r.zp_trans_id),
      };
    },
    /** POST /v2/refund: asks for a refund; ZaloPay answers 3 (processing) and settles it later. */
    async refund(input: {
      mRefundId: string;
      zpTransId: string;
      amount: number;
      description: string;
      timestamp?: number;
    }): Promise<ZaloPayRefundStatus> {
      const timestamp = input.timestamp ?? Date.now();
      const r = await post("/v2/refund", {
        app_id: appId,
        m_refund_id: input.mRefundId,
        zp_trans_id: input.zpTransId,
        amount: input.amount,
        timestamp,
        description: input.description,
        mac: mac(
          key1,
          zaloPayMacInput.refund(appId, input.zpTransId, input.amount, input.description, timestamp),
        ),
      });
      return {
        returnCode: r.return_code as number,
        returnMessage: text(r.return_message) ?? "",
        subReturnCode: r.sub_return_code as number | undefined,
        refundId: text(r.refund_id),
      };
    },
    /** POST /v2/query_refund: where the refund `m_refund_id` stands. */
    async queryRefund(mRefundIdValue: string): Promise<ZaloPayRefundStatus> {
      const timestamp = Date.now();
      const r = await post("/v2/query_refund", {
        app_id: appId,
        m_refund_id: mRefundIdValue,
        timestamp,
        mac: mac(key1, zaloPayMacInput.queryRefund(appId, mRefundIdValue, timestamp)),
      });
      return {
        returnCode: r.return_code as number,
        returnMessage: text(r.return_message) ?? "",
        subReturnCode: r.sub_return_code as number | undefined,
      };
    },
  };
}

export type ZaloPayClient = ReturnType<typeof createZaloPayClient>;
