import type { Logger } from "@aws-lambda-powertools/logger";
import {
  type DeliveryListing,
  deliveryKey,
  type OutboxDeliveries,
  pageStartFrom,
  pageStartText,
  type ReadModelStore,
} from "@payments/adapters/dynamodb";
import {
  type CommandHandler,
  type EventStore,
  foldPaymentView,
  PaymentNotFoundError,
  type PaymentView,
} from "@payments/core";
import { type EventMetadata, PaymentId } from "@payments/events";
import { openPaymentShards, outboxSinks } from "@payments/topology";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { verify } from "hono/jwt";
import { secureHeaders } from "hono/secure-headers";
import { monotonicFactory } from "ulid";
import { callerOf, type ExpectedClaims, expectedClaimsFrom, refusedClaim, type Scope } from "../api/auth";
import {
  errorDetails,
  MAX_BODY_BYTES,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problem,
  toProblem,
} from "../api/problem";
import type { SweepReport } from "../outbox-relay/relay";
import type { PaymentService } from "../payments/payment-service";
import type { ReplayResult } from "../projector/replay";
import type { Settle } from "../reconciler/settle";
import { chartWindows, windowStarts } from "./charts";
import type { OrderDlq } from "./order-dlq";
import {
  ATTENTION_NOTICES,
  type AttentionNotice,
  type AttentionRow,
  attentionPage,
  CONSOLE_SCRIPT,
  deliveryPage,
  dlqPage,
  overviewPage,
  paymentPage,
  paymentsPage,
  problemPage,
  type SearchBy,
  signInPage,
  type Viewer,
  verifyPage,
} from "./pages";

