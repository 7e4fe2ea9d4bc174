import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * X-Ray (SPEC §8, issue 22): stacks/ turns active tracing on for every function, and the functions
 * load Powertools' Tracer, and with it the X-Ray SDK, only when it is on.
 */
const root = process.cwd();
function sources(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts")
      ? [{ path, text: readFileSync(path, "utf8") }]
      : [];
  });
}

describe("tracing", () => {
  it("is active on every function: registered before any stack creates one", () => {
    const config = readFileSync(join(root, "sst.config.ts"), "utf8");
    const registered = config.indexOf('(await import("./stacks/tracing")).traceEveryFunction()');
    expect(registered).toBeGreaterThan(0);
    expect(registered).toBeLessThan(config.indexOf('await import("./stacks/storage")'));
    const stack = readFileSync(join(root, "stacks", "tracing.ts"), "utf8");
    expect(stack).toContain("$transform(sst.aws.Function,");
    expect(stack).toContain('fn.tracingConfig = { mode: "Active" }');
    expect(stack).toContain('POWERTOOLS_TRACE_ENABLED: "true"');
    expect(stack).toContain('"xray:PutTraceSegments"');
  });

  it("loads the Tracer only when it is on: one dynamic import, no static one", () => {
    const code = sources(join(root, "packages", "functions", "src"));
    const importers = code.filter((f) => f.text.includes("@aws-lambda-powertools/tracer"));
    expect(importers.map((f) => f.path.slice(root.length + 1))).toEqual([
      "packages/functions/src/shared/observability.ts",
    ]);
    const text = importers[0]!.text;
    expect(text).not.toMatch(/^import .*@aws-lambda-powertools\/tracer/m);
    expect(text).toMatch(
      /process\.env\.POWERTOOLS_TRACE_ENABLED === "true"\s*\?\s*new \(await import\("@aws-lambda-powertools\/tracer"\)\)/,
    );
  });

  it("is off in these tests, where the flag is not set: clients are left as they are", async () => {
    expect(process.env.POWERTOOLS_TRACE_ENABLED).toBeUndefined();
    const { tracer, traced } = await import("@payments/functions/shared/observability");
    expect(tracer).toBeUndefined();
    const client = { send: () => undefined };
    expect(traced(client)).toBe(client);
  });
});
