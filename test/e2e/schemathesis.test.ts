import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import {
  ensureSchemathesis,
  type LocalStack,
  linkedEnvironment,
  type StripeProxy,
  startStripeProxy,
} from "@payments/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silenceConsole } from "../helpers/output";
import { testStack } from "../helpers/stack";

/**
 * Schemathesis (PyPI, installed into a cached venv) against the API served over HTTP on the test
 * stack: every answer's content type and body must be one its OpenAPI document describes, the
 * providers' own reply shapes on the webhook routes included. Seeded; the seed is in the output.
 */
const stack: LocalStack = testStack();
let proxy: StripeProxy;
let st: string;
let url: string;
let token: string;
let close: () => Promise<void>;
let restoreConsole: () => void;

beforeAll(async () => {
  st = await ensureSchemathesis();
  restoreConsole = silenceConsole();
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_DEV: "true",
  });
  const { app } = await import("@payments/functions/api");
  const { issueToken } = await import("@payments/functions/api/auth");
  token = await issueToken(stack.secretValues.JwtSecret, { subject: "schemathesis" });
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
}, 300_000);

afterAll(async () => {
  await close?.();
  await proxy?.stop();
  restoreConsole?.();
});

/** Runs `st` to its end, without blocking the event loop (the API it tests runs in this process). */
function schemathesis(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Its cache of crashes goes in a directory of its own, not in the checkout.
    const child = spawn(st, args, {
      cwd: mkdtempSync(join(tmpdir(), "schemathesis-")),
      env: { ...process.env, NO_COLOR: "1", SCHEMATHESIS_TELEMETRY: "false" },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("the API against its OpenAPI document, by schemathesis", () => {
  it("answers only with content types and bodies the document describes", async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    const { code, output } = await schemathesis([
      "run",
      `${url}/openapi.json`,
      "--url",
      url,
      "--checks",
      "content_type_conformance,response_schema_conformance",
      "--max-examples",
      "25",
      "--seed",
      String(seed),
      "--header",
      `Authorization: Bearer ${token}`,
    ]);
    const summary = output.slice(output.lastIndexOf("SUMMARY"));
    // It ran: every operation of the document was tested, and cases were generated.
    expect(summary, output.slice(-3000)).toMatch(/Tested: (\d+)/);
    expect(Number(summary.match(/Tested: (\d+)/)?.[1])).toBeGreaterThanOrEqual(11);
    expect(Number(summary.match(/(\d+) generated/)?.[1])).toBeGreaterThan(100);
    expect({
      seed,
      code,
      failures: output.slice(output.indexOf("FAILURES"), output.indexOf("FAILURES") + 3000),
    }).toMatchObject({
      code: 0,
    });
  }, 600_000);
});
