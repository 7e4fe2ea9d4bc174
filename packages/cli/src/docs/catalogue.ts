import { legacyPaymentEventSchemas, paymentEventSchemas } from "@payments/events";
import { paymentEventJsonSchemas } from "@payments/events/json-schemas";
import { createApiApp } from "@payments/functions/api/app";
import { openApiDocument } from "@payments/functions/api/openapi";
import { createConsoleApp } from "@payments/functions/console/app";

/**
 * The parts of docs/ that are generated from the code, so that they cannot fall behind it:
 * the event catalogue (from the zod schemas), the API's routes (from the Hono app and its OpenAPI
 * document) and the console's routes (from its Hono app). `npm run schemas` rewrites them between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; test/contract/docs.test.ts fails when
 * one is out of date.
 */

/** A logger that says nothing: the apps are built here only to list their routes. */
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Never called: the apps are built only to list their routes. */
const unused = () => {
  throw new Error("docs: the app is built to list its routes only");
};

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
}

/** A field's type in a few words: `integer`, `"a" | "b"`, `string[]`, `{street, city, …}`. */
function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" \\| ");
  if (schema.type === "array") return `${schema.items ? typeOf(schema.items) : "unknown"}[]`;
  if (schema.type === "object" && schema.properties) return `{${Object.keys(schema.properties).join(", ")}}`;
  if (schema.type === "object") return "object";
  return Array.isArray(schema.type) ? schema.type.join(" \\| ") : (schema.type ?? "unknown");
}

/** The data fields of an event type's current version, from its generated JSON Schema. */
function fieldsOf(type: string, schemaVersion: number): string {
  const envelope = paymentEventJsonSchemas()[`${type}.v${schemaVersion}.json`] as JsonSchema;
  const schema = envelope.properties?.data ?? {};
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .map(([name, field]) => `\`${name}${required.has(name) ? "" : "?"}\`: ${typeOf(field)}`)
    .join("<br>");
}

/** Every event type: its current schema version, the older versions still read, and its data. */
export function eventCatalogue(): string {
  const rows = Object.entries(paymentEventSchemas).map(([type, { schemaVersion }]) => {
    const older = Object.keys(
      legacyPaymentEventSchemas[type as keyof typeof legacyPaymentEventSchemas] ?? {},
    );
    const versions = older.length
      ? `${schemaVersion} (reads ${older.map((v) => `v${v}`).join(", ")})`
      : String(schemaVersion);
    return `| \`${type}\` | ${versions} | ${fieldsOf(type, schemaVersion)} |`;
  });
  return ["| type | schemaVersion | data |", "| --- | --- | --- |", ...rows].join("\n");
}

/** Each route a Hono app answers: method and path, middleware left out, each once. */
function routesOf(app: { routes: ReadonlyArray<{ method: string; path: string }> }): Array<[string, string]> {
  const seen = new Set<string>();
  const out: Array<[string, string]> = [];
  for (const { method, path } of app.routes) {
    if (method === "ALL" || path.endsWith("*")) continue;
    const key = `${method} ${path}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push([method, path]);
    }
  }
  return out;
}

/** The API's routes with the OpenAPI document's scope and summary, as one Markdown table. */
export function apiRouteCatalogue(): string {
  const app = createApiApp({
    payments: unused,
    readModels: unused,
    store: unused,
    idempotent: unused,
    jwtSecret: unused,
    webhooks: unused,
    stripeLookup: unused,
    webhookSecrets: unused,
    logger: silent,
    metrics: undefined as never,
  } as unknown as Parameters<typeof createApiApp>[0]);
  const paths = (openApiDocument() as { paths: Record<string, Record<string, OpenApiOperation>> }).paths;
  const rows = routesOf(app).map(([method, path]) => {
    const openApiPath = path.replace(/:(\w+)/g, "{$1}");
    const operation = paths[openApiPath]?.[method.toLowerCase()];
    const scope = operation?.security?.[0]?.bearer?.[0] ?? (path.includes("webhook") ? "signature" : "none");
    const what =
      operation?.summary ??
      UNDOCUMENTED_API_ROUTES[path] ??
      `the same as \`${path.replace("/webhook/", "/webhooks/")}\`: the path already set in providers' dashboards`;
    return `| \`${method} ${openApiPath}\` | ${scope} | ${what} |`;
  });
  return ["| route | auth | what |", "| --- | --- | --- |", ...rows].join("\n");
}

/** What the routes outside the OpenAPI document are. */
const UNDOCUMENTED_API_ROUTES: Record<string, string> = {
  "/openapi.json": "the OpenAPI 3.1 document, generated from the routes' zod schemas",
  "/docs": "the OpenAPI document as a page (no script, nothing from a CDN)",
};

interface OpenApiOperation {
  summary?: string;
  security?: Array<{ bearer?: string[] }>;
}

/** The console's routes, as one Markdown table. */
export function consoleRouteCatalogue(): string {
  const app = createConsoleApp({
    jwtSecret: unused,
    store: unused,
    readModels: unused,
    attention: unused,
    reconcileAfterMs: 0,
    deliveries: unused,
    redriveDeliveries: unused,
    orderDlq: unused,
    verify: unused,
    logger: silent,
  } as unknown as Parameters<typeof createConsoleApp>[0]);
  const rows = routesOf(app).map(
    ([method, path]) =>
      `| \`${method} ${path.replace(/:(\w+)/g, "{$1}")}\` | ${consoleScope(method, path)} |`,
  );
  return ["| route | scope |", "| --- | --- |", ...rows].join("\n");
}

/** The scope a console route needs; sign-in, sign-out and the script need none. */
function consoleScope(method: string, path: string): string {
  if (["/console/sign-in", "/console/sign-out", "/console/assets/console.js"].includes(path)) return "none";
  return method === "GET" ? "payments:read" : CONSOLE_WRITE.has(path) ? "payments:write" : "payments:read";
}

const CONSOLE_WRITE = new Set([
  "/console/attention/:id/settle",
  "/console/attention/:id/resolve",
  "/console/attention/:id/manual-refund",
  "/console/delivery/redrive",
  "/console/dlq/redrive",
  "/console/verify",
]);

/** The generated sections of each document, by file under docs/. */
export const generatedSections = {
  "events.md": { events: eventCatalogue },
  "api.md": { routes: apiRouteCatalogue },
  "operations.md": { "console-routes": consoleRouteCatalogue },
} as const;

/** `text` with the section `name` replaced by `content`; throws when the markers are missing. */
export function withSection(text: string, name: string, content: string): string {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const from = text.indexOf(open);
  const to = text.indexOf(close);
  if (from < 0 || to < from) throw new Error(`docs: no ${open} … ${close} markers`);
  return `${text.slice(0, from + open.length)}\n${content}\n${text.slice(to)}`;
}

/**
 * A Markdown table as content, whatever its padding: cells' runs of spaces and the separator
 * row's dashes collapsed, so that a table the formatter padded compares equal to the generated one.
 */
export function tableContent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line.startsWith("|") ? line.replace(/ {2,}/g, " ").replace(/-{3,}/g, "---") : line))
    .join("\n")
    .trim();
}

/** The text between a section's markers. */
export function sectionOf(text: string, name: string): string | undefined {
  const open = `<!-- generated:${name} -->`;
  const from = text.indexOf(open);
  const to = text.indexOf(`<!-- /generated:${name} -->`);
  return from < 0 || to < from ? undefined : text.slice(from + open.length, to);
}
