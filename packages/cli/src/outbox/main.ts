/**
 * `npm run outbox -- status | redrive [--failed] | create-topic [--stack .dev/stack.json]` (SPEC §5):
 * what the relay has pending or failed at each sink, a redrive that queues it again now (with
 * --failed, the deliveries given up on too), and the one-off creation of the Kafka topic on AWS
 * (`npx sst shell --stage prod -- npm run outbox -- create-topic`), as the dev stack creates it
 * locally. The local stack through .dev/stack.json, else AWS.
 */
import "../shared/lambda-node";
import { parseArgs } from "node:util";
import { linkTarget } from "../shared/target";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    failed: { type: "boolean", default: false },
    partitions: { type: "string" },
    replication: { type: "string" },
    stack: { type: "string", default: ".dev/stack.json" },
  },
});

async function main() {
  const command = positionals[0];
  if (command !== "status" && command !== "redrive" && command !== "create-topic") {
    console.error(`outbox: say status, redrive [--failed] or create-topic (got ${command ?? "nothing"})`);
    process.exit(2);
  }
  const { where } = linkTarget(values.stack!);
  console.log(`outbox: ${where}`);
  if (command === "create-topic") {
    const { createdTopic } = await import("./create-topic");
    const { name, created } = await createdTopic({
      partitions: values.partitions ? Number(values.partitions) : undefined,
      replicationFactor: values.replication ? Number(values.replication) : undefined,
    });
    console.log(`outbox: topic ${name} ${created ? "created" : "was already there"}`);
    process.exit(0);
  }
  const { createRelayWiring } = await import("@payments/functions/outbox-relay/wiring");
  const { outboxStatus, redrive } = await import("@payments/functions/outbox-relay/operations");
  const wiring = createRelayWiring();
  if (command === "redrive") {
    const result = await redrive(wiring.relay(), {
      failed: values.failed!,
      batchSize: wiring.config.batchSize,
    });
    console.log(
      `outbox: ${result.requeued} failed deliver${result.requeued === 1 ? "y" : "ies"} queued again; ` +
        `swept ${result.sweep.swept}: ${result.sweep.caughtUp} caught up, ${result.sweep.stillBehind} still behind, ` +
        `${result.sweep.published} event(s) published`,
    );
  }
  const status = await outboxStatus(wiring.deliveries());
  let pending = 0;
  for (const [sink, { lagging, failed }] of Object.entries(status.sinks)) {
    pending += lagging.length + failed.length;
    console.log(`outbox: ${sink}: ${lagging.length} lagging, ${failed.length} failed`);
    for (const c of [...failed, ...lagging].slice(0, 20)) {
      console.log(
        `  ${c.state.padEnd(7)} ${c.paymentId}  delivered ${c.delivered} of ${c.latest}, behind since ${c.since}, ` +
          `${c.sweeps} sweep(s)${c.lastError ? `: ${c.lastError}` : ""}`,
      );
    }
  }
  console.log(`outbox: ${status.openFailures.length} open failure record(s)`);
  await Promise.all(wiring.publishers().map((p) => p.close()));
  wiring.dynamodb().destroy();
  process.exit(pending > 0 && command === "redrive" ? 1 : 0);
}

main().catch((error) => {
  console.error(`outbox: ${(error as Error).message}`);
  process.exit(1);
});
