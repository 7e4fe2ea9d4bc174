import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy in front of DynamoDB Local that counts the requests by operation (the
 * `X-Amz-Target` header, e.g. `TransactWriteItems`), for a test that must observe what the code
 * under test did not do. Point `AWS_ENDPOINT_URL_DYNAMODB` at its `url`.
 */
export async function startDynamoCountProxy(target: string) {
  const upstream = new URL(target);
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const operation =
      String(req.headers["x-amz-target"] ?? "")
        .split(".")
        .at(-1) ?? "";
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** How many requests of an operation went through so far. */
    count: (operation: string) => counts.get(operation) ?? 0,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
