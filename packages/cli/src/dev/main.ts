/**
 * `npm run dev [-- --fresh]`: the service offline on one machine, against real local servers
 * (SPEC §7). Data lives in .dev/ and survives a restart; --fresh wipes it. Ctrl-C stops everything.
 */

import "../shared/lambda-node";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import {
  describeSecrets,
  devTokenClaims,
  GATEWAY_DOWN_FAULT,
  LOCAL_ZALOPAY_APP_ID,
  linkedEnvironment,
  MissingPrerequisiteError,
  provisionLocalStack,
  type RunningDriver,
  secretValues,
  startLocalPlatform,
  startPayOSEmulator,
  startStripeProxy,
  startZaloPayEmulator,
} from "@payments/local";
import { lambdaRuntime, reconcilerDefaults } from "@payments/topology";
import { startFunctionDrivers } from "./functions";

// One line per invocation from the drivers; the functions' own logs from warnings up, no EMF metrics
// documents (set these to see them).
process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
// The spans the functions would send to a tracer on AWS, one line each (SPEC §5's trace context).
process.env.DEV_SPAN_LOG ??= "1";
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";

const { values } = parseArgs({ options: { fresh: { type: "boolean", default: false } } });
const root = process.cwd();
/** Where the dev stack keeps its data and stack.json: .dev/ in the checkout (DEV_DIR moves it, for tests). */
const devDir = process.env.DEV_DIR ?? join(root, ".dev");
/** A port, or a timing knob (DEV_VISIBILITY_TIMEOUT_SECONDS, DEV_SWEEPER_PERIOD_MS), from the environment. */
const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main() {
  if (values.fresh) rmSync(devDir, { recursive: true, force: true });
  mkdirSync(devDir, { recursive: true });
  const started = Date.now();
  console.log(
    `dev: on Node.js ${process.version}, as Lambda's ${lambdaRuntime}; starting DynamoDB Local, moto, Kafka and stripe-mock (installed on first use)…`,
  );
  const platform = await startLocalPlatform({
    ports: {
      dynamodb: setting("DEV_DYNAMODB_PORT", 8000),
      moto: setting("DEV_AWS_PORT", 4566),
      kafka: setting("DEV_KAFKA_PORT", 9092),
      stripeMock: setting("DEV_STRIPE_MOCK_PORT", 12111),
    },
    dataDir: devDir,
    logDir: join(devDir, "logs"),
  });
  const running: RunningDriver[] = [];
  let closeApi = async () => {};
  const apiPort = setting("DEV_API_PORT", 3000);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const keys = secretValues();
  const proxy = await startStripeProxy({
    stripeMockUrl: platform.stripeMockUrl,
    port: setting("DEV_STRIPE_PORT", 12110),
    // pm_dev_gatewayDown: a payment whose gateway is always down, for trying the DLQ and its redrive.
    faults: [GATEWAY_DOWN_FAULT],
    // Dashboard refunds (POST /_proxy/dashboard/refunds) send their events here, as Stripe would.
    webhook: { url: `${apiUrl}/webhooks/stripe`, secret: keys.StripeWebhookSecret },
  });
  const zalopay = await startZaloPayEmulator({
    appId: LOCAL_ZALOPAY_APP_ID,
    key1: keys.ZaloPayKey1,
    key2: keys.ZaloPayKey2,
    callbackUrl: `${apiUrl}/webhooks/zalopay`,
    port: setting("DEV_ZALOPAY_PORT", 12120),
  });
  const payos = await startPayOSEmulator({
    clientId: keys.PayOSClientId,
    apiKey: keys.PayOSApiKey,
    checksumKey: keys.PayOSChecksumKey,
    webhookUrl: `${apiUrl}/webhooks/payos`,
    port: setting("DEV_PAYOS_PORT", 12130),
  });
  let stopping = false;
  const stop = async () => {
    // Ctrl-C reaches npm, tsx and this process at once: a second signal must not cut the stop short.
    if (stopping) return;
    stopping = true;
    console.log("\ndev: stopping…");
    await Promise.all(running.map((d) => d.stop()));
    await closeApi();
    await proxy.stop();
    await zalopay.stop();
    await payos.stop();
    await platform.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  // Local runs shorten the visibility timeout so that a retry takes seconds; redrive stays at 3 receives.
  const stack = await provisionLocalStack(platform, {
    stage: "dev",
    visibilityTimeoutSeconds: setting("DEV_VISIBILITY_TIMEOUT_SECONDS", 20),
  });
  Object.assign(
    process.env,
    linkedEnvironment(stack, { stripeApiUrl: proxy.url, zalopayUrl: zalopay.url, payosUrl: payos.url }),
  );
  // SPEC §4.2: the dev stack checks iss and aud; its token (and npm run token's) carries both.
  const claims = devTokenClaims();
  Object.assign(process.env, { JWT_ISSUER: claims.issuer, JWT_AUDIENCE: claims.audience });
  const { app } = await import("@payments/functions/api");
  const { consoleApp } = await import("@payments/functions/console");
  const sweeperPeriodMs = setting("DEV_SWEEPER_PERIOD_MS", 15_000);
  const reconcilerPeriodMs = setting("DEV_RECONCILER_PERIOD_MS", 15_000);
  // SPEC §6.1: a payment open 30 s is stuck under npm run dev (10 minutes on AWS).
  process.env.RECONCILE_AFTER ??= String(reconcilerDefaults.devAfterSeconds);
  running.push(...(await startFunctionDrivers(stack, { sweeperPeriodMs, reconcilerPeriodMs })));
  const { issueToken } = await import("@payments/functions/api/auth");
  // One origin, as on AWS: /console to the console's function, everything else to the API's.
  const api = serve({
    fetch: (request, env) =>
      new URL(request.url).pathname.startsWith("/console")
        ? consoleApp.fetch(request, env)
        : app.fetch(request, env),
    port: apiPort,
    hostname: "127.0.0.1",
  });
  await new Promise<void>((resolve, reject) => {
    api.once("listening", () => resolve());
    api.once("error", reject);
  });
  closeApi = () => new Promise((resolve) => api.close(() => resolve()));
  const token = await issueToken(stack.secretValues.JwtSecret, { subject: "dev" });

  const description = {
    apiUrl,
    consoleUrl: `${apiUrl}/console`,
    token,
    awsEndpoint: stack.awsEndpoint,
    region: stack.region,
    tables: stack.tables,
    queues: {
      orders: stack.queues.orders.url,
      ordersDlq: stack.queues.ordersDlq.url,
      ordersFifo: stack.queues.ordersFifo.url,
      downstream: stack.queues.downstream.url,
      orderStatus: stack.queues.orderStatus.url,
      relayFailures: stack.queues.relayFailures.url,
    },
    bus: stack.bus.name,
    kafka: { brokers: stack.kafka.brokers, topic: stack.kafka.topic },
    stripeUrl: proxy.url,
    stripe: { url: proxy.url, dashboardRefundsUrl: `${proxy.url}/_proxy/dashboard/refunds` },
    providers: {
      zalopay: { url: zalopay.url, appId: LOCAL_ZALOPAY_APP_ID },
      payos: { url: payos.url },
    },
    dynamoEndpoint: stack.dynamoEndpoint,
    // How this stack reconciles: `simulate --chaos` delays callbacks past the threshold.
    reconciler: { afterSeconds: Number(process.env.RECONCILE_AFTER), periodMs: reconcilerPeriodMs },
  };
  writeFileSync(join(devDir, "stack.json"), `${JSON.stringify(description, null, 2)}\n`);
  const secrets = describeSecrets();
  const example = JSON.stringify({
    orderId: "ord-1",
    amount: 2599,
    currency: "usd",
    paymentMethodId: "pm_card_visa",
    captureMethod: "manual",
  });
  console.log(`
dev: ready in ${((Date.now() - started) / 1000).toFixed(1)} s — .dev/stack.json describes it all
  Node.js            ${process.version} (the functions run on ${lambdaRuntime} on AWS)
  REST API           ${apiUrl}   (GET /health; payments need the bearer token below)
  console            ${apiUrl}/console   (sign in with the bearer token below)
  DynamoDB Local     ${stack.dynamoEndpoint}   tables ${Object.values(stack.tables).join(", ")}
  SQS, EventBridge   ${stack.awsEndpoint}   (moto: also Secrets Manager, SSM)
  order queue        ${stack.queues.orders.url}
  order queue (FIFO) ${stack.queues.ordersFifo.url}
  Kafka              ${stack.kafka.brokers.join(",")}   topic ${stack.kafka.topic}
  Stripe API         ${proxy.url}   (our proxy in front of stripe-mock ${stack.stripeMockUrl}; dashboard refunds: POST /_proxy/dashboard/refunds)
  ZaloPay            ${zalopay.url}   (emulator, app id ${LOCAL_ZALOPAY_APP_ID}; POST /_emulator/pay {reference, amount?, deliver?})
  PayOS              ${payos.url}   (emulator; POST /_emulator/pay {reference, amount?, deliver?})
  process-payment    polling both order queues, batch 10, partial batch responses
  projector          on the event table's stream: payment views, decline history, TransactionLog
  outbox-relay       on the event table's stream: every event to bus ${stack.bus.name} and topic ${stack.kafka.topic}
  outbox sweeper     every ${sweeperPeriodMs / 1000} s here (every minute on AWS); cleanup daily; npm run outbox -- status
  reconciler         every ${reconcilerPeriodMs / 1000} s here (every 5 minutes on AWS), on payments open over ${process.env.RECONCILE_AFTER} s; npm run reconcile
  order-status       bus rule → ${stack.queues.orderStatus.name} → table ${stack.tables.orders}
  downstream queue   ${stack.queues.downstream.url}   (the example rule: PaymentCaptured)
  secrets            ${secrets.fromEnvironment.length ? `from the environment (not shown): ${secrets.fromEnvironment.join(", ")}; ` : ""}dev defaults: ${secrets.defaults.map(([k, v]) => `${k}=${v}`).join(" ")}

Bearer token (payments:read payments:write, 12 h, iss ${claims.issuer}, aud ${claims.audience}; npm run token prints another):
${token}

Try:
  curl -s -X POST ${apiUrl}/payments -H "Authorization: Bearer $(node -p 'require("./.dev/stack.json").token')" \\
       -H 'Content-Type: application/json' -H "Idempotency-Key: $RANDOM" -d '${example}'
Ctrl-C stops everything; data stays in .dev/ (npm run dev -- --fresh wipes it).`);
}

main().catch((error) => {
  if (error instanceof MissingPrerequisiteError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
