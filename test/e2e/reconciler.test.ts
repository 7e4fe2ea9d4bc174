import { randomUUID } from "node:crypto";
import {
  createDynamoEventStore,
  createReadModelStore,
  type ReadModelStore,
} from "@payments/adapters/dynamodb";
import { foldPaymentView } from "@payments/core";
import {
  ensureTable,
  LOCAL_ZALOPAY_APP_ID,
  type LocalStack,
  linkedEnvironment,
  type PayOSEmulator,
  type StripeProxy,
  startPayOSEmulator,
  startStripeProxy,
  startZaloPayEmulator,
  type ZaloPayEmulator,
} from "@payments/local";
import { readModelTable } from "@payments/topology";
import { PayOS } from "@payos/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silenceConsole } from "../helpers/output";
import { stackClients, testStack } from "../helpers/stack";

/**
 * The reconciler (SPEC §6.1) against the real local servers, the Stripe proxy and the provider
 * emulators: each test first shows the drift it injects is there (the provider holds what the
 * ledger does not), then runs the reconciler, then checks what it appended and what the provider
 * did. The read models are a table of this file's own, written by the real projector, so the
 * reconciler sees this file's payments only.
 */
const stack: LocalStack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const secrets = stack.secretValues;
const readModelsTable = `ReadModels-reconciler-${randomUUID().slice(0, 8)}`;
let readModels: ReadModelStore;
let proxy: StripeProxy;
let zalo: ZaloPayEmulator;
let payos: PayOSEmulator;
let app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
let token: string;
let restoreConsole: () => void;
let project: (paymentId: string) => Promise<void>;
type Run = () => Promise<import("@payments/functions/reconciler/reconciler").ReconcileRunReport>;
let reconcile: Run;
let newReconciler: () => Run;

beforeAll(async () => {
  restoreConsole = silenceConsole();
  await ensureTable(clients.dynamodb, readModelTable, readModelsTable);
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  zalo = await startZaloPayEmulator({
    appId: LOCAL_ZALOPAY_APP_ID,
    key1: secrets.ZaloPayKey1,
    key2: secrets.ZaloPayKey2,
  });
  payos = await startPayOSEmulator({
    clientId: secrets.PayOSClientId,
    apiKey: secrets.PayOSApiKey,
    checksumKey: secrets.PayOSChecksumKey,
  });
  Object.assign(
    process.env,
    linkedEnvironment(stack, { stripeApiUrl: proxy.url, zalopayUrl: zalo.url, payosUrl: payos.url }),
    {
      POWERTOOLS_DEV: "true",
      [`SST_RESOURCE_${readModelTable.name}`]: JSON.stringify({
        name: readModelsTable,
        type: "sst.aws.Dynamo",
      }),
    },
  );
  ({ app } = await import("@payments/functions/api"));
  const { issueToken } = await import("@payments/functions/api/auth");
  token = await issueToken(secrets.JwtSecret);
  readModels = createReadModelStore({
    client: clients.dynamodb,
    tableName: readModelsTable,
    transactionLogTableName: stack.tables.transactionLog,
  });
  const { createProjector } = await import("@payments/functions/projector/project");
  const projector = createProjector({ store, readModels });
  project = async (paymentId) => {
    await projector.projectPayment(paymentId, await store.load(paymentId));
  };
  const { createReconcileWiring } = await import("@payments/functions/reconciler/wiring");
  const { createReconciler } = await import("@payments/functions/reconciler/reconciler");
  const wiring = createReconcileWiring();
  // RECONCILE_AFTER of 0, a clock a second ahead: every open payment of this file is due at once.
  newReconciler = () =>
    createReconciler({
      readModels,
      settle: wiring.settle(),
      config: { afterMs: 0, maxPerRun: 400, concurrency: 8, maxBackoffMs: 0 },
      now: () => new Date(Date.now() + 1000),
      newRunId: randomUUID,
    });
  reconcile = newReconciler();
}, 120_000);
afterAll(async () => {
  restoreConsole();
  await proxy.stop();
  await zalo.stop();
  await payos.stop();
  for (const client of Object.values(clients)) client.destroy();
});

