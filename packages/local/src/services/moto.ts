import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { installOnce, run } from "../install";
import { cacheDir } from "../paths";
import { requireCommand } from "../prerequisites";
import { type RunningService, startProcess } from "../process";

/** The moto release the local stack is tested with. */
export const MOTO_VERSION = "5.2.5";

/** Installs moto's server into a venv in the cache (once). Returns the venv's python. */
export async function ensureMoto(): Promise<string> {
  requireCommand("python3");
  const venv = join(cacheDir(), `moto-${MOTO_VERSION}`);
  await installOnce(venv, `moto[server] ${MOTO_VERSION} (PyPI, in a venv)`, async () => {
    await run("python3", ["-m", "venv", venv]);
    await run(join(venv, "bin", "pip"), [
      "install",
      "--quiet",
      "--disable-pip-version-check",
      `moto[server]==${MOTO_VERSION}`,
    ]);
  });
  return join(venv, "bin", "python");
}

/** Our launcher of moto_server: the same server, with its SQS model's O(n²) receive fixed. */
const launcher = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "moto", "run_moto.py");

/**
 * Starts moto_server: one endpoint for SQS, EventBridge, Secrets Manager and SSM. Its state lives
 * in memory, so the dev stack re-creates its resources at every start (idempotently).
 */
export async function startMoto(options: {
  port: number;
  logDir: string;
}): Promise<RunningService & { endpoint: string }> {
  const python = await ensureMoto();
  const endpoint = `http://127.0.0.1:${options.port}`;
  const service = await startProcess({
    name: "moto_server",
    command: python,
    args: [launcher, "-H", "127.0.0.1", "-p", String(options.port)],
    logFile: join(options.logDir, "moto.log"),
    healthy: async () => (await fetch(`${endpoint}/moto-api/`)).status < 500,
  });
  return { ...service, endpoint };
}
