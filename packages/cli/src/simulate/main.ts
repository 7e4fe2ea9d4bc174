/**
 * `npm run simulate -- --payments N [--rate R] [--fifo] [--chaos] [--stack .dev/stack.json]`: the Black Friday
 * burst against the dev stack (`npm run dev` running). Sends N realistic payment requests to the
 * order queue (formats A and B, a few malformed, a few declined cards, some orders sent twice; format
 * B as CloudCafe sends it, without a card, its customers' cards saved first through the API),
 * shows progress, waits for the outcomes in the read model, and prints what happened: processed,
 * failed, rejected, malformed, DLQ'd and duplicate counts, the charges the Stripe proxy counted,
 * throughput, and latency percentiles from enqueue to the outcome and to the projection. With
 * --chaos, provider callbacks are dropped and delayed and refunds are made in Stripe's dashboard
 * (./chaos.ts), and it ends with `npm run reconcile` before and after `--repair`, at zero drift.
 */
import "../shared/lambda-node";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "@payments/local";
import { SingleBar } from "cli-progress";
import { type CapturedCard, type ChaosStack, createChaos, reconcile } from "./chaos";

const { values } = parseArgs({
  options: {
    payments: { type: "string", default: "1000" },
    rate: { type: "string" },
    fifo: { type: "boolean", default: false },
    chaos: { type: "boolean", default: false },
    stack: { type: "string", default: ".dev/stack.json" },
    "timeout-seconds": { type: "string", default: "1800" },
  },
});

interface Stack extends ChaosStack {
  apiUrl: string;
  token: string;
  awsEndpoint: string;
  dynamoEndpoint: string;
  stripeUrl: string;
  tables: { readModels: string };
  queues: { orders: string; ordersDlq: string; ordersFifo?: string };
}

type Kind = "formatA" | "formatB" | "malformed" | "declined" | "repeat";

interface Sent {
  readonly orderId: string;
  readonly kind: Kind;
  sentAt: number;
}

function fail(message: string): never {
  console.error(`simulate: ${message}`);
  process.exit(2);
}

/** A deterministic mix, by position: 1 % malformed, 2 % declined, 3 % sent twice, 15 % format B. */
function kindOf(i: number): Kind {
  const r = (i * 7919) % 100;
  if (r === 0) return "malformed";
  if (r < 3) return "declined";
  if (r < 6) return "repeat";
  if (r < 21) return "formatB";
  return "formatA";
}

/** Prices as shops set them, in major units as the order service sends them. */
const PRICES = ["4.99", "12.50", "19.99", "25.99", "49.00", "79.95", "120.00", "349.99"];

