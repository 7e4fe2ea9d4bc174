import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface EventBridgeFaults {
  /** Fraction of PutEvents entries answered as failed (FailedEntryCount), never forwarded. */
  entryFailureRate: number;
  /** Fraction of PutEvents requests answered with a 500, nothing forwarded. */
  requestFailureRate: number;
}

export interface EventBridgeFaultProxy {
  readonly url: string;
  readonly faults: EventBridgeFaults;
  /** What the proxy saw: PutEvents calls, entries forwarded, entries failed on purpose, 500s. */
  counts(): { putEvents: number; forwarded: number; failedEntries: number; failedRequests: number };
  stop(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

/**
 * A small proxy in front of the AWS emulator that makes EventBridge fail the way it does in
 * production: PutEvents answers some entries with `InternalFailure` (counted in FailedEntryCount,
 * the others really published), or the whole request with a 500. Everything else passes through.
 * `random` is injectable so a seeded run fails the same entries again.
 */
export async function startEventBridgeFaultProxy(options: {
  target: string;
  faults?: Partial<EventBridgeFaults>;
  random?: () => number;
}): Promise<EventBridgeFaultProxy> {
  const target = new URL(options.target);
  const random = options.random ?? Math.random;
  const faults: EventBridgeFaults = { entryFailureRate: 0, requestFailureRate: 0, ...options.faults };
  const counts = { putEvents: 0, forwarded: 0, failedEntries: 0, failedRequests: 0 };

  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, "content-length": String(body.length) };
      const out = httpRequest(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: {
                "content-type": String(res.headers["content-type"] ?? "application/x-amz-json-1.1"),
              },
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      out.on("error", reject);
      out.end(body);
    });

  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      if (req.headers["x-amz-target"] !== "AWSEvents.PutEvents") {
        const answer = await forward(req, body);
        res.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      }
      counts.putEvents++;
      if (random() < faults.requestFailureRate) {
        counts.failedRequests++;
        res
          .writeHead(500, { "content-type": "application/x-amz-json-1.1" })
          .end(JSON.stringify({ __type: "InternalException", message: "injected by the fault proxy" }));
        return;
      }
      const request = JSON.parse(body.toString("utf8")) as { Entries: unknown[] };
      const failed = request.Entries.map(() => random() < faults.entryFailureRate);
      const kept = request.Entries.filter((_, i) => !failed[i]);
      let forwardedResults: Array<Record<string, unknown>> = [];
      if (kept.length > 0) {
        const answer = await forward(req, Buffer.from(JSON.stringify({ ...request, Entries: kept })));
        if (answer.status !== 200) {
          res.writeHead(answer.status, answer.headers).end(answer.body);
          return;
        }
        forwardedResults = (
          JSON.parse(answer.body.toString("utf8")) as { Entries: Array<Record<string, unknown>> }
        ).Entries;
        counts.forwarded += kept.length;
      }
      let next = 0;
      const entries = failed.map((isFailed) =>
        isFailed
          ? { ErrorCode: "InternalFailure", ErrorMessage: "injected by the fault proxy" }
          : forwardedResults[next++],
      );
      const failedCount = entries.filter((e) => e?.ErrorCode).length;
      counts.failedEntries += failed.filter(Boolean).length;
      res
        .writeHead(200, { "content-type": "application/x-amz-json-1.1" })
        .end(JSON.stringify({ FailedEntryCount: failedCount, Entries: entries }));
    } catch (error) {
      res.writeHead(502).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    counts: () => ({ ...counts }),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
