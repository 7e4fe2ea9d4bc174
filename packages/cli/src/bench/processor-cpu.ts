import { spawn } from "node:child_process";
import diagnostics from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { Session } from "node:inspector/promises";
import { createInterface } from "node:readline";
import { type AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack, linkedEnvironment } from "@payments/local";
import type { Context, SQSEvent } from "aws-lambda";
import { writeUnits as billedUnits, itemSizeBytes } from "./write-units";

export interface ProcessorCpuResult {
  readonly payments: number;
  /** process.cpuUsage over the handler, per payment (ms), without the profiler. */
  readonly cpuMsPerPayment: number;
  /** Wall time of the handler per payment (ms). */
  readonly wallMsPerPayment: number;
  /** Of the handler's wall time per payment: inside requests to each server (ms). */
  readonly waitingMsPerPayment: Record<string, number>;
  /** CPU self time per payment by whose code ran it, from a CPU profile of a second run (ms). */
  readonly cpuByOwner: Record<string, number>;
  readonly dynamoRequestsPerPayment: Record<string, number>;
  readonly writeUnitsPerPayment: number;
  readonly readUnitsPerPayment: number;
  /**
   * Write request units as AWS bills them (its published rules, applied to each request here): one
   * per started KB of each item written, twice that inside TransactWriteItems (a ConditionCheck
   * counts as a write). DynamoDB Local does not double transactional writes.
   */
  readonly billedWriteUnitsPerPayment: number;
  /** Items over 1 KB (each billed a unit more, twice in a transaction), per payment, by kind. */
  readonly oversizedPerPayment: Readonly<Record<string, { perPayment: number; largestBytes: number }>>;
  /**
   * The same counts for customers' first payments and for returning customers' (each the customer's
   * second), in runs of their own before the CPU run: a first payment also writes the customer's
   * lifetime item. The CPU run's mix of customers is in the figures above.
   */
  readonly byCustomer: Readonly<
    Record<
      "first" | "returning",
      {
        payments: number;
        dynamoRequestsPerPayment: Record<string, number>;
        billedWriteUnitsPerPayment: number;
      }
    >
  >;
  readonly outcomes: Record<string, number>;
}

type Owner = string;

const ANY_SERVER = "any server";

/** Whose code a profiled frame is: ours (packages/, events/), a library's, or Node's own. */
function ownerOf(url: string, functionName: string): Owner | undefined {
  if (functionName === "(idle)") return undefined;
  if (!url) return functionName === "(garbage collector)" ? "garbage collection" : "Node runtime";
  if (url.startsWith("node:")) return "Node runtime";
  const inModules = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
  if (!inModules) return url.includes("/packages/") || url.includes("/events/") ? "our code" : "Node runtime";
  if (inModules.startsWith("@aws-sdk/") || inModules.startsWith("@smithy/")) return "AWS SDK";
  if (inModules === "electrodb") return "ElectroDB";
  if (inModules === "stripe") return "Stripe SDK";
  if (inModules.startsWith("@aws-lambda-powertools/")) return "Powertools";
  if (["zod", "lossless-json", "ulid"].includes(inModules))
    return "zod, lossless-json, ulid (called by our code)";
  return `other: ${inModules}`;
}