function messageBody(run: string, i: number, kind: Kind): { orderId: string; body: string } {
  const orderId = `sim-${run}-${i}`;
  const customer = `cus-sim-${run}-${i % 997}`;
  const amount = PRICES[i % PRICES.length]!;
  // Format A, with some fields replaced or added (format B adds payment_id and payment_method).
  const message = (fields: Record<string, unknown>) => ({
    orderId,
    body: JSON.stringify({
      order_id: orderId,
      customer_id: customer,
      amount,
      payment_method_id: "pm_card_visa",
      ...fields,
    }),
  });
  switch (kind) {
    case "malformed":
      return message({ amount: "twelve dollars" });
    case "declined":
      return message({ payment_method_id: "pm_card_chargeDeclined" });
    case "formatB": {
      // As CloudCafe sends it: its own payment id, no card token; the customer's saved card is charged.
      const { payment_method_id: _, ...fields } = JSON.parse(message({}).body) as Record<string, unknown>;
      return {
        orderId,
        body: JSON.stringify({
          ...fields,
          payment_id: `simpay-${run}-${i}`,
          payment_method: "credit_card",
          billing_address: { street: "1 Main St", city: "Springfield", state: "IL", zip: "62701" },
        }),
      };
    }
    default:
      // "formatA", and "repeat", which is sent twice.
      return message({});
  }
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN;

async function main() {
  if (!existsSync(values.stack!)) fail(`no ${values.stack}: start the dev stack first (npm run dev)`);
  const stack = JSON.parse(readFileSync(values.stack!, "utf8")) as Stack;
  const total = Number(values.payments);
  if (!Number.isInteger(total) || total < 1) fail(`--payments takes a whole number, not ${values.payments}`);
  const rate = values.rate ? Number(values.rate) : undefined;
  if (rate !== undefined && !(rate > 0)) fail(`--rate takes messages per second, not ${values.rate}`);
  const queueUrl = values.fifo ? stack.queues.ordersFifo : stack.queues.orders;
  if (!queueUrl) fail("this dev stack has no FIFO order queue");

  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const sqs = new SQSClient({ ...common, endpoint: stack.awsEndpoint });
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: stack.dynamoEndpoint }));
  const dlqDepth = async () =>
    Number(
      (
        await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: stack.queues.ordersDlq,
            AttributeNames: ["ApproximateNumberOfMessages"],
          }),
        )
      ).Attributes?.ApproximateNumberOfMessages ?? 0,
    );
  const dlqBefore = await dlqDepth();
  const run = Date.now().toString(36);
  // The reconcile window starts a little before the run's first payment.
  const since = new Date(Date.now() - 5_000).toISOString();
  const chaos = values.chaos ? createChaos(stack, run, (line) => console.log(line)) : undefined;
  // Paid first, so that their callbacks are dropped or late while the burst runs.
  await chaos?.payAtProviders(Math.max(6, Math.round(total * 0.05)));
  const sent = new Map<string, Sent>();
  const messages: Array<{ orderId: string; body: string }> = [];
  for (let i = 0; i < total; i++) {
    const kind = kindOf(i);
    const m = messageBody(run, i, kind);
    sent.set(m.orderId, { orderId: m.orderId, kind, sentAt: 0 });
    messages.push(m);
    // The order service sends some orders twice (a retry after a timeout): the same body again.
    if (kind === "repeat") messages.push(m);
  }

  // Format B carries no card: its customers save one first, as CloudCafe's customers have (SPEC §4.1).
  const savers = [
    ...new Set(
      messages
        .filter((m) => sent.get(m.orderId)?.kind === "formatB")
        .map((m) => String((JSON.parse(m.body) as { customer_id: string }).customer_id)),
    ),
  ];
  for (const customerId of savers) {
    const response = await fetch(
      `${stack.apiUrl}/customers/${encodeURIComponent(customerId)}/payment-methods`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/json" },
        body: JSON.stringify({ paymentMethodId: "pm_card_visa", default: true }),
      },
    );
    if (!response.ok) fail(`saving a card for ${customerId}: ${response.status} ${await response.text()}`);
  }
  console.log(`simulate: saved a card for the ${savers.length} customer(s) of the format B messages`);
  console.log(
    `simulate: ${total} orders (${messages.length} messages with the repeats) to ${values.fifo ? "the FIFO" : "the"} order queue${rate ? ` at ${rate}/s` : " as fast as it takes them"}; run ${run}`,
  );
  const bar = process.stdout.isTTY
    ? new SingleBar({ format: "simulate [{bar}] {value}/{total} {stage}" })
    : undefined;
  bar?.start(messages.length, 0, { stage: "sent" });
  const started = Date.now();
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    if (rate) {
      const due = started + (i / rate) * 1000;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    const now = Date.now();
    for (const m of chunk) {
      const s = sent.get(m.orderId)!;
      if (!s.sentAt) s.sentAt = now;
    }
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, n) => ({
          Id: String(n),
          MessageBody: m.body,
          ...(values.fifo
            ? { MessageGroupId: m.orderId, MessageDeduplicationId: `${m.orderId}-${i + n}` }
            : {}),
        })),
      }),
    );
    if (out.Failed?.length)
      fail(`the queue refused ${out.Failed.length} message(s): ${out.Failed[0]?.Message}`);
    bar?.update(i + chunk.length, { stage: "sent" });
    if (
      !bar &&
      Math.floor((i + chunk.length) / (messages.length / 10)) > Math.floor(i / (messages.length / 10))
    )
      console.log(`simulate: ${i + chunk.length}/${messages.length} sent`);
  }
  const sendSeconds = (Date.now() - started) / 1000;
  bar?.stop();
  console.log(`simulate: sent in ${sendSeconds.toFixed(1)} s; waiting for the outcomes in the read model…`);

  // The outcomes, as the projection shows them: one scan of the read model's payment views a second.
  const expected = [...sent.values()].filter((s) => s.kind !== "malformed").length;
  const seen = new Map<
    string,
    {
      status: string;
      paymentIds: Set<string>;
      seenAt: number;
      outcomeAt: number;
      card?: CapturedCard;
    }
  >();
  const terminal = new Set([
    "captured",
    "authorized",
    "failed",
    "rejected",
    "refunded",
    "partially_refunded",
    "underpaid",
    "canceled",
  ]);
  const waitBar = process.stdout.isTTY
    ? new SingleBar({ format: "outcomes [{bar}] {value}/{total}" })
    : undefined;
  waitBar?.start(expected, 0);
  const deadline = Date.now() + Number(values["timeout-seconds"]) * 1000;
  let lastProgress = Date.now();
  let lastCount = 0;
  while (Date.now() < deadline) {
    const scanAt = Date.now();
    const pages = paginateScan(
      { client: doc, pageSize: 1000 },
      {
        TableName: stack.tables.readModels,
        FilterExpression: "begins_with(#v.#o, :prefix)",
        ExpressionAttributeNames: { "#v": "view", "#o": "orderId" },
        ExpressionAttributeValues: { ":prefix": `sim-${run}-` },
        ProjectionExpression: "#v",
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const view = item.view as {
          orderId: string;
          paymentId: string;
          status: string;
          updatedAt: string;
          gatewayPaymentId?: string;
          amountCaptured: number;
          currency: string;
        };
        const entry = seen.get(view.orderId) ?? {
          status: "",
          paymentIds: new Set(),
          seenAt: 0,
          outcomeAt: 0,
        };
        entry.paymentIds.add(view.paymentId);
        if (terminal.has(view.status) && !entry.seenAt) {
          entry.seenAt = scanAt;
          entry.outcomeAt = Date.parse(view.updatedAt);
        }
        entry.status = view.status;
        if (view.status === "captured" && view.gatewayPaymentId)
          entry.card = {
            paymentId: view.paymentId,
            gatewayPaymentId: view.gatewayPaymentId,
            amountCaptured: view.amountCaptured,
            currency: view.currency,
          };
        seen.set(view.orderId, entry);
      }
    }
    const done = [...seen.values()].filter((e) => e.seenAt).length;
    waitBar?.update(done);
    if (done !== lastCount) {
      lastCount = done;
      lastProgress = Date.now();
      if (!waitBar) console.log(`simulate: ${done}/${expected} outcomes`);
    }
    if (done >= expected) break;
    // Nothing new for a minute: what is left went to the DLQ or is stuck; report it as such.
    if (Date.now() - lastProgress > 60_000) break;
    // A scan of a large read model loads DynamoDB Local too: look at most a third of the time.
    const scanMs = Date.now() - scanAt;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1000, 2 * scanMs)));
  }
  waitBar?.stop();

  const ledger = (await (await fetch(`${stack.stripeUrl}/_proxy/ledger?orderPrefix=sim-${run}-`)).json()) as {
    orders: Record<string, { intents: number; authorizations: number; charges: number; refunds: number }>;
  };
  const charges = Object.values(ledger.orders).reduce((n, o) => n + o.charges, 0);
  const chargedTwice = Object.entries(ledger.orders)
    .filter(([, o]) => o.charges > 1)
    .map(([order]) => order);
  const byStatus: Record<string, number> = {};
  for (const e of seen.values()) if (e.seenAt) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
  const toOutcome = [...seen.entries()]
    .filter(([, e]) => e.seenAt)
    .map(([order, e]) => e.outcomeAt - sent.get(order)!.sentAt)
    .sort((a, b) => a - b);
  const toProjection = [...seen.entries()]
    .filter(([, e]) => e.seenAt)
    .map(([order, e]) => e.seenAt - sent.get(order)!.sentAt)
    .sort((a, b) => a - b);
  const lastOutcome = Math.max(...[...seen.values()].filter((e) => e.seenAt).map((e) => e.outcomeAt));
  const processedSeconds = (lastOutcome - started) / 1000;
  const outcomes = toOutcome.length;
  const dlqd = (await dlqDepth()) - dlqBefore;
  const count = (kind: Kind) => [...sent.values()].filter((s) => s.kind === kind).length;
  const morePayments = [...seen.values()].filter((e) => e.paymentIds.size > 1).length;

  console.log(`
simulate: ${total} orders, ${messages.length} messages (${count("repeat")} orders sent twice), run ${run}
  processed          ${(byStatus.captured ?? 0) + (byStatus.authorized ?? 0)} (captured ${byStatus.captured ?? 0}, authorized for review ${byStatus.authorized ?? 0})
  failed (declined)  ${byStatus.failed ?? 0} of ${count("declined")} sent with a declining card
  rejected (fraud)   ${byStatus.rejected ?? 0}
  malformed          ${count("malformed")} sent; not retried, no payment (the processor logs each)
  no outcome         ${expected - outcomes}
  DLQ'd              ${dlqd}
  duplicates         ${count("repeat")} orders sent twice → ${morePayments} order(s) with more than one payment
  Stripe charges     ${charges} counted at the proxy; ${chargedTwice.length} order(s) charged more than once
  throughput         ${(outcomes / Math.max(processedSeconds, 0.001)).toFixed(1)} payments/s (first send → last outcome, ${processedSeconds.toFixed(1)} s); sending took ${sendSeconds.toFixed(1)} s
  enqueue → outcome appended     p50 ${percentile(toOutcome, 50)} ms  p90 ${percentile(toOutcome, 90)} ms  p99 ${percentile(toOutcome, 99)} ms  max ${toOutcome.at(-1)} ms
  enqueue → seen in projection   p50 ${percentile(toProjection, 50)} ms  p90 ${percentile(toProjection, 90)} ms  p99 ${percentile(toProjection, 99)} ms  (read model scanned every second, or every 3 scan-times when scans take longer)`);
  sqs.destroy();
  doc.destroy();
  const chaosFailed = chaos
    ? await afterChaos(
        chaos,
        [...seen.entries()]
          .filter(([order, e]) => e.card && sent.get(order)?.kind === "formatA")
          .map(([, e]) => e.card!)
          .slice(0, Math.max(4, Math.round(total * 0.02))),
        since,
        stack.reconciler!,
      )
    : false;
  process.exit(chargedTwice.length || morePayments || expected - outcomes || chaosFailed ? 1 : 0);
}

