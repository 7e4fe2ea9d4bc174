import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname } from "node:path";

export interface RunningService {
  readonly name: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface StartProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go; the last lines are quoted when the service fails to start. */
  readonly logFile: string;
  /** Resolves true once the service answers. */
  readonly healthy: () => Promise<boolean>;
  readonly timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a server process and waits until it is healthy. Fails loudly, with the tail of its log,
 * when it exits early or does not become healthy in time.
 */
export async function startProcess(options: StartProcessOptions): Promise<RunningService> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child = spawn(options.command, options.args as string[], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: false,
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    tail.push(...chunk.toString().split("\n").filter(Boolean));
    if (tail.length > 20) tail.splice(0, tail.length - 20);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: number | null | undefined;
  let spawnError: Error | undefined;
  child.on("exit", (code) => {
    exited = code;
  });
  child.on("error", (error) => {
    spawnError = error;
  });

  const service: RunningService = { name: options.name, pid: child.pid, stop: () => stopChild(child, log) };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`${options.name} could not start: ${spawnError.message}`);
    if (exited !== undefined) {
      throw new Error(`${options.name} exited with code ${exited} while starting:\n${tail.join("\n")}`);
    }
    if (await options.healthy().catch(() => false)) return service;
    await sleep(100);
  }
  await service.stop();
  throw new Error(
    `${options.name} did not become healthy in ${options.timeoutMs ?? 60_000} ms:\n${tail.join("\n")}`,
  );
}

function stopChild(child: ChildProcess, log: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      log.end();
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      log.end();
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** The ports the kernel gives outgoing connections (Linux's default where it does not say). */
function ephemeralPorts(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high) return { low, high };
  } catch {
    // Not Linux: its default below.
  }
  return { low: 32768, high: 60999 };
}

const LOWEST_PORT = 10_000;
const handedOut = new Set<number>();

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });

/**
 * A free TCP port on loopback for a server to bind, below the kernel's ephemeral range: a port the
 * kernel picks (listen on 0) is one it may give the next outgoing connection as its source port,
 * and a Kafka started beside three other servers' health checks once found its own taken that way
 * (`Address already in use`). Never the same port twice in one process.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralPorts();
  for (let attempt = 0; low > LOWEST_PORT + 1000 && attempt < 200; attempt++) {
    const port = LOWEST_PORT + Math.floor(Math.random() * (low - LOWEST_PORT));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${LOWEST_PORT} and ${low} on 127.0.0.1`);
}
