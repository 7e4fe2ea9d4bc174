import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Runs an install step once: skipped when its marker file exists, so a second run starts in
 * seconds. The marker is written only after the step succeeded, so a half-done install is redone.
 */
export async function installOnce(dir: string, what: string, step: () => Promise<void>): Promise<string> {
  const marker = join(dir, ".installed");
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`local: installing ${what} into ${dir} (once; cached for later runs)…`);
  const started = Date.now();
  await step();
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  console.log(`local: ${what} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

/** Runs a command to completion without blocking the event loop, failing loudly with its output. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args as string[], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", (error) => reject(new Error(`${command} could not run: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} failed (exit ${code}):\n${output.slice(-4000)}`));
    });
  });
}
