import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@payments/local";
import { eventually } from "./eventually";

/** What `npm run dev` writes to stack.json (SPEC §7), as far as the tests read it. */
export interface DevStack {
  apiUrl: string;
  consoleUrl: string;
  token: string;
  dynamoEndpoint: string;
  awsEndpoint: string;
  tables: { readModels: string; orders: string; events: string; transactionLog: string };
  queues: { orders: string; ordersDlq: string; downstream: string };
  kafka: { brokers: string[]; topic: string };
  stripeUrl: string;
  stripe: { url: string; dashboardRefundsUrl: string };
  providers: { zalopay: { url: string; appId: number }; payos: { url: string } };
}

/** A call to the dev stack's REST API with its bearer token, a fresh Idempotency-Key each time. */
export async function callDevApi(
  stack: DevStack,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.token}`,
      "content-type": "application/json",
      "idempotency-key": `${method}-${path}-${Date.now()}-${Math.random()}`,
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Whether something listens on a loopback port (a TCP connect, whatever the protocol). */
export const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

export interface RunningDev {
  readonly stack: DevStack;
  readonly dir: string;
  readonly ports: Record<string, number>;
  readonly process: ChildProcess;
  output(): string;
  /** Ctrl-C to the process group, as a terminal sends it; resolves with how npm exited. */
  interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills whatever is left (afterAll). */
  kill(): void;
}

/**
 * `npm run dev` as a user runs it: its own process group, free ports, its own DEV_DIR, and none of
 * the test run's links in its environment. Resolves once it printed "dev: ready" and wrote stack.json.
 */
export async function startDev(knobs: Record<string, string> = {}): Promise<RunningDev> {
  const dir = mkdtempSync(join(tmpdir(), "dev-e2e-"));
  const ports = {
    DEV_DYNAMODB_PORT: await freePort(),
    DEV_AWS_PORT: await freePort(),
    DEV_KAFKA_PORT: await freePort(),
    DEV_STRIPE_MOCK_PORT: await freePort(),
    DEV_STRIPE_PORT: await freePort(),
    DEV_API_PORT: await freePort(),
    DEV_ZALOPAY_PORT: await freePort(),
    DEV_PAYOS_PORT: await freePort(),
  };
  const env: NodeJS.ProcessEnv = { ...process.env, DEV_DIR: dir, ...knobs };
  for (const [k, v] of Object.entries(ports)) env[k] = String(v);
  // The test run's own links must not leak into the dev stack's.
  for (const key of Object.keys(env))
    if (key.startsWith("SST_RESOURCE_") || key.startsWith("AWS_ENDPOINT_URL")) delete env[key];
  const child = spawn("npm", ["run", "dev"], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const stackFile = join(dir, "stack.json");
  await eventually(() => (existsSync(stackFile) && output.includes("dev: ready") ? true : undefined), {
    timeoutMs: 180_000,
    intervalMs: 500,
    what: `npm run dev to be ready (output so far: ${output.slice(-500)})`,
  });
  return {
    stack: JSON.parse(readFileSync(stackFile, "utf8")) as DevStack,
    dir,
    ports,
    process: child,
    output: () => output,
    interrupt() {
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
      }
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
      );
      process.kill(-child.pid!, "SIGINT");
      return exited;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
  };
}

/**
 * The dev stack's Kafka broker, found by its config under the dev stack's directory, stopped as an
 * outage stops it and started again the same way (same command line, same data: the topic stays).
 */
export function devKafkaBroker(dir: string) {
  const config = join(dir, "kafka", "server.properties");
  const find = () => {
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
        if (argv.includes("kafka.Kafka") && argv.includes(config)) {
          return { pid: Number(pid), argv, cwd: readlinkSync(`/proc/${pid}/cwd`) };
        }
      } catch {
        // a process that ended while we looked
      }
    }
    return undefined;
  };
  let restarted: ChildProcess | undefined;
  return {
    async stop() {
      const broker = find();
      if (!broker) throw new Error(`no Kafka broker runs with ${config}`);
      process.kill(broker.pid, "SIGTERM");
      await eventually(() => (find() ? undefined : true), { timeoutMs: 60_000, what: "the broker to stop" });
      return broker;
    },
    start(broker: { argv: string[]; cwd: string }) {
      restarted = spawn(broker.argv[0]!, broker.argv.slice(1), {
        cwd: broker.cwd,
        stdio: "ignore",
        detached: true,
      });
    },
    /** The broker this helper started, if any: the dev stack does not know of it. */
    killRestarted() {
      if (restarted && restarted.exitCode === null) restarted.kill("SIGKILL");
    },
  };
}

/**
 * Runs an npm script against the dev stack to its end, without blocking this process's event loop:
 * a blocked loop misses that the dev servers closed idle keep-alive sockets, and the next request
 * on one fails with "other side closed".
 */
export function runNpm(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", ...args], { env: withoutTestLinks() });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The figures of `npm run simulate`'s report, as it prints them (NaN where a line is missing). */
export function simulateReport(report: string) {
  const figure = (pattern: RegExp) => Number(report.match(pattern)?.[1] ?? Number.NaN);
  return {
    run: report.match(/run (\S+)\n/)?.[1],
    orders: figure(/simulate: (\d+) orders/),
    captured: figure(/captured (\d+)/),
    authorized: figure(/authorized for review (\d+)/),
    declined: figure(/failed \(declined\)\s+(\d+)/),
    declinedSent: figure(/failed \(declined\)\s+\d+ of (\d+)/),
    rejected: figure(/rejected \(fraud\)\s+(\d+)/),
    malformed: figure(/malformed\s+(\d+) sent/),
    noOutcome: figure(/no outcome\s+(\d+)/),
    dlq: figure(/DLQ'd\s+(\d+)/),
    morePayments: figure(/→ (\d+) order\(s\) with more than one payment/),
    charges: figure(/Stripe charges\s+(\d+)/),
    chargedTwice: figure(/(\d+) order\(s\) charged more than once/),
  };
}

/** The environment for a CLI run against the dev stack: the test run's own links removed. */
function withoutTestLinks(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env))
    if (key.startsWith("SST_RESOURCE_") || key.startsWith("AWS_ENDPOINT_URL")) delete env[key];
  return env;
}
