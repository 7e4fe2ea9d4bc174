import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { paymentEventTypes } from "@payments/events";
import { openApiDocument } from "@payments/functions/api/openapi";
import { describe, expect, it } from "vitest";
import { generatedSections, sectionOf, tableContent } from "../../packages/cli/src/docs/catalogue";

/**
 * The repository's own docs (docs/*.md) are the product's contract for a newcomer: they must keep
 * up with the code, and the README must not send anyone outside the repository.
 */
const root = process.cwd();
const read = (path: string) => readFileSync(join(root, path), "utf8");

describe("docs/ in step with the code", () => {
  it.each(
    Object.entries(generatedSections).flatMap(([file, sections]) =>
      Object.entries(sections).map(([name, build]) => ({ file, name, build })),
    ),
  )(
    "docs/$file's generated $name section is current (npm run schemas rewrites it)",
    ({ file, name, build }) => {
      const section = sectionOf(read(join("docs", file)), name);
      expect(section, `docs/${file} has no generated:${name} markers`).toBeDefined();
      expect(tableContent(section!)).toBe(tableContent(build()));
    },
  );

  it("names every event type in docs/events.md", () => {
    const text = read("docs/events.md");
    expect(paymentEventTypes.filter((type) => !text.includes(`\`${type}\``))).toEqual([]);
  });

  it("names every route of the OpenAPI document in docs/api.md", () => {
    const text = read("docs/api.md");
    const paths = (openApiDocument() as { paths: Record<string, Record<string, unknown>> }).paths;
    const routes = Object.entries(paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThan(5);
    expect(routes.filter((route) => !text.includes(`\`${route}\``))).toEqual([]);
  });

  it("draws the architecture as a Mermaid diagram, which the repository's page renders", () => {
    expect(read("docs/architecture.md")).toMatch(/```mermaid\n(flowchart|graph) /);
  });
});

/** Every Markdown link target in a document: `[text](target)`. */
const linksOf = (text: string) => [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);

describe("links", () => {
  it.each(["README.md", "docs/architecture.md", "docs/api.md", "docs/events.md", "docs/operations.md"])(
    "%s links only to files inside the repository, and each exists",
    (file) => {
      const links = linksOf(read(file));
      expect(links.length).toBeGreaterThan(0);
      const outside = links.filter((link) => {
        if (/^[a-z]+:/i.test(link) || link.startsWith("//")) return true;
        const target = resolve(dirname(join(root, file)), link.split("#")[0]!);
        return relative(root, target).startsWith("..");
      });
      expect(outside).toEqual([]);
      const missing = links
        .map((link) => link.split("#")[0]!)
        .filter((path) => path && !existsSync(resolve(dirname(join(root, file)), path)));
      expect(missing).toEqual([]);
    },
  );
});
