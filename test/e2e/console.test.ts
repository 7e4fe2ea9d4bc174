import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { issueToken } from "@payments/functions/api/auth";
import {
  devTokenClaims,
  GATEWAY_DOWN_PAYMENT_METHOD,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  secretValues,
} from "@payments/local";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accepts,
  callDevApi,
  devKafkaBroker,
  type RunningDev,
  runNpm,
  simulateReport,
  startDev,
} from "../helpers/dev-stack";
import { eventually } from "../helpers/eventually";

/**
 * The operations console in a real browser (issue 12): Debian's Chromium, driven by playwright-core,
 * against `npm run dev` as a user starts it. Each page is saved as a screenshot under
 * test/.output/console/ and scanned with axe-core; a serious or critical finding fails the test.
 */
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));
const out = join(process.cwd(), "test", ".output", "console");
const axeSource = readAxe();

let dev: RunningDev;
let browser: Browser;
let sqs: SQSClient;
const broker = { helper: undefined as ReturnType<typeof devKafkaBroker> | undefined };
const accessibility: Record<string, Array<{ id: string; impact: string; help: string; nodes: number }>> = {};

function readAxe(): string {
  const require = createRequire(import.meta.url);
  return (require("axe-core") as { source: string }).source;
}

beforeAll(async () => {
  if (!CHROMIUM) throw new Error("Chromium is missing: npm test installs it (scripts/ensure-chromium.mjs)");
  mkdirSync(out, { recursive: true });
  // Timing knobs only: a retry after 2 s instead of 20, a sweep every 3 s instead of 15.
  [dev, browser] = await Promise.all([
    startDev({ DEV_VISIBILITY_TIMEOUT_SECONDS: "2", DEV_SWEEPER_PERIOD_MS: "3000" }),
    chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }),
  ]);
  broker.helper = devKafkaBroker(dev.dir);
  sqs = new SQSClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: dev.stack.awsEndpoint,
  });
}, 240_000);

afterAll(async () => {
  writeFileSync(join(out, "axe.json"), `${JSON.stringify(accessibility, null, 2)}\n`);
  await browser?.close();
  sqs?.destroy();
  broker.helper?.killRestarted();
  if (dev) {
    await dev.interrupt();
    dev.kill();
  }
}, 60_000);

/** Saves the page and scans it with axe-core; fails on a serious or critical violation. */
async function check(page: Page, name: string) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  await page.evaluate(axeSource);
  const result = (await page.evaluate(() =>
    (
      globalThis as unknown as {
        axe: { run: (context: unknown, options: unknown) => Promise<{ violations: unknown[] }> };
      }
    ).axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ["violations"] }),
  )) as { violations: Array<{ id: string; impact: string; help: string; nodes: unknown[] }> };
  accessibility[name] = result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.length,
  }));
  expect(
    accessibility[name]!.filter((v) => v.impact === "serious" || v.impact === "critical"),
    `serious accessibility violations on ${name}`,
  ).toEqual([]);
}

