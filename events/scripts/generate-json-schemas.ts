import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { paymentEventJsonSchemas, paymentEventsAsyncApi } from "../json-schemas";

/** `npm run schemas`: writes events/schemas/<Type>.v<N>.json and events/asyncapi.json from the zod schemas. */
const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas");
mkdirSync(dir, { recursive: true });
for (const name of readdirSync(dir)) rmSync(join(dir, name));
const schemas = paymentEventJsonSchemas();
for (const [name, schema] of Object.entries(schemas)) {
  writeFileSync(join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(schemas).length} JSON Schemas to events/schemas/`);
writeFileSync(join(dir, "..", "asyncapi.json"), `${JSON.stringify(paymentEventsAsyncApi(), null, 2)}\n`);
console.log("wrote the AsyncAPI 3 document to events/asyncapi.json");
