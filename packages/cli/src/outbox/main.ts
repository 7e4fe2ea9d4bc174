/**
 * `npm run outbox -- status | redrive [--failed] [--stack .dev/stack.json]` (SPEC §5): what the
 * relay has pending or failed at each sink, and a redrive that queues it again now (with --failed,
 * the deliveries given up on too). The local stack through .dev/stack.json, else AWS.
 */
import "../shared/lambda-node";
import { parseArgs } from "node:util";
import { linkTarget } from "../shared/target";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    failed: { type: "boolean", default: false },
    stack: { type: "string", default: ".dev/stack.json" },
  },
});

async function main() {
  const command = positionals[0];
  if (command !== "status" && command !== "redrive") {
    console.error(`outbox: say status or redrive [--failed] (got ${command ?? "nothing"})`);
    process.exit(2);
  }
  const { where } = linkTarget(values.stack!);
  console.log(`outbox: ${where}`);
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