async function api(method: string, path: string, body?: unknown) {
  const response = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const viewOf = async (paymentId: string) => foldPaymentView(await store.load(paymentId));
const typesOf = async (paymentId: string) => (await store.load(paymentId)).map((e) => e.type);
const eventsBy = async (paymentId: string, source: string) =>
  (await store.load(paymentId)).filter((e) => e.metadata.source === source).map((e) => e.type);
/** Every payment this file made, so the pair test can bring their views up to date first. */
const made: string[] = [];
const stillOpen = async (paymentId: string) =>
  (
    await Promise.all(
      [0, 1, 2, 3].map((shard) => readModels.openPaymentsDue({ shard, before: "9999", limit: 1000 })),
    )
  )
    .flat()
    .some((due) => due.paymentId === paymentId);

async function zaloPayOrder(orderId: string, amount: number) {
  const reference = `261204_${randomUUID().slice(0, 12)}`;
  const created = await api("POST", "/payments", {
    orderId,
    amount,
    currency: "vnd",
    provider: "zalopay",
    providerReference: reference,
  });
  expect(created.status).toBe(201);
  const paymentId = created.body.paymentId as string;
  made.push(paymentId);
  await project(paymentId);
  return { paymentId, reference };
}

/** A card payment through the API with `fault` at the proxy for its order; the API's answer and id. */
async function cardPayment(orderId: string, fault?: Parameters<StripeProxy["injectFaults"]>[0][number]) {
  if (fault) proxy.injectFaults([{ ...fault, orderId }]);
  const answer = await api("POST", "/payments", {
    orderId,
    amount: 4_200,
    currency: "usd",
    paymentMethodId: "pm_card_visa",
  });
  const paymentId =
    (answer.body.paymentId as string | undefined) ??
    (await store.findOwner({ kind: "orderId", value: orderId }))!;
  made.push(paymentId);
  await project(paymentId);
  return { answer, paymentId };
}

describe("the reconciler settles what is stuck, asking each provider", () => {
  it("captures a ZaloPay order paid at ZaloPay whose callback never came, with no webhook", async () => {
    const { paymentId, reference } = await zaloPayOrder(`ord-rec-zalo-${randomUUID()}`, 150_000);
    const paid = await zalo.pay({ reference, amount: 150_000, deliver: false });
    expect(paid).toMatchObject({ status: 200 });
    // The drift is real: ZaloPay holds the payment, the ledger does not.
    expect(zalo.ledger().orders.find((o) => o.appTransId === reference)?.payments).toHaveLength(1);
    expect((await viewOf(paymentId))?.status).toBe("initiated");
    expect(await stillOpen(paymentId)).toBe(true);

    const report = await reconcile();
    expect(report.settled).toBeGreaterThanOrEqual(1);
    expect(await viewOf(paymentId)).toMatchObject({ status: "captured", amountCaptured: 150_000 });
    expect(await eventsBy(paymentId, "reconciler")).toEqual(["PaymentAuthorized", "PaymentCaptured"]);
    // Ended: the projector takes it out of the open-payments index.
    await project(paymentId);
    expect(await stillOpen(paymentId)).toBe(false);
  });

  it("captures a PayOS link paid at PayOS with no callback", async () => {
    const orderCode = Math.floor(Math.random() * 1_000_000_000);
    await new PayOS({
      clientId: secrets.PayOSClientId,
      apiKey: secrets.PayOSApiKey,
      checksumKey: secrets.PayOSChecksumKey,
      baseURL: payos.url,
    }).paymentRequests.create({
      orderCode,
      amount: 30_000,
      description: "DH rec",
      cancelUrl: "https://shop.example/cancel",
      returnUrl: "https://shop.example/return",
    });
    const created = await api("POST", "/payments", {
      orderId: `ord-rec-payos-${orderCode}`,
      amount: 30_000,
      currency: "vnd",
      provider: "payos",
      providerReference: String(orderCode),
    });
    const paymentId = created.body.paymentId as string;
    made.push(paymentId);
    await project(paymentId);
    expect(await payos.pay({ reference: String(orderCode), deliver: false })).toMatchObject({ status: 200 });
    expect(payos.ledger().links.find((l) => l.orderCode === orderCode)).toMatchObject({ status: "PAID" });
    expect((await viewOf(paymentId))?.status).toBe("initiated");

    await reconcile();
    expect(await viewOf(paymentId)).toMatchObject({ status: "captured", amountCaptured: 30_000 });
    expect(await eventsBy(paymentId, "reconciler")).toEqual(["PaymentAuthorized", "PaymentCaptured"]);
  });

  it("records the charge of a POST /payments that died after Stripe confirmed its intent: one charge", async () => {
    const orderId = `ord-rec-lost-${randomUUID()}`;
    const { answer, paymentId } = await cardPayment(orderId, {
      pathIncludes: "/confirm",
      respond: "lost",
      // Past the API's Stripe timeout (10 s): the request dies with Stripe's work done.
      delayMs: 10_500,
      times: 1,
    });
    expect(answer.status).toBe(503);
    expect((await viewOf(paymentId))?.status).toBe("initiated");
    expect(proxy.ledger().byOrder.get(orderId)).toMatchObject({ charges: 1 });

    await reconcile();
    expect(await viewOf(paymentId)).toMatchObject({ status: "captured", amountCaptured: 4_200 });
    expect(await eventsBy(paymentId, "reconciler")).toEqual(["PaymentAuthorized", "PaymentCaptured"]);
    expect(proxy.ledger().byOrder.get(orderId)).toMatchObject({ intents: 1, charges: 1 });
  }, 40_000);

  it("cancels at Stripe an intent a dead POST /payments never confirmed, and fails the payment abandoned", async () => {
    const orderId = `ord-rec-unconfirmed-${randomUUID()}`;
    const { answer, paymentId } = await cardPayment(orderId, {
      pathIncludes: "/confirm",
      respond: 503,
      times: 1,
    });
    expect(answer.status).toBe(503);
    const intent = (await viewOf(paymentId))!.gatewayPaymentId!;
    expect(intent).toMatch(/^pi_/);

    await reconcile();
    expect(await viewOf(paymentId)).toMatchObject({ status: "failed" });
    const failed = (await store.load(paymentId)).at(-1)!;
    expect(failed).toMatchObject({ type: "PaymentFailed", data: { code: "abandoned" } });
    const atStripe = (await (
      await fetch(`${proxy.url}/v1/payment_intents/${intent}`, {
        headers: { authorization: "Bearer sk_test_x" },
      })
    ).json()) as { status: string };
    expect(atStripe.status).toBe("canceled");
    expect(proxy.ledger().byOrder.get(orderId)).toMatchObject({ intents: 1, charges: 0 });
  });

  it("settles a refund hold a crash left pending by what Stripe holds for that refund id", async () => {
    const taken = await cardPayment(`ord-rec-refund-made-${randomUUID()}`);
    const lost = await cardPayment(`ord-rec-refund-lost-${randomUUID()}`);
    for (const { paymentId } of [taken, lost]) expect((await viewOf(paymentId))?.status).toBe("captured");
    // Stripe makes one refund and the answer is lost; the other never reaches Stripe.
    proxy.injectFaults([
      {
        orderId: taken.answer.body.orderId as string,
        pathIncludes: "/v1/refunds",
        respond: "lost",
        delayMs: 10_500,
        times: 1,
      },
      { orderId: lost.answer.body.orderId as string, pathIncludes: "/v1/refunds", respond: 503, times: 1 },
    ]);
    const firedBefore = proxy.calls().filter((c) => c.fault).length;
    for (const { paymentId } of [taken, lost]) {
      expect((await api("POST", `/payments/${paymentId}/refund`, { amount: 1_000 })).status).toBe(503);
      expect(await typesOf(paymentId)).toContain("PaymentRefundRequested");
      await project(paymentId);
      expect(await stillOpen(paymentId)).toBe(true);
    }
    expect(proxy.calls().filter((c) => c.fault).length - firedBefore).toBe(2);
    expect(proxy.ledger().byOrder.get(taken.answer.body.orderId as string)).toMatchObject({ refunds: 1 });
    expect(proxy.ledger().byOrder.get(lost.answer.body.orderId as string)).toMatchObject({ refunds: 0 });

    await reconcile();
    expect(await viewOf(taken.paymentId)).toMatchObject({
      status: "partially_refunded",
      amountRefunded: 1_000,
    });
    expect(await eventsBy(taken.paymentId, "reconciler")).toEqual(["PaymentRefunded"]);
    expect(await viewOf(lost.paymentId)).toMatchObject({ status: "captured", amountRefunded: 0 });
    expect((await store.load(lost.paymentId)).at(-1)).toMatchObject({
      type: "PaymentRefundFailed",
      data: { code: "not_at_gateway" },
      metadata: { source: "reconciler" },
    });
  }, 60_000);

  it("appends nothing while the provider is down, counts it, and settles once it is back", async () => {
    const { paymentId, reference } = await zaloPayOrder(`ord-rec-down-${randomUUID()}`, 50_000);
    await zalo.pay({ reference, amount: 50_000, deliver: false });
    zalo.injectFaults([{ pathIncludes: "/v2/query", respond: 503, times: 2 }]);
    const firedBefore = zalo.faultsFired();
    const before = await typesOf(paymentId);
    for (let run = 0; run < 2; run++) {
      const report = await reconcile();
      expect(report.providerErrors).toBe(1);
      expect(await typesOf(paymentId)).toEqual(before);
    }
    expect(zalo.faultsFired() - firedBefore).toBe(2);
    const report = await reconcile();
    expect(report.providerErrors).toBe(0);
    expect(await viewOf(paymentId)).toMatchObject({ status: "captured", amountCaptured: 50_000 });
  });

  it("settles each of 200 stuck payments once when two reconcilers run at once", async () => {
    // The earlier tests' payments ended: their views leave the open-payments index.
    for (const paymentId of made.splice(0)) await project(paymentId);
    const orders = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const order = await zaloPayOrder(`ord-rec-pair-${i}-${randomUUID()}`, 10_000 + i);
        await zalo.pay({ reference: order.reference, amount: 10_000 + i, deliver: false });
        return order;
      }),
    );
    const [a, b] = await Promise.all([newReconciler()(), newReconciler()()]);
    // Both read the same 200 from the index; each payment was settled by one and found settled by the other.
    expect(a.examined).toBe(200);
    expect(b.examined).toBe(200);
    expect(a.settled + b.settled).toBe(200);
    expect(a.alreadySettled + b.alreadySettled).toBe(200);
    expect(a.errors + b.errors).toBe(0);
    for (const { paymentId } of orders) {
      const types = await typesOf(paymentId);
      expect(types.filter((t) => t === "PaymentCaptured")).toHaveLength(1);
      expect(types.filter((t) => t === "PaymentAuthorized")).toHaveLength(1);
    }
  }, 120_000);
});
