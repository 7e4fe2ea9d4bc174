import { randomUUID } from "node:crypto";
import { type LocalStack, linkedEnvironment, type StripeProxy, startStripeProxy } from "@payments/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureConsole, jsonLines, silenceConsole } from "../helpers/output";
import { testStack } from "../helpers/stack";

const stack: LocalStack = testStack();
let proxy: StripeProxy;
let tasks: typeof import("@payments/functions/payment-tasks");
let app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
let token: string;
let restoreConsole: () => void;

beforeAll(async () => {
  restoreConsole = silenceConsole();
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_DEV: "true",
    POWERTOOLS_METRICS_DISABLED: "false",
  });
  tasks = await import("@payments/functions/payment-tasks");
  ({ app } = await import("@payments/functions/api"));
  const { issueToken } = await import("@payments/functions/api/auth");
  token = await issueToken(stack.secretValues.JwtSecret);
});
afterAll(async () => {
  restoreConsole();
  await proxy.stop();
});

async function payment(captureMethod: "manual" | "automatic") {
  const orderId = `ord-${randomUUID()}`;
  const response = await app.request("/payments", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      orderId,
      amount: 7_000,
      currency: "usd",
      paymentMethodId: "pm_card_visa",
      captureMethod,
    }),
  });
  const view = (await response.json()) as { paymentId: string };
  return { paymentId: view.paymentId, orderId };
}
const metricNames = (lines: string[]) =>
  jsonLines(lines).flatMap((l) =>
    (
      (l._aws as { CloudWatchMetrics?: Array<{ Metrics: Array<{ Name: string }> }> })?.CloudWatchMetrics ?? []
    ).flatMap((m) => m.Metrics.map((x) => x.Name)),
  );

describe("Step Functions tasks (SPEC §4.4)", () => {
  it("collect captures a hold and returns the view; refund returns money, once per input", async () => {
    const { paymentId } = await payment("manual");
    const { result, lines } = await captureConsole(() => tasks.collect({ paymentId, amount: 5_000 }));
    expect(result).toMatchObject({ paymentId, status: "captured", amountCaptured: 5_000 });
    expect(metricNames(lines)).toContain("SuccessfulPayment");
    expect(await tasks.refund({ paymentId, amount: 2_000 })).toMatchObject({
      status: "partially_refunded",
      amountRefunded: 2_000,
    });
    // Step Functions retried the same task input: the same refund, not a second one.
    expect(await tasks.refund({ paymentId, amount: 2_000 })).toMatchObject({ amountRefunded: 2_000 });
    expect(await tasks.refund({ paymentId, amount: 2_000, refundId: "second" })).toMatchObject({
      amountRefunded: 4_000,
    });
  });

  it("refund on a hold that was never captured releases it; the same task retried returns the released view", async () => {
    const { paymentId } = await payment("manual");
    const released = await tasks.refund({ paymentId });
    expect(released).toMatchObject({ status: "canceled" });
    expect(await tasks.refund({ paymentId })).toEqual(released);
  });

  it("returns the same view to a collect retried after it succeeded, with one capture at Stripe", async () => {
    const { paymentId, orderId } = await payment("manual");
    const first = await tasks.collect({ paymentId, amount: 5_000 });
    expect(first).toMatchObject({ status: "captured", amountCaptured: 5_000 });
    // The state machine timed out waiting and retried the task, with the same input or none.
    expect(await tasks.collect({ paymentId, amount: 5_000 })).toEqual(first);
    expect(await tasks.collect({ paymentId })).toEqual(first);
    const captures = proxy.calls().filter((c) => c.orderId === orderId && c.path.endsWith("/capture"));
    expect(captures.map((c) => c.status)).toEqual([200]);
    // Another amount on a captured payment is still a request that does not fit.
    await expect(tasks.collect({ paymentId, amount: 4_000 })).rejects.toMatchObject({
      name: "InvalidPaymentRequestError",
    });
  });

  it.each([
    [
      "an unknown payment",
      () => tasks.collect({ paymentId: "pay_nope" }),
      "PaymentNotFoundError",
      "FailedPayment",
    ],
    [
      "an invalid input",
      () => tasks.collect({ paymentId: "pay_1", amount: -5 }),
      "InvalidPaymentRequestError",
      "InvalidPaymentRequest",
    ],
    [
      "a field it does not take",
      () => tasks.refund({ paymentId: "pay_1", extra: 1 }),
      "InvalidPaymentRequestError",
      "InvalidPaymentRequest",
    ],
  ])("throws a catchable error for %s", async (_, run, name, metric) => {
    const { result, lines } = await captureConsole(() =>
      run().then(
        () => undefined,
        (error: Error) => error,
      ),
    );
    expect(result).toMatchObject({ name });
    expect(metricNames(lines)).toContain(metric);
  });

  it("names a refused rule InvalidPaymentRequestError and a gateway decline PaymentDeclinedError", async () => {
    const { paymentId } = await payment("automatic");
    // Captured in full already: collecting another amount breaks the rule (collect with none is a retry).
    await expect(tasks.collect({ paymentId, amount: 3_000 })).rejects.toMatchObject({
      name: "InvalidPaymentRequestError",
    });
    await expect(tasks.refund({ paymentId, amount: 70_001 })).rejects.toMatchObject({
      name: "InvalidPaymentRequestError",
    });
    const held = await payment("manual");
    proxy.injectFaults([{ orderId: held.orderId, pathIncludes: "/capture", respond: 402, times: 1 }]);
    await expect(tasks.collect({ paymentId: held.paymentId })).rejects.toMatchObject({
      name: "PaymentDeclinedError",
    });
  });
});
