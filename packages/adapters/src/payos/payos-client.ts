import { GatewayUnavailableError } from "@payments/core";
import { PayOS } from "@payos/node";

/** PayOS over its own Node SDK (SPEC §4.5): the SDK signs requests and checks the answers' signatures. */
export interface PayOSClientOptions {
  /** PAYOS_ENDPOINT: PayOS's own API on AWS; the emulator's URL under `npm run dev`. */
  readonly endpoint: string;
  readonly clientId: string;
  readonly apiKey: string;
  readonly checksumKey: string;
  readonly timeoutMs?: number;
}

export interface PayOSLink {
  readonly id: string;
  readonly orderCode: number;
  readonly amount: number;
  readonly amountPaid: number;
  readonly status: string;
  readonly transactions: ReadonlyArray<{ readonly reference: string; readonly amount: number }>;
}

/** PayOS refused the request itself (not an outage): its code and description. */
export class PayOSRequestError extends Error {
  override readonly name = "PayOSRequestError";
  constructor(
    readonly code: string,
    detail: string,
  ) {
    super(`PayOS refused the request: ${detail} (code ${code})`);
  }
}

export function createPayOSClient(options: PayOSClientOptions) {
  const payos = new PayOS({
    clientId: options.clientId,
    apiKey: options.apiKey,
    checksumKey: options.checksumKey,
    baseURL: options.endpoint,
    timeout: options.timeoutMs ?? 10_000,
    // The callers retry (the reconciler, a caller's retry): the SDK's own retries would hide outages.
    maxRetries: 0,
  });

  async function call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const status = (error as { status?: number }).status;
      const code = (error as { code?: string }).code;
      if (status === undefined || status >= 500 || status === 429)
        throw new GatewayUnavailableError(`PayOS is unavailable: ${(error as Error).message}`, status);
      throw new PayOSRequestError(String(code ?? status), (error as Error).message);
    }
  }
  const link = (l: Awaited<ReturnType<typeof payos.paymentRequests.get>>): PayOSLink => ({
    id: l.id,
    orderCode: l.orderCode,
    amount: l.amount,
    amountPaid: l.amountPaid,
    status: l.status,
    transactions: l.transactions.map((t) => ({ reference: t.reference, amount: t.amount })),
  });

  return {
    /** GET /v2/payment-requests/{orderCode}: the link, what was paid on it and its transactions. */
    get: (orderCode: number) => call(async () => link(await payos.paymentRequests.get(orderCode))),
    /** POST /v2/payment-requests/{orderCode}/cancel: no one can pay the link after this. */
    cancel: (orderCode: number, reason: string) =>
      call(async () => link(await payos.paymentRequests.cancel(orderCode, reason))),
  };
}

export type PayOSClient = ReturnType<typeof createPayOSClient>;
