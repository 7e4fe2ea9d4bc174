import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { paymentEventJsonSchemas } from "../json-schemas";

/**
 * `npm run schemas`: writes events/schemas/<Type>.v<N>.json from the zod schemas (events/asyncapi.json
 * is written next, by packages/cli/src/docs, which knows the bus's public events).
 */
const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas");
mkdirSync(dir, { recursive: true });
for (const name of readdirSync(dir)) rmSync(join(dir, name));
const schemas = paymentEventJsonSchemas();
for (const [name, schema] of Object.entries(schemas)) {
  writeFileSync(join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(schemas).length} JSON Schemas to events/schemas/`);
