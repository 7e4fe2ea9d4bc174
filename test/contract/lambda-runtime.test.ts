import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lambdaDefaults, lambdaRuntime, nodeMajor, runtimeStanding } from "@payments/topology";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(join(root, file), "utf8");
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

/** Every Lambda runtime identifier that the stacks name, in any file, and the one topology names. */
function runtimesNamed(): Map<string, string[]> {
  const named = new Map<string, string[]>([[lambdaRuntime, ["packages/topology (lambdaRuntime)"]]]);
  const files = ["sst.config.ts", ...readdirSync(join(root, "stacks")).map((f) => `stacks/${f}`)];
  for (const file of files)
    for (const [runtime] of read(file).matchAll(/\bnodejs\d+\.x\b/g))
      named.set(runtime, [...(named.get(runtime) ?? []), file]);
  return named;
}

describe("the Lambda runtime", () => {
  it("is one AWS has not deprecated, and one more than 12 months from it or a warning is printed", () => {
    const now = new Date();
    const refused: string[] = [];
    for (const [runtime, where] of runtimesNamed()) {
      const standing = runtimeStanding(runtime, now);
      if (standing.status === "unknown")
        refused.push(
          `${runtime} (${where.join(", ")}) has no dates in topology's lambdaRuntimeDates: add AWS's`,
        );
      if (standing.status === "deprecated")
        refused.push(
          `${runtime} (${where.join(", ")}) was deprecated on ${standing.deprecation}; AWS refuses to create functions on it from ${standing.blockCreate}`,
        );
      if (standing.status === "deprecating")
        console.warn(
          `WARNING: ${runtime} (${where.join(", ")}) is deprecated by AWS on ${standing.deprecation}, in ${standing.daysLeft} days: move to a newer runtime`,
        );
    }
    expect(refused).toEqual([]);
  });

  it("is what every function gets from stacks/functions.ts, built for the same Node", () => {
    expect(lambdaDefaults.runtime).toBe(lambdaRuntime);
    expect(lambdaDefaults.nodejs.esbuild.target).toBe(`node${nodeMajor}`);
    expect(read("stacks/functions.ts")).toMatch(
      /export \{ lambdaDefaults \} from "\.\.\/packages\/topology\/src"/,
    );
  });

  it("has the same Node major here: the pinned node package, engines, .nvmrc and this very process", () => {
    const pkg = JSON.parse(read("package.json"));
    expect(major(pkg.devDependencies.node)).toBe(nodeMajor);
    expect(pkg.engines.node).toBe(`${nodeMajor}.x`);
    expect(major(read(".nvmrc"))).toBe(nodeMajor);
    expect(major(process.versions.node)).toBe(nodeMajor);
  });
});
