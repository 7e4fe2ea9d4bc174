import { join } from "node:path";
import { installOnce, run } from "../install";
import { cacheDir } from "../paths";
import { requireCommand } from "../prerequisites";
import { freePort, type RunningService, startProcess } from "../process";

/** The stripe-mock release the local stack is tested with. */
export const STRIPE_MOCK_VERSION = "v0.203.0";

/** Builds stripe-mock with `go install` into the cache (once). Returns the binary's path. */
export async function ensureStripeMock(): Promise<string> {
  requireCommand("go");
  const bin = join(cacheDir(), `stripe-mock-${STRIPE_MOCK_VERSION}`);
  await installOnce(bin, `stripe-mock ${STRIPE_MOCK_VERSION} (go install)`, async () => {
    await run("go", ["install", `github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION}`], {
      env: { GOBIN: bin, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" },
    });
  });
  return join(bin, "stripe-mock");
}

/** Starts stripe-mock over plain HTTP on loopback. It is stateless: see the Stripe proxy for flows. */
export async function startStripeMock(options: {
  port: number;
  logDir: string;
}): Promise<RunningService & { url: string }> {
  const binary = await ensureStripeMock();
  const url = `http://127.0.0.1:${options.port}`;
  const service = await startProcess({
    name: "stripe-mock",
    command: binary,
    // It also serves HTTPS, on the fixed port 12112 unless told otherwise: a free port keeps two stacks apart.
    args: ["-http-addr", `127.0.0.1:${options.port}`, "-https-addr", `127.0.0.1:${await freePort()}`],
    logFile: join(options.logDir, "stripe-mock.log"),
    healthy: async () =>
      (await fetch(`${url}/v1/balance`, { headers: { Authorization: "Bearer sk_test_local" } })).status ===
      200,
  });
  return { ...service, url };
}