async function signIn(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(dev.stack.consoleUrl);
  await page.waitForURL(/\/console\/sign-in/);
  await page.getByLabel("Bearer token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  // A person lands on the overview.
  await page.waitForURL(/\/console$/);
  return { context, page };
}

const api = (method: string, path: string, body?: unknown) => callDevApi(dev.stack, method, path, body);

/** The Kafka row of the payment page's delivery table: state and how far behind. */
async function kafkaDelivery(page: Page, paymentId: string) {
  await page.goto(`${dev.stack.consoleUrl}/payments/${paymentId}`);
  const row = page.locator("table").first().locator("tbody tr", { hasText: "kafka" });
  const cells = await row.locator("td").allInnerTexts();
  return { state: cells[4] ?? "", behind: cells[3] ?? "" };
}

describe("the operations console, in Chromium against npm run dev", () => {
  it("draws the overview's bars to add up to what npm run simulate reports", async () => {
    const { context, page } = await signIn(dev.stack.token);
    /** The payments a window's stacked bars show, by outcome, read from the SVG as the browser has it. */
    const drawn = (window: "hour" | "day") =>
      page.locator(`section[aria-labelledby="o-${window}"] rect[data-outcome]`).evaluateAll((rects) => {
        const counts: Record<string, number> = {};
        for (const rect of rects as unknown as Array<{ dataset: { outcome: string; count: string } }>)
          counts[rect.dataset.outcome] = (counts[rect.dataset.outcome] ?? 0) + Number(rect.dataset.count);
        return counts;
      });
    const before = { hour: await drawn("hour"), day: await drawn("day") };

    const simulated = await runNpm(
      ["simulate", "--", "--payments", "200", "--stack", join(dev.dir, "stack.json")],
      600_000,
    );
    writeFileSync(join(out, "simulate-200.txt"), simulated.output);
    expect({ code: simulated.code, report: simulated.output.slice(-1500) }).toMatchObject({ code: 0 });
    const report = simulateReport(simulated.output);
    expect(report.orders).toBe(200);
    // simulate's outcomes, in the overview's words; malformed orders make no payment.
    const reported = Object.fromEntries(
      Object.entries({
        captured: report.captured,
        authorized: report.authorized,
        failed: report.declined,
        rejected: report.rejected,
      }).filter(([, n]) => n > 0),
    );
    expect(Object.values(reported).reduce((a, b) => a + b, 0) + report.malformed).toBe(200);
    const added = (now: Record<string, number>, then: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(now)
          .map(([outcome, n]) => [outcome, n - (then[outcome] ?? 0)] as const)
          .filter(([, n]) => n !== 0),
      );
    await expect
      .poll(
        async () => {
          await page.reload();
          return {
            hour: added(await drawn("hour"), before.hour),
            day: added(await drawn("day"), before.day),
          };
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toEqual({ hour: reported, day: reported });
    // The text alternative says the day's total in words.
    const total = Object.values(await drawn("day")).reduce((a, b) => a + b, 0);
    expect(await page.locator("#chart-day-desc").textContent()).toContain(`${total} payment(s)`);
    writeFileSync(
      join(out, "overview-after-simulate.json"),
      `${JSON.stringify({ simulate: reported, malformed: report.malformed, drawnHour: await drawn("hour"), drawnDay: await drawn("day") }, null, 2)}\n`,
    );
    await check(page, "overview-after-simulate");
    await context.close();

    // npm run replay checks the same figures against the streams, as a user runs it.
    const verified = await runNpm(
      [
        "replay",
        "--",
        "projections",
        "--only",
        "metrics",
        "--verify",
        "--stack",
        join(dev.dir, "stack.json"),
      ],
      300_000,
    );
    writeFileSync(join(out, "replay-verify-metrics.txt"), verified.output);
    expect({ code: verified.code, output: verified.output.slice(-1500) }).toMatchObject({ code: 0 });
    expect(verified.output).toMatch(/0 tally\(ies\) differ; 0 metrics figure\(s\) differ/);
  }, 720_000);

  it("signs in, finds a payment by order id, and shows its timeline in version order", async () => {
    const anonymous = await browser.newPage();
    await anonymous.goto(`${dev.stack.consoleUrl}/payments`);
    await expect.poll(() => anonymous.url()).toContain("/console/sign-in");
    await check(anonymous, "sign-in");
    await anonymous.getByLabel("Bearer token").fill("not-a-token");
    await anonymous.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => anonymous.getByRole("alert").innerText()).toContain("does not sign you in");
    await anonymous.close();

    const created = await api("POST", "/payments", {
      orderId: "ord-console-1",
      customerId: "cus-console",
      amount: 123456,
      currency: "usd",
      paymentMethodId: "pm_card_visa",
      captureMethod: "manual",
    });
    expect(created.status).toBe(201);
    const paymentId = created.body.paymentId as string;
    expect((await api("POST", `/payments/${paymentId}/capture`, { amount: 123456 })).status).toBe(200);
    expect((await api("POST", `/payments/${paymentId}/refund`, { amount: 1000 })).status).toBe(200);

    const { context, page } = await signIn(dev.stack.token);
    // The overview lists the payment among the newest, with a link to it.
    await expect
      .poll(async () => {
        await page.reload();
        return page.locator(`#o-recent ~ table a[href="/console/payments/${paymentId}"]`).count();
      })
      .toBe(1);
    await check(page, "overview");
    await page.getByRole("link", { name: "Payments", exact: true }).click();
    await page.getByLabel("Find").fill("ord-console-1");
    await page.getByLabel("by").selectOption("order");
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.locator("tbody tr", { hasText: paymentId });
    await expect.poll(() => row.count()).toBe(1);
    // Amounts for people: major units with the currency's symbol, exact.
    expect(await row.innerText()).toContain("$1,234.56");
    expect(await row.innerText()).toContain("$10.00");
    await check(page, "payments");

    await row.getByRole("link", { name: paymentId }).click();
    await page.waitForURL(new RegExp(`/console/payments/${paymentId}$`));
    const versions = (await page
      .locator("ol.timeline > li")
      .evaluateAll((items) => items.map((li) => Number(li.getAttribute("data-version"))))) as number[];
    expect(versions.length).toBeGreaterThanOrEqual(4);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    const timeline = await page.locator("ol.timeline").innerText();
    for (const type of ["PaymentInitiated", "PaymentAuthorized", "PaymentCaptured", "PaymentRefunded"]) {
      expect(timeline).toContain(type);
    }
    expect(timeline.indexOf("PaymentInitiated")).toBeLessThan(timeline.indexOf("PaymentRefunded"));
    // Each event's data and metadata are on the page.
    await page.locator("ol.timeline > li").first().locator("summary").click();
    expect(await page.locator("ol.timeline > li").first().locator("pre").first().innerText()).toContain(
      '"orderId": "ord-console-1"',
    );
    expect(await page.locator("dl.grid").innerText()).toMatch(/Flags\s+none/);
    await check(page, "payment");
    await context.close();
  }, 120_000);

  it("shows a payment's delivery lag while the Kafka broker is down, and clears it with a redrive once it is back", async () => {
    const { context, page } = await signIn(dev.stack.token);
    const stopped = await broker.helper!.stop();
    let paymentId: string;
    try {
      const created = await api("POST", "/payments", {
        orderId: "ord-console-kafka",
        amount: 5000,
        currency: "usd",
        paymentMethodId: "pm_card_visa",
        captureMethod: "automatic",
      });
      expect(created.status).toBe(201);
      paymentId = created.body.paymentId as string;
      const lag = await eventually(
        async () => {
          const d = await kafkaDelivery(page, paymentId);
          return /lagging|failed/.test(d.state) && Number(d.behind) > 0 ? d : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1000, what: "the payment's Kafka delivery to show lag" },
      );
      expect(Number(lag.behind)).toBeGreaterThan(0);
      await page.goto(`${dev.stack.consoleUrl}/delivery`);
      expect(await page.locator("main").innerText()).toContain(paymentId);
      await check(page, "delivery-lagging");
      // The overview shows Kafka behind: a payment lagging (or failed), with the oldest's age.
      const kafkaRow = page.locator("#o-delivery ~ table tbody tr", { hasText: "kafka" });
      await page.goto(dev.stack.consoleUrl);
      const cells = await kafkaRow.locator("td").allInnerTexts();
      expect(Number(cells[1]) + Number(cells[3])).toBeGreaterThan(0);
      await check(page, "overview-kafka-lagging");
    } finally {
      broker.helper!.start(stopped);
    }
    await eventually(
      () => accepts(Number(dev.stack.kafka.brokers[0]!.split(":")[1])).then((up) => up || undefined),
      {
        timeoutMs: 60_000,
        what: "the broker to accept connections again",
      },
    );

    await eventually(
      async () => {
        await page.goto(`${dev.stack.consoleUrl}/delivery`);
        await page.getByRole("button", { name: /Redrive/ }).click();
        await page.waitForURL(/\/console\/delivery\?notice=/);
        const status = await page.getByRole("status").first().innerText();
        expect(status).toContain("Redrive done");
        const d = await kafkaDelivery(page, paymentId);
        return d.state === "current" && d.behind === "0" ? d : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000, what: "the lag to clear after a redrive" },
    );
    await page.goto(`${dev.stack.consoleUrl}/delivery`);
    expect(await page.locator("main").innerText()).not.toContain(paymentId);
    await check(page, "delivery");
    // And the overview says every sink is current again.
    await page.goto(dev.stack.consoleUrl);
    expect(
      await page.locator("#o-delivery ~ table tbody tr", { hasText: "kafka" }).locator("td").allInnerTexts(),
    ).toEqual(["kafka", "0", "none", "0"]);
    await context.close();
  }, 300_000);

  it("lists an order message that reached the DLQ, with its receives and the reason, and redrives it", async () => {
    const body = JSON.stringify({
      order_id: "ord-console-dlq",
      amount: "12.00",
      payment_method_id: GATEWAY_DOWN_PAYMENT_METHOD,
    });
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: dev.stack.queues.orders, MessageBody: body }),
    );
    const { context, page } = await signIn(dev.stack.token);
    const row = page.locator("tbody tr", { hasText: sent.MessageId! });
    await eventually(
      async () => {
        await page.goto(`${dev.stack.consoleUrl}/dlq`);
        return (await row.count()) === 1 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: "the message in the DLQ" },
    );
    const cells = await row.locator("td").allInnerTexts();
    expect(Number(cells[1])).toBeGreaterThanOrEqual(3);
    expect(cells[3]).toContain("GatewayUnavailableError");
    expect(cells[3]).toContain("ord-console-dlq");
    await check(page, "dlq");

    await row.getByRole("button", { name: `Redrive message ${sent.MessageId}` }).click();
    await page.waitForURL(/\/console\/dlq\?notice=/);
    expect(await page.getByRole("status").first().innerText()).toContain(
      "1 message(s) moved back to the order queue",
    );
    expect(await row.count()).toBe(0);
    await context.close();
  }, 180_000);

  it("runs replay --verify from the page and shows a clean result", async () => {
    const { context, page } = await signIn(dev.stack.token);
    await page.goto(`${dev.stack.consoleUrl}/verify`);
    await page.getByRole("button", { name: "Run verify" }).click();
    const result = await page.locator("section[aria-labelledby=result] [role=status]").innerText();
    // Clean over at least one payment: "Clean: 0" would say nothing was checked.
    expect(result).toMatch(/^Clean: [1-9]\d* payment\(s\), [1-9]\d* event\(s\)/);
    await check(page, "verify");
    await context.close();
  }, 120_000);

  it("lists a ZaloPay order paid after its cancel on Needs attention, and resolving it with a reason takes it off", async () => {
    const reference = `261204_attn_${Date.now()}`;
    const created = await api("POST", "/payments", {
      orderId: `ord-console-attention-${Date.now()}`,
      amount: 60_000,
      currency: "vnd",
      provider: "zalopay",
      providerReference: reference,
    });
    const paymentId = created.body.paymentId as string;
    expect((await api("POST", `/payments/${paymentId}/cancel`, { reason: "customer left" })).status).toBe(
      200,
    );
    const paid = await fetch(`${dev.stack.providers.zalopay.url}/_emulator/pay`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reference, amount: 60_000 }),
    });
    expect(await paid.json()).toMatchObject({ delivered: 200 });

    const { context, page } = await signIn(dev.stack.token);
    const row = page.locator("tr", { has: page.locator(`a[href="/console/payments/${paymentId}"]`) });
    await eventually(
      async () => {
        await page.goto(`${dev.stack.consoleUrl}/attention`);
        return (await row.count()) > 0 ? true : undefined;
      },
      { timeoutMs: 30_000, what: "the payment on Needs attention" },
    );
    expect(await row.innerText()).toContain("paid_after_end");
    await check(page, "attention");
    await row.getByLabel("Reason").fill("customer refunded by bank transfer VCB-2");
    await row.getByRole("button", { name: "Resolve" }).click();
    await page.waitForURL(/\/console\/attention\?notice=resolved$/);
    expect(await page.getByRole("status").innerText()).toContain("Resolved");
    await eventually(
      async () => {
        await page.goto(`${dev.stack.consoleUrl}/attention`);
        return (await row.count()) === 0 ? true : undefined;
      },
      { timeoutMs: 30_000, what: "the payment to leave Needs attention" },
    );
    await page.goto(`${dev.stack.consoleUrl}/payments/${paymentId}`);
    expect(await page.locator("li.repair").innerText()).toContain("repair by dev");
    await context.close();
  }, 120_000);

  it("refunds at the provider from Needs attention as the person's repair, and shows the last reconciliation's drift", async () => {
    // A ZaloPay order the customer paid twice: the first payment is captured, the second is a
    // verified notice the ledger cannot apply (paid_twice), which flags the payment for a person.
    const since = new Date(Date.now() - 60_000).toISOString();
    const reference = `261206_twice_${Date.now()}`;
    const created = await api("POST", "/payments", {
      orderId: `ord-console-twice-${Date.now()}`,
      amount: 90_000,
      currency: "vnd",
      provider: "zalopay",
      providerReference: reference,
    });
    const paymentId = created.body.paymentId as string;
    const pay = async () =>
      (await (
        await fetch(`${dev.stack.providers.zalopay.url}/_emulator/pay`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ reference, amount: 90_000 }),
        })
      ).json()) as { delivered: number };
    expect(await pay()).toMatchObject({ delivered: 200 });
    expect(await pay()).toMatchObject({ delivered: 200 });
    const zalopayRefunds = async () =>
      (
        (await (await fetch(`${dev.stack.providers.zalopay.url}/_emulator/ledger`)).json()) as {
          refunds: Array<{ mRefundId: string; amount: number; status: string }>;
        }
      ).refunds;
    const refundsBefore = (await zalopayRefunds()).length;

    // The last reconciliation, as the CLI keeps it: the notice it could not apply is its drift.
    const reconciled = await runNpm(
      ["reconcile", "--", "--provider", "zalopay", "--since", since, "--stack", join(dev.dir, "stack.json")],
      120_000,
    );
    expect({ code: reconciled.code, output: reconciled.output.slice(-1500) }).toMatchObject({ code: 1 });
    expect(reconciled.output).toContain("unapplied_notice");

    const { context, page } = await signIn(dev.stack.token);
    const row = page.locator("#flagged + table tr", {
      has: page.locator(`a[href="/console/payments/${paymentId}"]`),
    });
    await eventually(
      async () => {
        await page.goto(`${dev.stack.consoleUrl}/attention`);
        return (await row.count()) > 0 ? true : undefined;
      },
      { timeoutMs: 30_000, what: "the payment paid twice on Needs attention" },
    );
    expect(await row.innerText()).toContain("paid_twice");
    // Its rows for this payment: the notice it could not apply, among what ZaloPay holds for it.
    const lastDrifts = await page
      .locator("#last-reconciliation ~ table tr", {
        has: page.locator(`a[href="/console/payments/${paymentId}"]`),
      })
      .allInnerTexts();
    expect(lastDrifts.some((row) => /^unapplied_notice\s+zalopay/.test(row))).toBe(true);
    expect(await page.locator("#last-reconciliation + p").innerText()).toContain("zalopay");
    await check(page, "attention-refund");

    // The refund form carries the refund id the page made for it: a resubmitted form is one refund.
    expect(await row.locator('form[action$="/refund"] input[name="refundId"]').getAttribute("value")).toMatch(
      /^console-[0-9A-Z]{26}$/,
    );
    // Refund the duplicate's amount at ZaloPay with the button.
    await row.getByLabel("Amount (minor units, blank for all)").fill("90000");
    await row.getByRole("button", { name: "Refund at zalopay" }).click();
    await page.waitForURL(/\/console\/attention\?notice=provider_refunded$/);
    expect(await page.getByRole("status").innerText()).toContain("Refunded at the provider");
    // ZaloPay holds the refund, and the ledger holds it as the person's repair.
    const made = (await zalopayRefunds()).slice(refundsBefore);
    expect(made.map((r) => r.amount)).toEqual([90_000]);
    const events = (await api("GET", `/payments/${paymentId}/events`)).body.items as Array<{
      type: string;
      data: Record<string, unknown>;
      metadata: { source: string; repair?: { by: string; reason: string } };
    }>;
    const refund = events.filter((e) => e.type === "PaymentRefundRequested" || e.type === "PaymentRefunded");
    expect(refund.map((e) => e.type)).toEqual(["PaymentRefundRequested", "PaymentRefunded"]);
    for (const e of refund)
      expect(e.metadata).toMatchObject({
        source: "console",
        repair: { by: "dev", reason: "refund at zalopay from the console" },
      });
    await context.close();
  }, 240_000);

  it("gives a read-only token no action buttons, and its direct POST a 403", async () => {
    const readOnly = await issueToken(secretValues().JwtSecret, {
      subject: "on-call",
      scopes: ["payments:read"],
      ...devTokenClaims(),
    });
    // Something to act on in the DLQ, whose page shows its buttons only when it is not empty; the
    // write scope sees the action buttons of each page, the read-only session none.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dev.stack.queues.ordersDlq,
        MessageBody: '{"order_id":"ord-read-only"}',
      }),
    );
    const actions = /Redrive|Resolve|Ask|refund|Run verify/;
    const writerSession = await signIn(dev.stack.token);
    for (const path of ["/delivery", "/dlq", "/verify"]) {
      await writerSession.page.goto(`${dev.stack.consoleUrl}${path}`);
      expect(await writerSession.page.getByRole("button", { name: actions }).count(), path).toBeGreaterThan(
        0,
      );
    }
    await writerSession.context.close();
    const { context, page } = await signIn(readOnly);
    for (const path of ["/delivery", "/dlq", "/verify", "/payments?q=ord-console-1&by=order", "/attention"]) {
      await page.goto(`${dev.stack.consoleUrl}${path}`);
      expect(await page.getByRole("button", { name: actions }).count(), path).toBe(0);
      expect(await page.locator("header").innerText()).toContain("read only");
    }
    await check(page, "read-only");
    // The browser's session (cookie), from the console's own origin: refused for want of the scope.
    const viaCookie = await context.request.post(`${dev.stack.consoleUrl}/delivery/redrive`, {
      headers: { origin: dev.stack.apiUrl, accept: "application/json" },
    });
    expect(viaCookie.status()).toBe(403);
    expect(await viaCookie.json()).toMatchObject({ type: "/problems/forbidden", status: 403 });
    // A script with the bearer token.
    for (const path of ["/delivery/redrive", "/dlq/redrive"]) {
      const direct = await fetch(`${dev.stack.consoleUrl}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${readOnly}`, accept: "application/json" },
      });
      expect(direct.status, path).toBe(403);
      expect(await direct.json()).toMatchObject({ type: "/problems/forbidden" });
    }
    // A form posted from another site with the write token's cookie is refused too.
    const writer = await signIn(dev.stack.token);
    const crossSite = await writer.context.request.post(`${dev.stack.consoleUrl}/dlq/redrive`, {
      headers: { origin: "https://elsewhere.example", accept: "application/json" },
    });
    expect(crossSite.status()).toBe(403);
    expect(await crossSite.json()).toMatchObject({ type: "/problems/cross-site" });
    await writer.context.close();
    await context.close();
  }, 120_000);
});
