/**
 * `npm run platform:check`: installs what is missing, starts the whole local platform, creates the
 * stack's resources, prints how long each step took, and stops everything. The figures for a
 * cold start (empty cache) and a warm one come from here.
 */

import "../shared/lambda-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { provisionLocalStack, startLocalPlatform } from "@payments/local";

const started = Date.now();
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
const platform = await startLocalPlatform({ logDir: mkdtempSync(join(tmpdir(), "payments-platform-")) });
const serversReady = Date.now();
const serverSeconds = seconds(started);
try {
  const stack = await provisionLocalStack(platform, { stage: "check" });
  console.log(`servers (installed if missing, started side by side): ${serverSeconds} s`);
  for (const [name, s] of Object.entries(platform.startupSeconds))
    console.log(`  ${name}: ${s.toFixed(1)} s`);
  console.log(`resources created: ${seconds(serversReady)} s`);
  console.log(`total: ${seconds(started)} s`);
  console.log(
    `queues: ${Object.keys(stack.queues).join(", ")}; bus: ${stack.bus.name}; topic: ${stack.kafka.topic}`,
  );
} finally {
  await platform.stop();
}
