/**
 * `npm run schemas` (after the JSON Schemas): writes events/asyncapi.json, the bus carrying the
 * public events of packages/topology, and rewrites the generated sections of docs/ (the event
 * catalogue, the API's and the console's routes) from the code, then formats what it generated.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { paymentEventsAsyncApi } from "@payments/events/json-schemas";
import { busEventTypes } from "@payments/topology";
import { generatedSections, withSection } from "./catalogue";

writeFileSync(
  join(process.cwd(), "events", "asyncapi.json"),
  `${JSON.stringify(paymentEventsAsyncApi(busEventTypes), null, 2)}\n`,
);
console.log("wrote the AsyncAPI 3 document to events/asyncapi.json");

const docs = join(process.cwd(), "docs");
for (const [file, sections] of Object.entries(generatedSections)) {
  const path = join(docs, file);
  let text = readFileSync(path, "utf8");
  for (const [name, build] of Object.entries(sections)) text = withSection(text, name, build());
  writeFileSync(path, text);
  console.log(`wrote the generated sections of docs/${file}: ${Object.keys(sections).join(", ")}`);
}
// Formatted as the lint formats them (the docs' tables padded, the schemas' short arrays on one
// line), so that what `npm run schemas` writes is what the repository holds.
execFileSync(
  join(process.cwd(), "node_modules", ".bin", "biome"),
  [
    "format",
    "--write",
    ...Object.keys(generatedSections).map((file) => join("docs", file)),
    join("events", "schemas"),
    join("events", "asyncapi.json"),
  ],
  { stdio: "inherit" },
);
