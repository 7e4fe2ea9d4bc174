import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A fault an emulator answers instead of the provider: an HTTP status, or no answer at all. */
export interface EmulatorFault {
  /** Matches requests whose path contains this (all requests when not given). */
  readonly pathIncludes?: string;
  /** A status answered with an empty JSON body, or "down": the connection is dropped unanswered. */
  readonly respond: number | "down";
  /** How many matching requests get it; all of them when not given. */
  readonly times?: number;
}

export interface EmulatorRequest {
  readonly method: string;
  readonly path: string;
  readonly url: URL;
  readonly headers: IncomingMessage["headers"];
  /** The body as JSON, or as a form (ZaloPay takes both), as strings. */
  readonly body: Record<string, unknown>;
}

export type EmulatorReply = { readonly status: number; readonly body: unknown };

export interface RunningEmulator {
  readonly url: string;
  injectFaults(faults: readonly EmulatorFault[]): void;
  clearFaults(): void;
  /** How many requests each fault answered: a fault test asserts its fault fired. */
  faultsFired(): number;
  stop(): Promise<void>;
}

/**
 * The HTTP shell the provider emulators share: body parsing (JSON or form), fault rules, and a
 * count of the faults that fired. The emulator's own routes answer everything else.
 */
export async function serveEmulator(
  port: number | undefined,
  route: (request: EmulatorRequest) => Promise<EmulatorReply> | EmulatorReply,
): Promise<RunningEmulator> {
  let faults: Array<EmulatorFault & { left: number }> = [];
  let fired = 0;
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? "/", "http://emulator");
    const fault = faults.find(
      (f) => f.left > 0 && (!f.pathIncludes || url.pathname.includes(f.pathIncludes)),
    );
    if (fault && !url.pathname.startsWith("/_emulator")) {
      fault.left -= 1;
      fired += 1;
      if (fault.respond === "down") {
        res.destroy();
        return;
      }
      res.writeHead(fault.respond, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `injected ${fault.respond} by the emulator` }));
      return;
    }
    const form = (req.headers["content-type"] ?? "").includes("application/x-www-form-urlencoded");
    let body: Record<string, unknown> = {};
    try {
      body = raw
        ? form
          ? Object.fromEntries(new URLSearchParams(raw))
          : (JSON.parse(raw) as Record<string, unknown>)
        : {};
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "the body is not JSON" }));
      return;
    }
    const reply = await route({
      method: req.method ?? "GET",
      path: url.pathname,
      url,
      headers: req.headers,
      body,
    });
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(JSON.stringify(reply.body));
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: (error as Error).message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port ?? 0, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    injectFaults(rules) {
      faults = [...faults, ...rules.map((r) => ({ ...r, left: r.times ?? Number.POSITIVE_INFINITY }))];
    },
    clearFaults() {
      faults = [];
    },
    faultsFired: () => fired,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
