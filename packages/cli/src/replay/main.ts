/**
 * `npm run replay -- bus [--payment ID] [--since ISO]` re-publishes events to EventBridge and Kafka
 * through the relay's publishers, `metadata.replay: true`.
 * `npm run replay -- projections [--payment ID] [--since ISO] [--only payment-view|transaction-log|declines|metrics]
 * [--dry-run] [--verify] [--stack .dev/stack.json]`: rebuilds the read models from the event streams
 * (SPEC §6), or with --verify reports each view or metrics tally that differs from a fresh fold of
 * its stream and, over every stream, each metrics figure that differs from their sum (exit 1 if any). It finds the local stack through .dev/stack.json, else AWS through the usual configuration
 * and the tables SST links (`npx sst shell -- npm run replay …`).
 */
import "../shared/lambda-node";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoEventStore, createReadModelStore } from "@payments/adapters/dynamodb";
import {
  listPaymentIds,
  READ_MODELS,
  type ReadModelName,
  replayProjections,
} from "@payments/functions/projector/replay";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "@payments/local";
import { SingleBar } from "cli-progress";
import { linkTarget } from "../shared/target";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    payment: { type: "string" },
    since: { type: "string" },
    only: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    verify: { type: "boolean", default: false },
    stack: { type: "string", default: ".dev/stack.json" },
  },
});

function fail(message: string): never {
  console.error(`replay: ${message}`);
  process.exit(2);
}

async function main() {
  const what = positionals[0];
  if (what !== "projections" && what !== "bus")
    fail(`say what to replay: projections or bus (got ${what ?? "nothing"})`);
  if (values.only && !READ_MODELS.includes(values.only as ReadModelName)) {
    fail(`--only takes one of ${READ_MODELS.join(", ")}, not ${values.only}`);
  }
  if (values.since && Number.isNaN(Date.parse(values.since)))
    fail(`--since must be an ISO 8601 instant, not ${values.since}`);

  if (what === "bus") return replayBus();
  let client: DynamoDBClient;
  let tables: { events: string; readModels: string; transactionLog: string };
  if (existsSync(values.stack!)) {
    const stack = JSON.parse(readFileSync(values.stack!, "utf8")) as {
      dynamoEndpoint: string;
      tables: { events: string; readModels: string; transactionLog: string };
    };
    client = new DynamoDBClient({
      endpoint: stack.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    tables = stack.tables;
    console.log(`replay: the local stack of ${values.stack} (${stack.dynamoEndpoint})`);
  } else {
    const { Resource } = await import("sst");
    client = new DynamoDBClient({});
    tables = {
      events: Resource.EventStore.name,
      readModels: Resource.ReadModels.name,
      transactionLog: Resource.TransactionLog.name,
    };
    console.log("replay: AWS, with the tables SST links");
  }

  const progress = progressReporter("payments");
  const result = await replayProjections(
    {
      client,
      eventsTable: tables.events,
      store: createDynamoEventStore({ client, tableName: tables.events }),
      readModels: createReadModelStore({
        client,
        tableName: tables.readModels,
        transactionLogTableName: tables.transactionLog,
      }),
    },
    {
      paymentId: values.payment,
      since: values.since,
      only: values.only as ReadModelName | undefined,
      dryRun: values["dry-run"],
      verify: values.verify,
      onProgress: progress.update,
    },
  );
  progress.stop();
  for (const { paymentId, reason } of result.corrupt)
    console.error(`replay: payment ${paymentId} cannot be read: ${reason}`);
  for (const d of result.differing) {
    console.error(
      `replay: payment ${d.paymentId} differs from its stream: stored ${JSON.stringify(d.stored)} / folded ${JSON.stringify(d.folded)}`,
    );
  }
  for (const f of result.figures ?? [])
    console.error(
      `replay: metrics ${f.at} ${f.figure}: stored ${f.stored}, the streams' tallies sum to ${f.expected}`,
    );
  const figuresChecked = result.figures
    ? `; ${result.figures.length} metrics figure(s) differ`
    : result.figuresCorrected
      ? `; ${result.figuresCorrected} metrics figure(s) corrected to the streams' sum`
      : "";
  const rate = result.events / Math.max(result.seconds, 0.001);
  console.log(
    `replay: ${result.payments} payments, ${result.events} events in ${result.seconds.toFixed(1)} s (${rate.toFixed(0)} events/s); ` +
      (values.verify
        ? `${result.differing.length} ${values.only === "metrics" ? "tally(ies)" : "view(s)"} differ`
        : `${result.written} item(s) written${values["dry-run"] ? " (dry run: nothing written)" : ""}`) +
      figuresChecked +
      (result.corrupt.length ? `; ${result.corrupt.length} stream(s) could not be read` : ""),
  );
  client.destroy();
  const differs = result.differing.length > 0 || (result.figures?.length ?? 0) > 0;
  process.exit(values.verify && differs ? 1 : 0);
}

/** `replay -- bus`: the public events again to EventBridge, every event to Kafka, `metadata.replay: true` (SPEC §6). */
async function replayBus() {
  const { where } = linkTarget(values.stack!);
  console.log(`replay: ${where}`);
  const { createRelayWiring } = await import("@payments/functions/outbox-relay/wiring");
  const { replayToBus } = await import("@payments/functions/outbox-relay/operations");
  const { Resource } = await import("sst");
  const wiring = createRelayWiring();
  const client = wiring.dynamodb();
  const started = Date.now();
  const paymentIds = values.payment
    ? [values.payment]
    : await listPaymentIds(client, Resource.EventStore.name, { since: values.since });
  const progress = progressReporter("payments");
  const result = await replayToBus({
    store: createDynamoEventStore({ client, tableName: Resource.EventStore.name }),
    publishers: wiring.publishers(),
    paymentIds,
    since: values.since,
    onProgress: progress.update,
  });
  progress.stop();
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `replay: ${result.payments} payments, ${result.events} events re-published in ${seconds.toFixed(1)} s ` +
      `(${(result.events / Math.max(seconds, 0.001)).toFixed(0)} events/s); acknowledged: ` +
      Object.entries(result.delivered)
        .map(([sink, n]) => `${sink} ${n} of ${result.sent[sink]}`)
        .join(", ") +
      " (the bus carries the public events only)",
  );
  for (const error of result.errors) console.error(`replay: ${error}`);
  await Promise.all(wiring.publishers().map((p) => p.close()));
  client.destroy();
  const complete = Object.entries(result.delivered).every(([sink, n]) => n === result.sent[sink]);
  process.exit(complete ? 0 : 1);
}

/** A progress bar on a terminal, a line per tenth otherwise. */
function progressReporter(unit: string) {
  const bar = process.stdout.isTTY
    ? new SingleBar({ format: `replay [{bar}] {value}/{total} ${unit} | {eta}s left` })
    : undefined;
  let lastTenth = -1;
  return {
    update(done: number, total: number) {
      if (bar) {
        if (done === 1) bar.start(total, 0);
        bar.update(done);
        return;
      }
      const tenth = Math.floor((done / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        console.log(`replay: ${done}/${total} ${unit}`);
      }
    },
    stop: () => bar?.stop(),
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
