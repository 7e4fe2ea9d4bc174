import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { paymentEventJsonSchemas } from "./json-schemas";
import { loadSamples } from "./samples";

const dir = join(dirname(fileURLToPath(import.meta.url)), "schemas");

describe("the published JSON Schemas", () => {
  it("are the ones the zod schemas generate (run `npm run schemas` after changing an event)", () => {
    const generated = paymentEventJsonSchemas();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(generated).sort());
    for (const [name, schema] of Object.entries(generated)) {
      expect(JSON.parse(readFileSync(join(dir, name), "utf8")), name).toEqual(schema);
    }
  });

  it("name every sample envelope's type and version", () => {
    const names = new Set(readdirSync(dir));
    for (const { body } of loadSamples("envelopes")) {
      const { type, schemaVersion } = body as { type: string; schemaVersion: number };
      expect(names.has(`${type}.v${schemaVersion}.json`), `${type} v${schemaVersion}`).toBe(true);
    }
  });
});