function sqsEvent(bodies: readonly string[], first: number): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${first + i}`,
      receiptHandle: "rh",
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "bench",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:OrderQueue",
      awsRegion: "us-east-1",
    })),
  };
}

/**
 * What one payment costs process-payment on the happy path (SPEC §9): the handler invoked in process
 * with batches of 10 format A messages, as Lambda invokes it, against DynamoDB Local and the Stripe
 * proxy in a process of its own in front of stripe-mock. It measures CPU with process.cpuUsage, the
 * time spent waiting on each server (node:http's diagnostics channels), DynamoDB requests and the
 * capacity DynamoDB Local reports for them (ReturnConsumedCapacity on every request), and, in a second
 * run under the inspector's CPU profiler, whose code the CPU went to.
 */
export async function runProcessorCpuBench(
  stack: LocalStack,
  { payments, log }: { payments: number; log: (line: string) => void },
): Promise<ProcessorCpuResult> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", new URL("./stripe-proxy-process.ts", import.meta.url).pathname, stack.stripeMockUrl],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const proxyUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the Stripe proxy process exited with ${code}`)));
  });
  try {
    Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxyUrl }), {
      POWERTOOLS_LOG_LEVEL: "ERROR",
      POWERTOOLS_METRICS_DISABLED: "true",
    });
    const { createProcessorWiring } = await import("@payments/functions/shared/processor-wiring");
    const { createBatchHandler } = await import("@payments/functions/process-payment/batch-handler");
    const { logger, metrics } = await import("@payments/functions/shared/observability");
    const { fraudThresholdsFromConfig } = await import("@payments/core");

    // DynamoDB requests by operation, and the capacity DynamoDB Local says each consumed.
    const requests: Record<string, number> = {};
    let writeUnits = 0;
    let readUnits = 0;
    let billedWriteUnits = 0;
    type Written = { Item?: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> };
    /** One item's billed units: by its size when the request carries it (a Put), else 1 (updates of small items). */
    /** Items written over 1 KB, by what they are (an event's type, or the item's sort key's kind). */
    const oversized: Record<string, { count: number; largest: number }> = {};
    const TYPES = new Set(["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"]);
    /** The item as DynamoDB sizes it: the document client's requests carry it unmarshalled here. */
    const attributeValues = (item: Record<string, unknown>) =>
      Object.values(item).every(
        (v) =>
          v !== null && typeof v === "object" && Object.keys(v).length === 1 && TYPES.has(Object.keys(v)[0]!),
      )
        ? (item as Record<string, AttributeValue>)
        : marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true });
    const unitsOf = (written: Written | undefined, transactional: boolean) => {
      if (!written?.Item) return transactional ? 2 : 1;
      const item = attributeValues(written.Item as Record<string, unknown>);
      const bytes = itemSizeBytes(item);
      if (bytes > 1024) {
        const kind = item.type?.S ?? item.sk?.S?.split("#")[0] ?? "item";
        oversized[kind] ??= { count: 0, largest: 0 };
        const seen = oversized[kind];
        seen.count += 1;
        seen.largest = Math.max(seen.largest, bytes);
      }
      return billedUnits(item, { transactional });
    };
    const client = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: stack.dynamoEndpoint,
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "TOTAL";
        const out = await next(args);
        const name = context.commandName ?? "unknown";
        requests[name] = (requests[name] ?? 0) + 1;
        const input = args.input as {
          Item?: Written["Item"];
          TransactItems?: Array<{
            Put?: Written;
            Update?: Written;
            Delete?: Written;
            ConditionCheck?: Written;
          }>;
        };
        if (name === "TransactWriteItemsCommand")
          for (const t of input.TransactItems ?? [])
            billedWriteUnits += unitsOf(t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck, true);
        else if (/^(Put|Update|Delete)ItemCommand$/.test(name)) billedWriteUnits += unitsOf(input, false);
        const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
        for (const c of (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as Array<{
          CapacityUnits?: number;
          WriteCapacityUnits?: number;
          ReadCapacityUnits?: number;
        }>) {
          if (c.WriteCapacityUnits !== undefined || c.ReadCapacityUnits !== undefined) {
            writeUnits += c.WriteCapacityUnits ?? 0;
            readUnits += c.ReadCapacityUnits ?? 0;
          } else if (/Get|Query|Scan/.test(name)) readUnits += c.CapacityUnits ?? 0;
          else writeUnits += c.CapacityUnits ?? 0;
        }
        return out;
      },
      { step: "initialize", name: "benchConsumedCapacity" },
    );
    const wiring = createProcessorWiring({
      fraudThresholds: fraudThresholdsFromConfig({}),
      dynamodb: () => client,
    });
    const handler = createBatchHandler({
      processOrder: wiring.processOrder,
      defaultCurrency: "usd",
      logger,
      metrics,
      maxReceiveCount: 3,
    });

    // Time inside requests to each server, from node:http's diagnostics channels.
    const servers: Record<string, string> = {
      [new URL(stack.dynamoEndpoint).host]: "DynamoDB Local",
      [new URL(proxyUrl).host]: "Stripe (proxy + stripe-mock)",
    };
    // The handler runs a batch's records at once: what counts is the time at least one request to a
    // server was in flight (the union of the intervals), per server and for any server.
    const waiting: Record<string, number> = {};
    const inFlight: Record<string, { count: number; since: number }> = {};
    const serverOf = new WeakMap<ClientRequest, string>();
    const enter = (key: string) => {
      inFlight[key] ??= { count: 0, since: 0 };
      const slot = inFlight[key];
      if (slot.count === 0) slot.since = performance.now();
      slot.count += 1;
    };
    const leave = (key: string) => {
      const slot = inFlight[key];
      if (!slot || slot.count === 0) return;
      slot.count -= 1;
      if (slot.count === 0) waiting[key] = (waiting[key] ?? 0) + performance.now() - slot.since;
    };
    const onStart = ({ request }: { request: ClientRequest }) => {
      const server = servers[String(request.getHeader("host") ?? "")];
      if (!server) return;
      serverOf.set(request, server);
      enter(server);
      enter(ANY_SERVER);
    };
    const onFinish = ({ request }: { request: ClientRequest }) => {
      const server = serverOf.get(request);
      if (!server) return;
      serverOf.delete(request);
      leave(server);
      leave(ANY_SERVER);
    };
    diagnostics.subscribe("http.client.request.start", onStart as (m: unknown) => void);
    diagnostics.subscribe("http.client.response.finish", onFinish as (m: unknown) => void);

    const run = Date.now().toString(36);
    const outcomes: Record<string, number> = {};
    const context = { functionName: "process-payment", getRemainingTimeInMillis: () => 30_000 } as Context;
    let sequence = 0;
    /** Invokes the handler with `count` payments, in batches of 10, each by the customer `customerOf` names. */
    const invokeAll = async (count: number, customerOf = (n: number) => `cus-${run}-${n % 500}`) => {
      for (let i = 0; i < count; i += 10) {
        const bodies = Array.from({ length: Math.min(10, count - i) }, () => {
          const n = sequence++;
          return JSON.stringify({
            order_id: `cpu-${run}-${n}`,
            customer_id: customerOf(n),
            amount: "25.99",
            payment_method_id: "pm_card_visa",
          });
        });
        const response = await handler(sqsEvent(bodies, sequence), context);
        outcomes.failedRecords = (outcomes.failedRecords ?? 0) + response.batchItemFailures.length;
      }
    };
    const resetCounts = () => {
      for (const key of Object.keys(requests)) delete requests[key];
      for (const key of Object.keys(waiting)) delete waiting[key];
      writeUnits = 0;
      readUnits = 0;
      billedWriteUnits = 0;
      for (const kind of Object.keys(oversized)) delete oversized[kind];
    };

    log("processor CPU: warming up (module loading and JIT are not per payment)…");
    await invokeAll(100);
    // First payments of new customers, then each of them again: what each kind of payment writes.
    const byCustomerCount = Math.min(200, payments);
    const byCustomer = {} as Record<"first" | "returning", ProcessorCpuResult["byCustomer"]["first"]>;
    for (const kind of ["first", "returning"] as const) {
      log(
        `processor CPU: ${byCustomerCount} ${kind === "first" ? "first payments" : "returning customers' payments"}…`,
      );
      resetCounts();
      const firstOfKind = sequence;
      await invokeAll(byCustomerCount, (n) => `cus-${run}-kind-${(n - firstOfKind) % byCustomerCount}`);
      byCustomer[kind] = {
        payments: byCustomerCount,
        dynamoRequestsPerPayment: Object.fromEntries(
          Object.entries(requests).map(([k, v]) => [k, v / byCustomerCount]),
        ),
        billedWriteUnitsPerPayment: billedWriteUnits / byCustomerCount,
      };
    }
    resetCounts();

    log(`processor CPU: ${payments} payments, process.cpuUsage around the handler…`);
    const cpu = process.cpuUsage();
    const wallStart = performance.now();
    await invokeAll(payments);
    const wall = performance.now() - wallStart;
    const used = process.cpuUsage(cpu);
    const perPayment = (x: number) => x / payments;
    const waitingMsPerPayment = Object.fromEntries(
      Object.entries(waiting).map(([k, v]) => [k, perPayment(v)]),
    );
    const dynamoRequestsPerPayment = Object.fromEntries(
      Object.entries(requests).map(([k, v]) => [k, perPayment(v)]),
    );
    const writeUnitsPerPayment = perPayment(writeUnits);
    const readUnitsPerPayment = perPayment(readUnits);
    const billedWriteUnitsPerPayment = perPayment(billedWriteUnits);

    log(`processor CPU: ${payments} more payments under the CPU profiler…`);
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    await invokeAll(payments);
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    diagnostics.unsubscribe("http.client.request.start", onStart as (m: unknown) => void);
    diagnostics.unsubscribe("http.client.response.finish", onFinish as (m: unknown) => void);

    const ownerOfNode = new Map<number, Owner | undefined>();
    for (const node of profile.nodes)
      ownerOfNode.set(node.id, ownerOf(node.callFrame.url, node.callFrame.functionName));
    const selfUs: Record<Owner, number> = {};
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const owner = ownerOfNode.get(samples[i]!);
      if (owner) selfUs[owner] = (selfUs[owner] ?? 0) + (deltas[i] ?? 0);
    }
    client.destroy();
    return {
      payments,
      cpuMsPerPayment: perPayment((used.user + used.system) / 1000),
      wallMsPerPayment: perPayment(wall),
      waitingMsPerPayment,
      cpuByOwner: Object.fromEntries(Object.entries(selfUs).map(([k, v]) => [k, perPayment(v / 1000)])),
      dynamoRequestsPerPayment,
      writeUnitsPerPayment,
      readUnitsPerPayment,
      billedWriteUnitsPerPayment,
      byCustomer,
      oversizedPerPayment: Object.fromEntries(
        Object.entries(oversized).map(([kind, o]) => [
          kind,
          { perPayment: perPayment(o.count), largestBytes: o.largest },
        ]),
      ),
      outcomes,
    };
  } finally {
    child.kill("SIGTERM");
  }
}