export interface ConsoleDeps {
  readonly jwtSecret: () => string;
  /** `iss` / `aud` a token must carry when set; `JWT_ISSUER` / `JWT_AUDIENCE` by default. */
  readonly expectedClaims?: () => ExpectedClaims;
  readonly store: () => Pick<EventStore, "load" | "findOwner">;
  readonly readModels: () => Pick<
    ReadModelStore,
    | "viewsByCustomer"
    | "attentionPayments"
    | "openPaymentsDue"
    | "reviewHolds"
    | "lastReconciliation"
    | "metrics"
    | "recentPaymentIds"
    | "getView"
  >;
  /** The actions of the Needs attention page: the reconciler's settle, the command handler, refunds. */
  readonly attention: () => {
    readonly settle: Settle;
    readonly handle: CommandHandler;
    readonly refund: PaymentService["refund"];
  };
  /** RECONCILE_AFTER: a payment open longer than this is listed as stuck. */
  readonly reconcileAfterMs: number;
  readonly deliveries: () => OutboxDeliveries;
  /** Failed deliveries back to lagging, then one sweep: `npm run outbox -- redrive --failed`. */
  readonly redriveDeliveries: () => Promise<{ requeued: number; sweep: SweepReport }>;
  readonly orderDlq: () => OrderDlq;
  /** `npm run replay -- projections --verify`. */
  readonly verify: () => Promise<ReplayResult>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

const COOKIE = "console_token";
/** Rows per list on the delivery page, and how far its counts go ("10000+" beyond). */
const DELIVERY_PAGE = 25;
const DELIVERY_COUNT_CAP = 10_000;
/** Payments listed on Needs attention (and counted on the overview, "50+" beyond). */
const ATTENTION_CAP = 50;
/** The overview's newest payments. */
const RECENT_PAYMENTS = 25;
const newId = monotonicFactory();

const BASE = "/console";

type ConsoleEnv = { Variables: { viewer: Viewer; scopes: readonly string[]; viaCookie: boolean } };

/** A problem for a person: HTML unless the caller asked for JSON, with the API's problem body. */
function respond(c: Context<ConsoleEnv>, p: Problem, headers: Record<string, string> = {}) {
  const accept = c.req.header("accept") ?? "";
  if (!accept.includes("text/html") && /json/.test(accept)) {
    return c.body(JSON.stringify(p), p.status as 400, { "content-type": PROBLEM_CONTENT_TYPE, ...headers });
  }
  return c.html(problemPage(p, c.get("viewer")), p.status as 400, headers);
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
};

/**
 * Only a path of the console itself: a sign-in link must not send anyone elsewhere. The path is
 * resolved first, so `/console/../payments` (or its percent-encoded dots) is the API's `/payments`
 * and refused, as is anything on another origin.
 */
export function safeNext(next: string | undefined): string {
  const fallback = BASE;
  if (!next?.startsWith("/") || next.startsWith("//") || next.includes("\\")) return fallback;
  let url: URL;
  try {
    url = new URL(next, "https://console.invalid");
  } catch {
    return fallback;
  }
  const inside =
    url.origin === "https://console.invalid" &&
    (url.pathname === BASE || url.pathname.startsWith(`${BASE}/`));
  return inside && !url.pathname.includes("//") ? url.pathname + url.search : fallback;
}

/** A browser's form post from this origin: its Origin header names the host it was sent to. */
function fromThisOrigin(c: Context<ConsoleEnv>): boolean {
  const origin = c.req.header("origin");
  const host = c.req.header("host");
  return Boolean(origin && host && hostOf(origin) === host);
}

const crossSite = () =>
  problem(
    403,
    "cross-site",
    "Refused: the form was not sent from the console",
    "open the console's own page and press the button there",
  );

/** A whole count from a notice's query: the page writes its own words around numbers only. */
function countOf(c: Context<ConsoleEnv>, name: string): number {
  const value = c.req.query(name) ?? "";
  return /^\d{1,9}$/.test(value) ? Number(value) : 0;
}

/**
 * The operations console (SPEC §7): server-rendered pages on the API's domain, for the people on
 * call. It signs in with the API's bearer tokens, kept in an HttpOnly, SameSite=Strict cookie
 * scoped to /console; `payments:read` looks and `payments:write` acts. A form post signed in by
 * cookie must come from this origin. Errors are the API's problems, shown in words.
 */
export function createConsoleApp(deps: ConsoleDeps) {
  const now = deps.now ?? (() => new Date());
  const expectedClaims = deps.expectedClaims ?? (() => expectedClaimsFrom());
  const app = new Hono<ConsoleEnv>().basePath(BASE);

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'unsafe-inline'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      // A form post carries its Origin only when the policy lets it (no-referrer sends "null").
      referrerPolicy: "same-origin",
    }),
  );
  app.use("*", async (c, next) => {
    await next();
    c.header("cache-control", "no-store");
  });
  // The console's forms are a token or an id: the API's limit on bodies is plenty.
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        respond(c, problem(413, "too-large", "The form is too large", "a console form is at most 64 KB")),
    }),
  );

  app.onError((error, c) => {
    const { problem: p, headers, unexpected } = toProblem(error);
    if (unexpected) {
      deps.logger.error("console request failed", {
        method: c.req.method,
        path: c.req.path,
        error: errorDetails(error),
      });
    }
    return respond(c, p, headers);
  });
  app.notFound((c) =>
    respond(c, problem(404, "not-found", "No such page", `${c.req.path} is not a page of the console`)),
  );

  app.get("/assets/console.js", (c) =>
    c.body(CONSOLE_SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8" }),
  );
  app.get("/sign-in", (c) => c.html(signInPage({ next: safeNext(c.req.query("next")) })));
  app.post("/sign-in", async (c) => {
    // Login CSRF: a cross-site form must not sign a browser in to someone else's session.
    if (!fromThisOrigin(c)) return respond(c, crossSite());
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    let payload: { exp?: number; scope?: unknown; sub?: unknown };
    try {
      payload = await verify(token, deps.jwtSecret(), "HS256");
      if (refusedClaim(payload, expectedClaims())) throw new Error("token claims");
    } catch {
      const p = problem(
        401,
        "unauthorized",
        "That token does not sign you in",
        "paste a whole, unexpired bearer token signed for this service (npm run token prints one)",
      );
      return c.html(signInPage({ problem: p, next }), 401);
    }
    const secure = new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
    const maxAge = payload.exp ? Math.max(0, payload.exp - Math.floor(Date.now() / 1000)) : 3600;
    setCookie(c, COOKIE, token, { path: BASE, httpOnly: true, sameSite: "Strict", secure, maxAge });
    return c.redirect(next, 303);
  });
  app.post("/sign-out", (c) => {
    deleteCookie(c, COOKIE, { path: BASE });
    return c.redirect(`${BASE}/sign-in`, 303);
  });

  // Everything below needs a valid token: the Authorization header (scripts) or the cookie (people).
  app.use("*", async (c, next) => {
    const header = c.req.header("authorization");
    const fromHeader = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const token = fromHeader ?? getCookie(c, COOKIE);
    let payload: { sub?: string; scope?: string } | undefined;
    if (token) {
      try {
        payload = (await verify(token, deps.jwtSecret(), "HS256")) as typeof payload;
        // Every token carries `exp` and `sub` (SPEC §4.2): the console's actions record who took them.
        if (refusedClaim(payload, expectedClaims())) payload = undefined;
      } catch {
        payload = undefined;
      }
    }
    if (!payload) {
      if (c.req.method === "GET") {
        const target = `${BASE}/sign-in?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`;
        return c.redirect(target, 303);
      }
      return respond(
        c,
        problem(
          401,
          "unauthorized",
          "Sign in first",
          "your session is missing or has expired: sign in again",
        ),
        { "www-authenticate": 'Bearer realm="payments"' },
      );
    }
    const caller = callerOf(payload);
    c.set("scopes", caller.scopes);
    c.set("viewer", { subject: caller.subject, canWrite: caller.scopes.includes("payments:write") });
    c.set("viaCookie", fromHeader === undefined);
    if (!caller.scopes.includes("payments:read")) {
      return respond(
        c,
        problem(403, "forbidden", "Missing scope", "the console needs a token with the scope payments:read"),
      );
    }
    // A cookie rides along with any request the browser makes: a post signed in by cookie must be ours.
    if (c.req.method === "POST" && fromHeader === undefined && !fromThisOrigin(c))
      return respond(c, crossSite());
    await next();
  });

  const requireScope = (scope: Scope) => async (c: Context<ConsoleEnv>, next: () => Promise<void>) => {
    if (!c.get("scopes").includes(scope)) {
      return respond(
        c,
        problem(403, "forbidden", "Missing scope", `this action needs a token with the scope ${scope}`),
      );
    }
    await next();
  };

  app.get("/", async (c) => {
    const readModels = deps.readModels();
    const deliveries = deps.deliveries();
    const at = now();
    const starts = windowStarts(at);
    const [flagged, stuck, sinks, dlqDepth, recentIds, minutes, hours] = await Promise.all([
      readModels.attentionPayments(ATTENTION_CAP),
      stuckPaymentIds(at),
      Promise.all(
        outboxSinks.map(async (sink) => {
          const [lagging, failed, oldest] = await Promise.all([
            deliveries.countByState("lagging", sink, DELIVERY_COUNT_CAP),
            deliveries.countByState("failed", sink, DELIVERY_COUNT_CAP),
            deliveries.listByState("lagging", sink, { limit: 1 }),
          ]);
          return { sink, lagging, failed, oldestSince: oldest.items[0]?.since };
        }),
      ),
      deps.orderDlq().depth(),
      readModels.recentPaymentIds(RECENT_PAYMENTS, at),
      readModels.metrics({
        from: starts.hour,
        until: new Date(at.getTime() + 60_000),
        resolution: "minute",
        now: at,
      }),
      readModels.metrics({
        from: starts.day,
        until: new Date(at.getTime() + 3_600_000),
        resolution: "hour",
        now: at,
      }),
    ]);
    const recent = (await Promise.all(recentIds.map((id) => readModels.getView(id)))).filter(
      (v): v is PaymentView => v !== undefined,
    );
    return c.html(
      overviewPage({
        viewer: c.get("viewer"),
        figures: {
          attention: { flagged: flagged.length, stuck: stuck.length, cap: ATTENTION_CAP },
          sinks,
          dlqDepth,
          recent,
          deliveryCap: DELIVERY_COUNT_CAP,
          windows: chartWindows(at, minutes, hours),
        },
        now: at,
      }),
    );
  });

  app.get("/payments", async (c) => {
    const query = (c.req.query("q") ?? "").trim();
    const by = (
      ["auto", "payment", "order", "customer"].includes(c.req.query("by") ?? "") ? c.req.query("by") : "auto"
    ) as SearchBy;
    const page = (body: Parameters<typeof paymentsPage>[0]) => c.html(paymentsPage(body));
    const base = { viewer: c.get("viewer"), query, by, now: now() };
    if (!query) return page(base);
    if (query.length > 200) {
      return page({
        ...base,
        problem: problem(
          400,
          "invalid-request",
          "The search is not valid",
          "an id is at most 200 characters",
        ),
      });
    }
    const store = deps.store();
    const byPayment = async () => {
      if (!PaymentId.safeParse(query).success) return [];
      const view = foldPaymentView(await store.load(query));
      return view ? [view] : [];
    };
    const byOrder = async () => {
      const owner = await store.findOwner({ kind: "orderId", value: query });
      const view = owner ? foldPaymentView(await store.load(owner)) : undefined;
      return view ? [view] : [];
    };
    const byCustomer = (cursor?: string) => deps.readModels().viewsByCustomer(query, { limit: 25, cursor });
    let results: { items: PaymentView[]; nextCursor?: string; searchedAs: string };
    if (by === "payment") results = { items: await byPayment(), searchedAs: `payment id ${query}` };
    else if (by === "order") results = { items: await byOrder(), searchedAs: `order id ${query}` };
    else if (by === "customer") {
      results = { ...(await byCustomer(c.req.query("cursor"))), searchedAs: `customer id ${query}` };
    } else {
      // Any id: a payment id first, then an order id, then a customer id.
      const asPayment = query.startsWith("pay_") ? await byPayment() : [];
      if (asPayment.length) results = { items: asPayment, searchedAs: `payment id ${query}` };
      else {
        const asOrder = await byOrder();
        results = asOrder.length
          ? { items: asOrder, searchedAs: `order id ${query}` }
          : { ...(await byCustomer()), searchedAs: `payment, order or customer id ${query}` };
      }
    }
    return page({ ...base, results });
  });

  app.get("/payments/:id", async (c) => {
    const paymentId = c.req.param("id");
    // Only a well-formed id reaches the store: anything else has no payment.
    if (!PaymentId.safeParse(paymentId).success) throw new PaymentNotFoundError(paymentId.slice(0, 80));
    const events = await deps.store().load(paymentId);
    if (events.length === 0) throw new PaymentNotFoundError(paymentId);
    const cursors = await deps.deliveries().getCursors(outboxSinks.map((sink) => ({ paymentId, sink })));
    return c.html(
      paymentPage({
        viewer: c.get("viewer"),
        view: foldPaymentView(events),
        events: [...events].sort((a, b) => a.version - b.version),
        cursors: outboxSinks.map((sink) => ({ sink, cursor: cursors.get(deliveryKey(paymentId, sink)) })),
        now: now(),
      }),
    );
  });

  /** Payments open longer than RECONCILE_AFTER (up to 25 a shard of the open-payments index). */
  async function stuckPaymentIds(at: Date): Promise<string[]> {
    const cutoff = new Date(at.getTime() - deps.reconcileAfterMs).toISOString();
    const due = await Promise.all(
      Array.from({ length: openPaymentShards }, (_, shard) =>
        deps.readModels().openPaymentsDue({ shard, before: cutoff, limit: 25 }),
      ),
    );
    return due.flat().map((d) => d.paymentId);
  }
  /** A payment of the page by its path id, or 404: only a well-formed id reaches the store. */
  async function attentionTarget(paymentId: string) {
    if (!PaymentId.safeParse(paymentId).success) throw new PaymentNotFoundError(paymentId.slice(0, 80));
    const view = foldPaymentView(await deps.store().load(paymentId));
    if (!view) throw new PaymentNotFoundError(paymentId);
    return view;
  }
  /** An action's events carry who took it and why, as a repair (SPEC §6.1). */
  const repairMetadata = (c: Context<ConsoleEnv>, paymentId: string, reason: string): EventMetadata => {
    const id = `console:${newId()}`;
    return {
      correlationId: id,
      causationId: id,
      source: "console",
      repair: {
        by: c.get("viewer").subject.slice(0, 255),
        reason: reason.slice(0, 1000),
        driftId: `console:${paymentId}`,
      },
    };
  };
  /** The same, as the payment service's refunds take it (their events' metadata). */
  const repairRequest = (c: Context<ConsoleEnv>, paymentId: string, reason: string) => {
    const { correlationId, causationId, repair } = repairMetadata(c, paymentId, reason);
    return { correlationId, causationId, source: "console" as const, repair };
  };
  /** A form field missing or wrong: 400, naming the field. */
  const invalidForm = (c: Context<ConsoleEnv>, field: string, detail: string) =>
    respond(c, problem(400, "invalid-request", "The form is not valid", `${field}: ${detail}`));
  const done = (notice: AttentionNotice) => `${BASE}/attention?notice=${notice}`;
  const formText = (form: Record<string, unknown>, name: string) =>
    typeof form[name] === "string" ? (form[name] as string).trim() : "";
  /** The refund id the page put in the form (a resubmitted form is the same refund), else a new one. */
  const refundIdOf = (form: Record<string, unknown>) => {
    const given = formText(form, "refundId");
    return /^console-[0-9A-HJKMNP-TV-Z]{26}$/.test(given) ? given : `console-${newId()}`;
  };

  app.get("/attention", async (c) => {
    const store = deps.store();
    const flaggedIds = await deps.readModels().attentionPayments(ATTENTION_CAP);
    const stuckIds = await stuckPaymentIds(now());
    const flagged: AttentionRow[] = [];
    for (const paymentId of flaggedIds) {
      const events = await store.load(paymentId);
      const view = foldPaymentView(events);
      if (!view) continue;
      const last = [...events]
        .reverse()
        .find(
          (e) =>
            e.type === "ProviderNoticeUnapplied" ||
            e.type === "PaymentDriftFound" ||
            e.type === "PaymentFlagged",
        );
      const why =
        last?.type === "ProviderNoticeUnapplied"
          ? `notice not applied: ${last.data.reason}`
          : last?.type === "PaymentDriftFound"
            ? `drift: ${last.data.detail}`
            : last?.type === "PaymentFlagged"
              ? `${last.data.flag}: ${last.data.detail}`
              : view.status;
      flagged.push({ view, why });
    }
    const stuck: PaymentView[] = [];
    for (const paymentId of stuckIds) {
      const view = foldPaymentView(await store.load(paymentId));
      if (view) stuck.push(view);
    }
    // Listed apart: still held for review by the stream (the index may lag a moment behind it).
    const reviews: PaymentView[] = [];
    for (const paymentId of await deps.readModels().reviewHolds(25)) {
      const view = foldPaymentView(await store.load(paymentId));
      if (view?.status === "authorized" && view.fraud?.decision === "review") reviews.push(view);
    }
    const asked = c.req.query("notice");
    return c.html(
      attentionPage({
        viewer: c.get("viewer"),
        flagged,
        stuck,
        reviews,
        lastReconciliation: await deps.readModels().lastReconciliation(),
        stuckAfter: `${Math.round(deps.reconcileAfterMs / 1000)} s`,
        newRefundId: () => `console-${newId()}`,
        notice: asked && Object.hasOwn(ATTENTION_NOTICES, asked) ? (asked as AttentionNotice) : undefined,
        now: now(),
      }),
    );
  });
  app.post("/attention/:id/settle", requireScope("payments:write"), async (c) => {
    const view = await attentionTarget(c.req.param("id") ?? "");
    const metadata = repairMetadata(c, view.paymentId, `asked ${view.provider} from the console`);
    const outcome = await deps.attention().settle(view.paymentId, metadata);
    deps.logger.info("console: asked the provider", {
      by: c.get("viewer").subject,
      paymentId: view.paymentId,
      outcome: outcome.kind,
    });
    return c.redirect(done(outcome.kind), 303);
  });
  app.post("/attention/:id/resolve", requireScope("payments:write"), async (c) => {
    const view = await attentionTarget(c.req.param("id") ?? "");
    const reason = formText(await c.req.parseBody(), "reason");
    if (!reason) return invalidForm(c, "reason", "say why nothing more is needed");
    await deps.attention().handle({
      paymentId: view.paymentId,
      metadata: repairMetadata(c, view.paymentId, reason),
      command: {
        type: "ResolveAttention",
        reason: reason.slice(0, 1000),
        by: c.get("viewer").subject.slice(0, 255),
      },
    });
    return c.redirect(done("resolved"), 303);
  });
  app.post("/attention/:id/refund", requireScope("payments:write"), async (c) => {
    const view = await attentionTarget(c.req.param("id") ?? "");
    const form = await c.req.parseBody();
    const amountText = formText(form, "amount");
    const amount = amountText ? Number(amountText) : undefined;
    if (amount !== undefined && !(Number.isSafeInteger(amount) && amount > 0))
      return invalidForm(c, "amount", "an amount is a whole number of minor units");
    // The API's refund: the hold first, then the provider, with a key of the payment and refund id.
    await deps
      .attention()
      .refund(
        view.paymentId,
        { amount, refundId: refundIdOf(form) },
        repairRequest(c, view.paymentId, `refund at ${view.provider} from the console`),
      );
    deps.logger.info("console: refunded at the provider", {
      by: c.get("viewer").subject,
      paymentId: view.paymentId,
      amount,
    });
    return c.redirect(done("provider_refunded"), 303);
  });
  app.post("/attention/:id/manual-refund", requireScope("payments:write"), async (c) => {
    const view = await attentionTarget(c.req.param("id") ?? "");
    const form = await c.req.parseBody();
    const reference = formText(form, "reference");
    if (!reference) return invalidForm(c, "reference", "give the reference of the transfer made by hand");
    const amountText = formText(form, "amount");
    const amount = amountText ? Number(amountText) : undefined;
    if (amount !== undefined && !(Number.isSafeInteger(amount) && amount > 0))
      return invalidForm(c, "amount", "an amount is a whole number of minor units");
    await deps.attention().refund(
      view.paymentId,
      { manual: true, reference: reference.slice(0, 255), amount, refundId: refundIdOf(form) },
      // Recorded as the person's repair, as the other actions of the page are.
      repairRequest(c, view.paymentId, `manual refund ${reference}`),
    );
    return c.redirect(done("refunded"), 303);
  });

  app.get("/delivery", async (c) => {
    const deliveries = deps.deliveries();
    // Each list is one page of DELIVERY_PAGE rows; `list` and `after` continue one of them.
    const continuing = c.req.query("list");
    const after = c.req.query("after");
    const startOf = (name: string, listing: DeliveryListing) =>
      continuing === name && after ? pageStartFrom(after, listing) : undefined;
    const sinks = await Promise.all(
      outboxSinks.map(async (sink) => {
        const listOf = async (state: "lagging" | "failed") => {
          const name = `${state}:${sink}`;
          const [count, page] = await Promise.all([
            deliveries.countByState(state, sink, DELIVERY_COUNT_CAP),
            deliveries.listByState(state, sink, {
              limit: DELIVERY_PAGE,
              cursor: startOf(name, { state, sink }),
            }),
          ]);
          return { name, count, items: page.items, next: page.next && pageStartText(page.next) };
        };
        return { sink, failed: await listOf("failed"), lagging: await listOf("lagging") };
      }),
    );
    const failures = await deliveries.pageFailures("open", {
      limit: DELIVERY_PAGE,
      cursor: startOf("failures", { failures: "open" }),
    });
    return c.html(
      deliveryPage({
        viewer: c.get("viewer"),
        sinks,
        openFailures: {
          name: "failures",
          items: failures.items,
          next: failures.next && pageStartText(failures.next),
        },
        countCap: DELIVERY_COUNT_CAP,
        continuing: after ? continuing : undefined,
        notice:
          c.req.query("notice") === "redriven"
            ? `Redrive done: ${countOf(c, "requeued")} failed delivery(ies) requeued; ` +
              `${countOf(c, "swept")} swept, ${countOf(c, "caughtUp")} caught up, ` +
              `${countOf(c, "stillBehind")} still behind, ${countOf(c, "published")} event(s) published.`
            : undefined,
        now: now(),
      }),
    );
  });
  app.post("/delivery/redrive", requireScope("payments:write"), async (c) => {
    const { requeued, sweep } = await deps.redriveDeliveries();
    deps.logger.info("console: deliveries redriven", { by: c.get("viewer").subject, requeued, ...sweep });
    // The notice is a fixed sentence around these counts: no text from the query reaches the page.
    const counts = new URLSearchParams({
      notice: "redriven",
      requeued: String(requeued),
      swept: String(sweep.swept),
      caughtUp: String(sweep.caughtUp),
      stillBehind: String(sweep.stillBehind),
      published: String(sweep.published),
    });
    return c.redirect(`${BASE}/delivery?${counts}`, 303);
  });

  app.get("/dlq", async (c) =>
    c.html(
      dlqPage({
        viewer: c.get("viewer"),
        letters: await deps.orderDlq().list(),
        notice:
          c.req.query("notice") === "moved"
            ? `${countOf(c, "moved")} message(s) moved back to the order queue.` +
              (countOf(c, "gone") ? ` ${countOf(c, "gone")} no longer in the DLQ.` : "")
            : undefined,
        now: now(),
      }),
    ),
  );
  app.post("/dlq/redrive", requireScope("payments:write"), async (c) => {
    const form = await c.req.parseBody();
    const one = typeof form.messageId === "string" && form.messageId ? [form.messageId] : undefined;
    const { moved, notFound } = await deps.orderDlq().redrive(one);
    deps.logger.info("console: order DLQ redriven", { by: c.get("viewer").subject, moved, notFound });
    return c.redirect(`${BASE}/dlq?notice=moved&moved=${moved}&gone=${notFound.length}`, 303);
  });

  app.get("/verify", (c) => c.html(verifyPage({ viewer: c.get("viewer") })));
  // Verify scans and folds every stream: the write scope, and one at a time in this container.
  let verifying = false;
  app.post("/verify", requireScope("payments:write"), async (c) => {
    if (verifying) {
      return respond(
        c,
        problem(
          409,
          "verify-running",
          "A verification is already running",
          "one verify runs at a time: wait for it to finish, then run it again",
        ),
      );
    }
    verifying = true;
    try {
      return c.html(verifyPage({ viewer: c.get("viewer"), result: await deps.verify() }));
    } finally {
      verifying = false;
    }
  });

  return app;
}
