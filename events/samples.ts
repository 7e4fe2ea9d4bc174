import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "samples");

/** Every sample under events/samples/<source>/<variant>.json, freshly parsed (safe to edit). */
export function loadSamples(source: string): Array<{ variant: string; body: unknown }> {
  return readdirSync(join(root, source))
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => ({
      variant: name.replace(/\.json$/, ""),
      body: loadSample(source, name.replace(/\.json$/, "")),
    }));
}

/** One sample, freshly parsed, so a test may change it without touching another's. */
export function loadSample<T = unknown>(source: string, variant: string): T {
  return JSON.parse(readFileSync(join(root, source, `${variant}.json`), "utf8")) as T;
}
