/**
 * `npm run simulate -- --chaos`: what goes wrong between the ledger and the providers on a busy day
 * (SPEC §6.1, §7). ZaloPay orders and PayOS links paid at the emulators with some callbacks dropped
 * and some delivered only after RECONCILE_AFTER; refunds made in Stripe's dashboard, some of whose
 * webhooks never come. The run keeps its own record of each fault, and that record is the oracle:
 * the reconciler must capture every provider payment, and `npm run reconcile` must find exactly the
 * dashboard refunds whose webhooks were dropped, repair them, and then find nothing.
 */
import { spawn } from "node:child_process";

export interface ChaosStack {
  readonly apiUrl: string;
  readonly token: string;
  readonly stripe?: { dashboardRefundsUrl: string };
  readonly providers?: { zalopay: { url: string }; payos: { url: string } };
  readonly reconciler?: { afterSeconds: number; periodMs: number };
}

/** What happens to a provider payment's callback. */
type Fate = "delivered" | "dropped" | "delayed";
const FATES: readonly Fate[] = ["delivered", "dropped", "delayed"];

interface ProviderPayment {
  readonly provider: "zalopay" | "payos";
  readonly paymentId: string;
  readonly fate: Fate;
  readonly amount: number;
}

export interface DashboardRefund {
  readonly paymentId: string;
  readonly refundId: string;
  readonly amount: number;
  readonly currency: string;
  readonly delivered: boolean;
}

/** A captured card payment of the run, as the read model shows it. */
export interface CapturedCard {
  readonly paymentId: string;
  readonly gatewayPaymentId: string;
  readonly amountCaptured: number;
  readonly currency: string;
}

const json = async (response: Response) => {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { text };
  }
};

export function createChaos(stack: ChaosStack, run: string, log: (line: string) => void) {
  if (!stack.providers || !stack.stripe || !stack.reconciler)
    throw new Error(
      "--chaos needs a dev stack that describes its providers and reconciler (restart npm run dev)",
    );
  const { providers, stripe, reconciler } = stack;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${stack.token}`,
        "content-type": "application/json",
        "idempotency-key": `simulate-${run}-${method}-${path}-${JSON.stringify(body ?? null).length}-${Math.random()}`,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await json(response) };
  };
  const post = async (url: string, body: unknown) =>
    json(
      await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );

  const payments: ProviderPayment[] = [];
  const late: Array<Promise<number>> = [];
  /** Past the threshold: the reconciler may have settled the payment first; the callback still comes. */
  const delayMs = reconciler.afterSeconds * 1000 + 5_000;

  return {
    payments,
    /**
     * Creates `count` provider payments through the API (ZaloPay and PayOS in turn) and pays each at
     * its emulator: a third with the callback delivered, a third dropped, a third delivered late.
     */
    async payAtProviders(count: number) {
      const day = new Date().toISOString().slice(2, 10).replaceAll("-", "");
      const codeBase = (Date.now() % 1_000_000_000) * 1_000;
      for (let k = 0; k < count; k++) {
        const provider = k % 2 === 0 ? "zalopay" : "payos";
        const fate = FATES[Math.floor(k / 2) % FATES.length]!;
        const amount = 50_000 + 1_000 * (k % 20);
        const reference = provider === "zalopay" ? `${day}_sim${run}${k}` : String(codeBase + k);
        const created = await api("POST", "/payments", {
          orderId: `simchaos-${run}-${k}`,
          amount,
          currency: "vnd",
          provider,
          providerReference: reference,
        });
        if (created.status !== 201)
          throw new Error(
            `POST /payments for ${provider}: ${created.status} ${JSON.stringify(created.body)}`,
          );
        const paid = await post(`${providers[provider].url}/_emulator/pay`, {
          reference,
          amount,
          deliver: fate === "delivered",
        });
        if (paid.status !== 200)
          throw new Error(`paying at the ${provider} emulator: ${JSON.stringify(paid)}`);
        if (fate === "delayed") {
          const notice = provider === "zalopay" ? paid.callback : paid.webhook;
          late.push(
            new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(async () => {
              const response = await fetch(`${stack.apiUrl}/webhooks/${provider}`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify(notice),
              });
              await response.arrayBuffer();
              return response.status;
            }),
          );
        }
        payments.push({ provider, paymentId: String(created.body.paymentId), fate, amount });
      }
      log(
        `simulate: chaos: ${count} ZaloPay/PayOS payments paid at the emulators: ` +
          FATES.map((f) => `${payments.filter((p) => p.fate === f).length} ${f}`).join(", ") +
          ` (late callbacks after ${delayMs / 1000} s)`,
      );
    },

    /** Refunds part of each card payment in Stripe's dashboard; every other webhook is dropped. */
    async refundInDashboard(cards: readonly CapturedCard[]): Promise<DashboardRefund[]> {
      const made: DashboardRefund[] = [];
      for (const [k, card] of cards.entries()) {
        // A part of the capture, in whole minor units: integer division, never a float.
        const amount = Math.max(1, Math.floor(card.amountCaptured / 4));
        const delivered = k % 2 === 0;
        const answer = (await post(stripe.dashboardRefundsUrl, {
          payment_intent: card.gatewayPaymentId,
          amount,
          deliver: delivered,
        })) as { refund?: { id: string }; delivered?: number[] };
        if (!answer.refund) throw new Error(`a dashboard refund was refused: ${JSON.stringify(answer)}`);
        if (delivered && !answer.delivered?.every((status) => status === 200))
          throw new Error(
            `the dashboard refund's webhooks were not taken: ${JSON.stringify(answer.delivered)}`,
          );
        made.push({
          paymentId: card.paymentId,
          refundId: answer.refund.id,
          amount,
          currency: card.currency,
          delivered,
        });
      }
      log(
        `simulate: chaos: ${made.length} refunds made in Stripe's dashboard, ${made.filter((r) => !r.delivered).length} of them with their webhooks dropped`,
      );
      return made;
    },

    /**
     * Waits for every provider payment to be captured and every late callback to be answered; says
     * who captured each (the webhook or the reconciler).
     */
    async waitSettled(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      const open = new Set(payments.map((p) => p.paymentId));
      while (open.size && Date.now() < deadline) {
        for (const id of [...open]) {
          const view = await api("GET", `/payments/${id}`);
          if (view.body.status === "captured") open.delete(id);
        }
        if (open.size) await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      const lateAnswers = await Promise.all(late);
      const by: Record<Fate, Record<string, number>> = { delivered: {}, dropped: {}, delayed: {} };
      for (const p of payments) {
        const events = (await api("GET", `/payments/${p.paymentId}/events`)).body.items as
          | Array<{ type: string; metadata: { source: string } }>
          | undefined;
        const capture = events?.find((e) => e.type === "PaymentCaptured");
        const source = capture ? capture.metadata.source : "nobody";
        by[p.fate][source] = (by[p.fate][source] ?? 0) + 1;
      }
      return { uncaptured: [...open], lateAnswers, capturedBy: by };
    },
  };
}

/** `npm run reconcile` as a person runs it, its report passed through. */
export function reconcile(
  stackFile: string,
  args: readonly string[],
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "reconcile", "--", "--stack", stackFile, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}
