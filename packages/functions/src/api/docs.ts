/** A docs page for the API, rendered from the OpenAPI document on the server: no script, no CDN. */

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

interface Operation {
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string }>;
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { description?: string }>;
}

export function docsPage(document: Record<string, unknown>): string {
  const info = document.info as { title: string; description: string; version: string };
  const paths = document.paths as Record<string, Record<string, Operation>>;
  const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
  const operations = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const scope = op.security?.[0]?.bearer?.[0];
      const body = Object.values(op.requestBody?.content ?? {})[0]
        ?.schema.$ref?.split("/")
        .at(-1);
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<li><code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)}${p.required ? ", required" : ""})${p.description ? ` — ${escapeHtml(p.description)}` : ""}</li>`,
        )
        .join("");
      const responses = Object.entries(op.responses)
        .map(([code, r]) => `<li><code>${escapeHtml(code)}</code> ${escapeHtml(r.description ?? "")}</li>`)
        .join("");
      return `<section>
  <h2><span class="method">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h2>
  <p>${escapeHtml(op.summary ?? "")}</p>
  <p>${scope ? `Bearer token with <code>${escapeHtml(scope)}</code>` : "No token"}</p>
  ${params ? `<h3>Parameters</h3><ul>${params}</ul>` : ""}
  ${body ? `<h3>Body</h3><p><a href="#schema-${escapeHtml(body)}">${escapeHtml(body)}</a></p>` : ""}
  <h3>Responses</h3><ul>${responses}</ul>
</section>`;
    }),
  );
  const schemaSections = Object.entries(schemas)
    .map(
      ([name, s]) =>
        `<section id="schema-${escapeHtml(name)}"><h2>${escapeHtml(name)}</h2><pre>${escapeHtml(JSON.stringify(s, null, 2))}</pre></section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
  section { border-top: 1px solid #ddd; padding: 0.5rem 0; }
  .method { background: #0b5394; color: #fff; padding: 0 0.4rem; border-radius: 3px; font-size: 0.9em; }
  pre { background: #f4f4f4; padding: 0.75rem; overflow-x: auto; font-size: 0.85em; }
  code { font-size: 0.95em; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)}</p>
<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${operations.join("\n")}
<h1>Schemas</h1>
${schemaSections}
</main>
</body>
</html>`;
}
