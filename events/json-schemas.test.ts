import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Parser } from "@asyncapi/parser";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { paymentEventJsonSchemas, paymentEventsAsyncApi } from "./json-schemas";
import { paymentEventSchemas } from "./payment-events";
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

describe("the AsyncAPI document", () => {
  it("is a valid AsyncAPI 3 document (that the file is current: test/contract/docs.test.ts)", async () => {
    const generated = JSON.parse(readFileSync(join(dir, "..", "asyncapi.json"), "utf8"));
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(generated));
    expect(
      diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join(".")}: ${d.message}`),
    ).toEqual([]);
    expect(document?.messages().length).toBeGreaterThanOrEqual(12);
  });

  it("accepts every current sample envelope as its message's payload, and refuses one of another type", () => {
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    const { components } = paymentEventsAsyncApi([]) as {
      components: { messages: Record<string, { payload: object }> };
    };
    let checked = 0;
    for (const { body } of loadSamples("envelopes")) {
      const { type, schemaVersion } = body as { type: string; schemaVersion: number };
      const message = components.messages[type];
      expect(message, type).toBeDefined();
      const validate = ajv.compile(message!.payload);
      const current = (paymentEventSchemas as Record<string, { schemaVersion: number }>)[type]!.schemaVersion;
      expect(validate(body), `${type} v${schemaVersion}: ${ajv.errorsText(validate.errors)}`).toBe(
        schemaVersion === current,
      );
      expect(validate({ ...(body as object), type: "SomethingElse" })).toBe(false);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });
});