/**
 * The chaos run's end: dashboard refunds, the reconciler's catch-up, and `npm run reconcile` before
 * and after `--repair`, each checked against the run's own record of what it broke. True if a
 * check failed.
 */
async function afterChaos(
  chaos: ReturnType<typeof createChaos>,
  cards: readonly CapturedCard[],
  since: string,
  reconciler: { afterSeconds: number; periodMs: number },
): Promise<boolean> {
  const refunds = await chaos.refundInDashboard(cards);
  const dropped = refunds.filter((r) => !r.delivered);
  const waitMs = (reconciler.afterSeconds * 4 + 60) * 1000 + reconciler.periodMs * 4;
  console.log(
    `simulate: chaos: waiting for the reconciler and the late callbacks (at most ${waitMs / 1000} s)…`,
  );
  const settled = await chaos.waitSettled(waitMs);
  console.log(
    `  provider payments captured, by whom (per fate of the callback): ${JSON.stringify(settled.capturedBy)}\n` +
      `  late callbacks answered: ${JSON.stringify(settled.lateAnswers)}; not captured: ${settled.uncaptured.length}`,
  );
  const failures: string[] = [];
  if (settled.uncaptured.length)
    failures.push(`${settled.uncaptured.length} provider payment(s) not captured`);
  if (settled.lateAnswers.some((status) => status !== 200)) failures.push("a late callback was not taken");

  const stackFile = values.stack!;
  const window = ["--since", since];
  const drifts = (output: string) => Number(output.match(/(\d+) drift\(s\)/)?.[1] ?? Number.NaN);
  const before = await reconcile(stackFile, window);
  console.log(
    `\nsimulate: npm run reconcile -- --since ${since}  (exit ${before.code})\n${before.output.trimEnd()}`,
  );
  const repaired = await reconcile(stackFile, [...window, "--repair", "--by", "simulate"]);
  console.log(
    `\nsimulate: npm run reconcile -- --since ${since} --repair  (exit ${repaired.code})\n${repaired.output.trimEnd()}`,
  );
  const after = await reconcile(stackFile, window);
  console.log(
    `\nsimulate: npm run reconcile -- --since ${since}  (exit ${after.code})\n${after.output.trimEnd()}`,
  );

  // The oracle is the run's own record: exactly the refunds whose webhooks it dropped are missing.
  const missing = [...before.output.matchAll(/^missing_in_ledger\s+stripe\s+\S+\s+(re_\w+)/gm)].map(
    (m) => m[1],
  );
  if (before.code !== 1 || drifts(before.output) !== dropped.length)
    failures.push(
      `reconcile found ${drifts(before.output)} drift(s), the run dropped ${dropped.length} webhook(s)`,
    );
  if (JSON.stringify([...missing].sort()) !== JSON.stringify(dropped.map((r) => r.refundId).sort()))
    failures.push("the refunds reconcile found missing are not the ones whose webhooks were dropped");
  if (repaired.code !== 0) failures.push(`reconcile --repair left drift (exit ${repaired.code})`);
  if (after.code !== 0 || drifts(after.output) !== 0)
    failures.push("reconcile after --repair still finds drift");
  console.log(
    failures.length
      ? `\nsimulate: chaos: FAILED: ${failures.join("; ")}`
      : `\nsimulate: chaos: the reconciler captured every provider payment, and reconcile found the ${dropped.length} dropped refund(s), repaired them, and then found no drift`,
  );
  return failures.length > 0;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
