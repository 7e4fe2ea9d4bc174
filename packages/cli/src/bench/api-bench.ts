import { createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { verifyZaloPayMac } from "@payments/adapters/webhooks";
import { type LocalStack, linkedEnvironment, startStripeProxy } from "@payments/local";
import { type Figures, measure, summarize } from "./measure";

export interface ApiBenchResult {
  readonly scenarios: Record<
    string,
    {
      hono: Figures;
      bare: Figures;
      control: Figures;
      /** Hono ÷ bare, per round. */
      roundRatios: number[];
      /** The control: a second bare server, the same code, ÷ bare, per round. Its distance from 1 is the noise. */
      controlRatios: number[];
    }
  >;
  readonly concurrency: number;
  readonly requests: number;
  readonly rounds: number;
  /** Requests answered 503 (the gateway unavailable) and sent again. */
  readonly retried: number;
}

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
};
const reply = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

/**
 * The API against a bare node:http server doing the same work (SPEC §9): the ZaloPay webhook (mac
 * check and the notification's append), POST /payments and GET /payments/{id}, at the same
 * concurrency, over loopback, in rounds on one stack, with a control row: a second bare server of
 * the same code, whose ratio to the first says how much of a gap the run can resolve.
 */
export async function runApiBench(
  stack: LocalStack,
  options: {
    requests: number;
    rounds: number;
    /** Only the routes whose name holds one of these; every route when not given. */
    routes?: readonly string[];
    concurrency: number;
    log: (line: string) => void;
  },
): Promise<ApiBenchResult> {
  const proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_LOG_LEVEL: "ERROR",
  });
  const { app } = await import("@payments/functions/api");
  const { issueToken } = await import("@payments/functions/api/auth");
  const { createWiring } = await import("@payments/functions/shared/wiring");
  const { defaultFraudThresholds } = await import("@payments/core");
  // The bare server's own wiring: the same services, without Hono.
  const wiring = createWiring({ fraudThresholds: defaultFraudThresholds });
  const token = await issueToken(stack.secretValues.JwtSecret);
  const key2 = stack.secretValues.ZaloPayKey2;

  const handleBare = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const body = await readBody(req);
      if (req.method === "POST" && req.url === "/webhooks/zalopay") {
        const parsed = JSON.parse(body) as { data: string; mac: string };
        if (!verifyZaloPayMac(parsed.data, parsed.mac, key2)) return reply(res, 401, { return_code: -1 });
        const data = JSON.parse(parsed.data) as { app_trans_id: string; zp_trans_id: number; amount: number };
        const { receivedCommands } = await import("@payments/functions/payments/webhook-service");
        await wiring.webhooks().record(
          {
            provider: "zalopay",
            dedupeKey: String(data.zp_trans_id),
            noticeType: "payment",
            reference: data.app_trans_id,
            amount: data.amount,
            currency: "vnd",
            createsPayment: true,
            commands: receivedCommands("zalopay", String(data.zp_trans_id), data.amount),
          },
          { correlationId: "bench", causationId: "bench", source: "webhook:zalopay" },
        );
        return reply(res, 200, { return_code: 1, return_message: "success" });
      }
      const ctx = { correlationId: "bench", causationId: randomUUID(), source: "api" as const };
      if (req.method === "POST" && req.url === "/payments") {
        const input = JSON.parse(body);
        const { view, created } = await wiring.payments().create(input, ctx);
        return reply(res, created ? 201 : 200, view);
      }
      if (req.method === "GET" && req.url?.startsWith("/payments/")) {
        return reply(res, 200, await wiring.payments().view(req.url.slice("/payments/".length)));
      }
      reply(res, 404, {});
    } catch (error) {
      reply(res, 500, { error: (error as Error).message });
    }
  };
  // Two bare servers of the same code: the second is the control row, bare against bare.
  const bare = createServer(handleBare);
  const control = createServer(handleBare);
  const honoServer = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => honoServer.once("listening", resolve));
  const targets = {
    hono: `http://127.0.0.1:${(honoServer.address() as AddressInfo).port}`,
    bare: await listen(bare),
    control: await listen(control),
  };

  const zalopayBody = () => {
    const data = JSON.stringify({
      app_trans_id: `bench_${randomUUID()}`,
      zp_trans_id: Number(`${Date.now()}${Math.floor(Math.random() * 1000)}`),
      amount: 50_000,
    });
    return JSON.stringify({ data, mac: createHmac("sha256", key2).update(data).digest("hex"), type: 1 });
  };
  const createBody = () =>
    JSON.stringify({
      orderId: `bench-${randomUUID()}`,
      customerId: `cus-${randomUUID().slice(0, 8)}`,
      amount: 2_599,
      currency: "usd",
      paymentMethodId: "pm_card_visa",
      captureMethod: "automatic",
      billingAddress: { street: "1 Main St", city: "Springfield", state: "IL", zip: "62701" },
    });
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const seeded: string[] = [];
  let retried = 0;
  /** A POST as a client makes it: a 503 (the gateway busy) is sent again, as the problem says to. */
  const post = async (url: string, body: string, expect: number[]) => {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(url, { method: "POST", headers, body });
      const text = await response.text();
      if (expect.includes(response.status)) return text;
      if (response.status === 503 && attempt < 10) {
        // As a client backs off: Stripe (stripe-mock behind the proxy) is busy under the bench's load.
        retried += 1;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        continue;
      }
      throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
    }
  };

  const scenarios: Record<string, (base: string, i: number) => Promise<unknown>> = {
    "POST /webhooks/zalopay (mac + append)": (base) => post(`${base}/webhooks/zalopay`, zalopayBody(), [200]),
    "POST /payments": async (base) => {
      // A retried create of the same order answers 200 with the payment the first attempt made.
      const text = await post(`${base}/payments`, createBody(), [200, 201]);
      seeded.push((JSON.parse(text) as { paymentId: string }).paymentId);
    },
    "GET /payments/{id}": async (base, i) => {
      const response = await fetch(`${base}/payments/${seeded[i % seeded.length]}`, { headers });
      if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
      await response.text();
    },
  };

  const scenarioResults: ApiBenchResult["scenarios"] = {};
  try {
    const chosen = Object.entries(scenarios).filter(
      ([name]) => !options.routes || options.routes.some((route) => name.includes(route)),
    );
    if (chosen.length === 0) throw new Error(`no API route's name holds ${options.routes?.join(" or ")}`);
    for (const [name, op] of chosen) {
      options.log(`api bench: ${name}…`);
      // A warm-up of each side, so neither pays for its first connections and lazy clients.
      for (const base of Object.values(targets))
        await measure(Math.min(50, options.requests), options.concurrency, (i) => op(base, i));
      const runs = {
        hono: [] as Awaited<ReturnType<typeof measure>>[],
        bare: [] as Awaited<ReturnType<typeof measure>>[],
        control: [] as Awaited<ReturnType<typeof measure>>[],
      };
      const roundRatios: number[] = [];
      const controlRatios: number[] = [];
      // Each round runs the three sides one after another, which goes first turning round by round.
      const sides = ["hono", "bare", "control"] as const;
      for (let round = 0; round < options.rounds; round++) {
        const order = sides.map((_, k) => sides[(k + round) % sides.length]!);
        const perRound: Record<string, number> = {};
        for (const side of order) {
          const run = await measure(options.requests, options.concurrency, (i) => op(targets[side], i));
          runs[side].push(run);
          perRound[side] = options.requests / run.seconds;
        }
        roundRatios.push(perRound.hono! / perRound.bare!);
        controlRatios.push(perRound.control! / perRound.bare!);
      }
      scenarioResults[name] = {
        hono: summarize(runs.hono),
        bare: summarize(runs.bare),
        control: summarize(runs.control),
        roundRatios,
        controlRatios,
      };
    }
  } finally {
    await new Promise((resolve) => honoServer.close(resolve));
    await new Promise((resolve) => bare.close(resolve));
    await new Promise((resolve) => control.close(resolve));
    await proxy.stop();
  }
  return {
    scenarios: scenarioResults,
    concurrency: options.concurrency,
    requests: options.requests,
    rounds: options.rounds,
    retried,
  };
}
