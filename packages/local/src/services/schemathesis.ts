import { join } from "node:path";
import { installOnce, run } from "../install";
import { cacheDir } from "../paths";
import { requireCommand } from "../prerequisites";

/** The schemathesis release the API's OpenAPI document is checked with (PyPI). */
export const SCHEMATHESIS_VERSION = "4.32.5";

/**
 * Installs schemathesis into a venv in the cache (once), for the test that checks the API's answers
 * against its OpenAPI document. Returns the path of its `st` command.
 */
export async function ensureSchemathesis(): Promise<string> {
  requireCommand("python3");
  const venv = join(cacheDir(), `schemathesis-${SCHEMATHESIS_VERSION}`);
  await installOnce(venv, `schemathesis ${SCHEMATHESIS_VERSION} (PyPI, in a venv)`, async () => {
    await run("python3", ["-m", "venv", venv]);
    await run(join(venv, "bin", "pip"), [
      "install",
      "--quiet",
      "--disable-pip-version-check",
      `schemathesis==${SCHEMATHESIS_VERSION}`,
    ]);
  });
  return join(venv, "bin", "st");
}
