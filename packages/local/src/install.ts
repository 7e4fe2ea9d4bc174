import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Runs an install step once: skipped when its marker file exists, so a second run starts in
 * seconds. The marker is written only after the step succeeded, so a half-done install is redone.
 */
export function installOnce(dir: string, what: string, step: () => void): string {
  const marker = join(dir, ".installed");
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`local: installing ${what} into ${dir} (once; cached for later runs)…`);
  const started = Date.now();
  step();
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  console.log(`local: ${what} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

/** Runs a command to completion, failing loudly with its output. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const result = spawnSync(command, args as string[], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}
