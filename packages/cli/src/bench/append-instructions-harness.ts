/**
 * One process of the instruction-count bench (append-instructions.ts): `node harness.mjs <scenario>
 * <warm-up> <operations>` runs one append scenario with the SDK answering every request at once, in
 * process: no socket and no server, so only the client's own work (the store's or the raw path's
 * code, the SDK, marshalling, signing) is counted.
 */
import { Readable } from "node:stream";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { appendScenarios, type ScenarioName } from "./append-scenarios";

/** An HTTP handler that answers every DynamoDB request with an empty success, as PutItem and TransactWriteItems do. */
const instantHandler = {
  handle: async () => ({
    response: {
      statusCode: 200,
      headers: { "content-type": "application/x-amz-json-1.0" },
      body: Readable.from([Buffer.from("{}")]),
    },
  }),
  updateHttpClientConfig() {},
  httpHandlerConfigs: () => ({}),
};

async function main() {
  const [scenario, warmUp, operations] = process.argv.slice(2);
  const client = new DynamoDBClient({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    requestHandler: instantHandler as never,
  });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const scenarios = appendScenarios({
    client,
    doc,
    table: "bench-events",
    castoreTable: "bench-castore",
    run: "cg",
  });
  const op = scenarios[scenario as ScenarioName];
  if (!op) throw new Error(`no scenario ${scenario}; one of ${Object.keys(scenarios).join(", ")}`);
  for (let i = 0; i < Number(warmUp); i++) await op();
  for (let i = 0; i < Number(operations); i++) await op();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
