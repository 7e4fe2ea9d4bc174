import type { DeliveryCursor, DeliveryFailure, ReconciliationSummary } from "@payments/adapters/dynamodb";
import type { PaymentView, RecordedEvent } from "@payments/core";
import type { OutboxSink } from "@payments/topology";
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Problem } from "../api/problem";
import type { ReplayResult } from "../projector/replay";
import { type ChartWindow, windowSection } from "./charts";
import { formatAge, formatMoney } from "./format";
import type { DeadLetter } from "./order-dlq";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Who is signed in, as the pages show it. */
export interface Viewer {
  readonly subject: string;
  readonly canWrite: boolean;
}

export type Section = "overview" | "payments" | "attention" | "delivery" | "dlq" | "verify";

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f6f7f9}
a{color:#0b57d0}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1.2rem;background:#14213d;color:#fff}
header a{color:#fff}
header .brand{font-weight:600;margin-right:1rem;text-decoration:none}
header nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}
header nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
header .who{margin-left:auto;display:flex;gap:.6rem;align-items:center}
main{max-width:1200px;margin:0 auto;padding:1.2rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
h2{font-size:1.15rem;margin:1.6rem 0 .6rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #d0d5dd;vertical-align:top}
th{background:#eef0f3}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#fff;border:1px solid #d0d5dd;padding:.6rem;overflow:auto;max-height:24rem;margin:.3rem 0}
td pre{white-space:pre-wrap;word-break:break-all;max-width:36rem}
form.inline{display:inline}
button{font:inherit;padding:.35rem .9rem;border-radius:4px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
button.quiet{background:transparent;color:inherit;border-color:currentColor}
input,select{font:inherit;padding:.35rem .5rem;border:1px solid #6b7280;border-radius:4px}
label{font-weight:600;margin-right:.4rem}
.notice{background:#e6f4ea;border:1px solid #137333;padding:.6rem .9rem;margin:0 0 1rem}
.problem{background:#fce8e6;border:1px solid #a50e0e;padding:.6rem .9rem;margin:0 0 1rem}
.muted{color:#4b5563}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;border:1px solid #6b7280;font-size:.85em}
.badge.warn{border-color:#a50e0e;color:#a50e0e}
.grid{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.8rem;border:1px solid #d0d5dd}
.grid dt{font-weight:600}.grid dd{margin:0}
ol.timeline{list-style:none;padding:0;margin:0}
ol.timeline li{background:#fff;border:1px solid #d0d5dd;border-left:4px solid #0b57d0;padding:.5rem .8rem;margin:.4rem 0}
.search{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin-bottom:1rem}
figure.chart{margin:0 0 1rem}
figure.chart svg{display:block;width:100%;max-width:720px;height:auto;background:#fff;border:1px solid #d0d5dd}
ul.legend{display:flex;flex-wrap:wrap;gap:.4rem 1rem;list-style:none;padding:0;margin:.4rem 0}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.35rem;vertical-align:-.1em;border:1px solid #1b1f24}
h3{font-size:1rem;margin:1rem 0 .4rem}
`;

function layout(options: {
  title: string;
  viewer?: Viewer;
  section?: Section;
  body: Html;
  /** Seconds between the script's refreshes of the page's main part (the page works without it). */
  refresh?: number;
}): Html {
  const link = (section: Section, href: string, text: string) =>
    html`<li><a href="${href}" ${options.section === section ? html`aria-current="page"` : ""}>${text}</a></li>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Payments console</title>
<style>${raw(STYLE)}</style>
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<header>
<a class="brand" href="/console">Payments console</a>
${
  options.viewer
    ? html`<nav aria-label="Sections"><ul>
${link("overview", "/console", "Overview")}
${link("payments", "/console/payments", "Payments")}
${link("attention", "/console/attention", "Needs attention")}
${link("delivery", "/console/delivery", "Delivery")}
${link("dlq", "/console/dlq", "Order DLQ")}
${link("verify", "/console/verify", "Verify read models")}
</ul></nav>
<div class="who"><span>${options.viewer.subject} · ${options.viewer.canWrite ? "read and write" : "read only"}</span>
<form class="inline" method="post" action="/console/sign-out"><button class="quiet" type="submit">Sign out</button></form></div>`
    : ""
}
</header>
<main${options.refresh ? html` data-refresh="${options.refresh}"` : ""}>
${options.body}
</main>
</body>
</html>`;
}

function notice(text: string | undefined): Html | string {
  return text ? html`<p class="notice" role="status">${text}</p>` : "";
}

function problemBox(p: Problem | undefined): Html | string {
  if (!p) return "";
  return html`<div class="problem" role="alert"><strong>${p.title}.</strong> ${p.detail}
${p.errors?.length ? html`<ul>${p.errors.map((e) => html`<li><code>${e.path}</code>: ${e.message}</li>`)}</ul>` : ""}
<div class="muted">${p.status} · <code>${p.type}</code></div></div>`;
}

const json = (value: unknown) => JSON.stringify(value, null, 2);
const time = (iso: string | undefined) => (iso ? html`<time datetime="${iso}">${iso}</time>` : "–");

export function signInPage(options: { problem?: Problem; next?: string }): Html {
  return layout({
    title: "Sign in",
    body: html`<h1>Sign in</h1>
${problemBox(options.problem)}
<p>Paste a bearer token. <code>npm run token</code> prints one for the dev stack; a token with
<code>payments:read</code> can look, one with <code>payments:write</code> can also act.</p>
<form method="post" action="/console/sign-in" class="search">
<input type="hidden" name="next" value="${options.next ?? "/console"}">
<label for="token">Bearer token</label>
<input id="token" name="token" type="password" autocomplete="off" required size="60">
<button type="submit">Sign in</button>
</form>`,
  });
}

export function problemPage(p: Problem, viewer?: Viewer): Html {
  return layout({
    title: p.title,
    viewer,
    body: html`<h1>${p.title}</h1>${problemBox(p)}<p><a href="/console/payments">Back to payments</a></p>`,
  });
}

export type SearchBy = "auto" | "payment" | "order" | "customer";

function statusBadge(view: PaymentView) {
  return html`<span class="badge">${view.status}</span>`;
}

function paymentRows(items: readonly PaymentView[], now: Date) {
  return items.map(
    (v) => html`<tr>
<td><a href="/console/payments/${encodeURIComponent(v.paymentId)}"><code>${v.paymentId}</code></a></td>
<td><code>${v.orderId}</code></td>
<td>${v.customerId ? html`<code>${v.customerId}</code>` : "–"}</td>
<td>${statusBadge(v)}</td>
<td class="num">${formatMoney(v.amount, v.currency)}</td>
<td class="num">${formatMoney(v.amountCaptured, v.currency)}</td>
<td class="num">${formatMoney(v.amountRefunded, v.currency)}</td>
<td>${formatAge(v.createdAt, now)}</td>
</tr>`,
  );
}

export function paymentsPage(options: {
  viewer: Viewer;
  query: string;
  by: SearchBy;
  results?: { items: readonly PaymentView[]; nextCursor?: string; searchedAs: string };
  problem?: Problem;
  now: Date;
}): Html {
  const option = (value: SearchBy, text: string) =>
    html`<option value="${value}" ${options.by === value ? "selected" : ""}>${text}</option>`;
  const r = options.results;
  return layout({
    title: "Payments",
    viewer: options.viewer,
    section: "payments",
    body: html`<h1>Payments</h1>
<form method="get" action="/console/payments" class="search" role="search">
<label for="q">Find</label>
<input id="q" name="q" value="${options.query}" placeholder="pay_…, an order id or a customer id" size="40">
<label for="by">by</label>
<select id="by" name="by">${option("auto", "any id")}${option("payment", "payment id")}${option("order", "order id")}${option("customer", "customer id")}</select>
<button type="submit">Search</button>
</form>
${problemBox(options.problem)}
${
  r
    ? r.items.length === 0
      ? html`<p role="status">No payment has ${r.searchedAs}.</p>`
      : html`<p class="muted" role="status">${r.items.length} payment(s) with ${r.searchedAs}.</p>
<table><caption class="muted">Amounts in major units; newest first</caption>
<thead><tr><th scope="col">Payment</th><th scope="col">Order</th><th scope="col">Customer</th><th scope="col">Status</th>
<th scope="col" class="num">Amount</th><th scope="col" class="num">Captured</th><th scope="col" class="num">Refunded</th><th scope="col">Age</th></tr></thead>
<tbody>${paymentRows(r.items, options.now)}</tbody></table>
${
  r.nextCursor
    ? html`<p><a href="/console/payments?by=customer&q=${encodeURIComponent(options.query)}&cursor=${encodeURIComponent(r.nextCursor)}">Next page</a></p>`
    : ""
}`
    : html`<p class="muted">Search by payment id, order id or customer id. Lists by customer come from the read model, which follows the events within seconds.</p>`
}`,
  });
}

function cursorRows(cursors: readonly DeliveryCursor[], now: Date, withPayment: boolean) {
  return cursors.map(
    (c) => html`<tr>
${withPayment ? html`<td><a href="/console/payments/${encodeURIComponent(c.paymentId)}"><code>${c.paymentId}</code></a></td>` : ""}
<td>${c.sink}</td>
<td class="num">${c.delivered}</td>
<td class="num">${c.latest}</td>
<td class="num">${Math.max(0, c.latest - c.delivered)}</td>
<td><span class="badge ${c.state === "current" ? "" : "warn"}">${c.state}</span></td>
<td class="num">${c.sweeps}</td>
<td>${c.since ? formatAge(c.since, now) : "–"}</td>
<td>${c.lastError ?? "–"}</td>
</tr>`,
  );
}

const cursorHead = (withPayment: boolean) =>
  html`<thead><tr>${withPayment ? html`<th scope="col">Payment</th>` : ""}<th scope="col">Sink</th><th scope="col" class="num">Delivered up to</th>
<th scope="col" class="num">Latest version</th><th scope="col" class="num">Behind by</th><th scope="col">State</th>
<th scope="col" class="num">Sweeps</th><th scope="col">Behind since</th><th scope="col">Last error</th></tr></thead>`;

export function paymentPage(options: {
  viewer: Viewer;
  view: PaymentView | undefined;
  events: readonly RecordedEvent[];
  cursors: ReadonlyArray<{ sink: OutboxSink; cursor?: DeliveryCursor }>;
  now: Date;
}): Html {
  const { view, events } = options;
  const latest = events.at(-1)?.version ?? 0;
  const paymentId = events[0]?.paymentId ?? "";
  const flags = view?.flags ?? [];
  // The traces the payment's events were appended in (SPEC §5): usually one, the request's.
  const traces = [
    ...new Set(
      events.flatMap((e) => (e.metadata.traceparent ? [e.metadata.traceparent.split("-")[1]!] : [])),
    ),
  ];
  const unapplied = events.filter(
    (e): e is Extract<RecordedEvent, { type: "ProviderNoticeUnapplied" }> =>
      e.type === "ProviderNoticeUnapplied",
  );
  return layout({
    title: `Payment ${paymentId}`,
    viewer: options.viewer,
    section: "payments",
    body: html`<h1>Payment <code>${paymentId}</code></h1>
${
  view
    ? html`<dl class="grid">
<dt>Status</dt><dd>${statusBadge(view)}</dd>
<dt>Order</dt><dd><a href="/console/payments?by=order&q=${encodeURIComponent(view.orderId)}"><code>${view.orderId}</code></a></dd>
<dt>Customer</dt><dd>${view.customerId ? html`<a href="/console/payments?by=customer&q=${encodeURIComponent(view.customerId)}"><code>${view.customerId}</code></a>` : "–"}</dd>
<dt>Amount</dt><dd>${formatMoney(view.amount, view.currency)} (${view.amount} minor units of ${view.currency})</dd>
<dt>Captured</dt><dd>${formatMoney(view.amountCaptured, view.currency)}</dd>
<dt>Refunded</dt><dd>${formatMoney(view.amountRefunded, view.currency)}</dd>
<dt>Flags</dt><dd>${flags.length ? flags.map((f) => html`<span class="badge warn">${f}</span> `) : "none"}</dd>
<dt>Provider</dt><dd>${view.provider}${view.providerReference ? html`, reference <code>${view.providerReference}</code>` : ""}</dd>
<dt>Gateway payment</dt><dd>${view.gatewayPaymentId ? html`<code>${view.gatewayPaymentId}</code>` : "–"}</dd>
<dt>Gateway response</dt><dd>${view.gatewayResponse ? html`${view.gatewayResponse.status}${view.gatewayResponse.authorizationCode ? html`, authorization <code>${view.gatewayResponse.authorizationCode}</code>` : ""} at ${time(view.gatewayResponse.timestamp)}` : "–"}</dd>
<dt>Fraud screening</dt><dd>${view.fraud ? `${view.fraud.decision}, score ${view.fraud.score}${view.fraud.reasons.length ? ` (${view.fraud.reasons.join(", ")})` : ""}` : "–"}</dd>
<dt>Version</dt><dd>${view.version} · created ${formatAge(view.createdAt, options.now)}, updated ${formatAge(view.updatedAt, options.now)}</dd>
<dt>Trace</dt><dd>${traces.length ? traces.map((t, i) => html`${i ? ", " : ""}<code class="trace-id">${t}</code>`) : "–"}</dd>
</dl>`
    : html`<p class="problem" role="alert">The stream does not fold into a payment: it has no PaymentInitiated event.</p>`
}
${
  unapplied.length
    ? html`<section aria-labelledby="unapplied"><h2 id="unapplied">Provider notices not applied</h2>
<p>Verified notices from the provider that this payment's lifecycle could not apply. They were acknowledged, so the provider stops sending them, and recorded here for a person to settle.</p>
<table><thead><tr><th scope="col">Version</th><th scope="col">Provider</th><th scope="col">Notice</th><th scope="col">Type</th><th scope="col" class="num">Amount</th><th scope="col">Why it was not applied</th></tr></thead><tbody>
${unapplied.map(
  (e) =>
    html`<tr class="unapplied"><td>v${e.version}</td><td>${e.data.provider}</td><td><code>${e.data.noticeId}</code></td><td>${e.data.noticeType}</td><td class="num">${e.data.amount !== undefined && e.data.currency ? formatMoney(e.data.amount, e.data.currency) : "–"}</td><td>${e.data.reason}</td></tr>`,
)}
</tbody></table></section>`
    : ""
}
<h2>Delivery</h2>
<table>${cursorHead(false)}<tbody>
${options.cursors.map(({ sink, cursor }) =>
  cursor
    ? cursorRows([cursor], options.now, false)
    : html`<tr><td>${sink}</td><td class="num">–</td><td class="num">${latest}</td><td class="num">–</td><td><span class="badge">not yet seen by the relay</span></td><td class="num">–</td><td>–</td><td>–</td></tr>`,
)}
</tbody></table>
<h2>Timeline</h2>
<ol class="timeline" aria-label="Events in version order">
${events.map(
  (
    e,
  ) => html`<li data-version="${e.version}"${e.metadata.repair ? html` class="repair"` : ""}><strong>v${e.version} ${e.type}</strong> · ${time(e.occurredAt)} · <code>${e.id}</code>${e.metadata.traceparent ? html` · traceparent <code class="traceparent">${e.metadata.traceparent}</code>` : ""}${
    e.metadata.repair
      ? html` · <span class="badge warn">repair by ${e.metadata.repair.by}</span> <span class="muted">${e.metadata.repair.reason}</span>`
      : ""
  }
<details><summary>Data and metadata</summary>
<h3 class="muted">data</h3><pre>${json(e.data)}</pre>
<h3 class="muted">metadata</h3><pre>${json(e.metadata)}</pre></details></li>`,
)}
</ol>
<h2>Folded view</h2>
<details><summary>The payment view, folded from these events (the API's response body)</summary><pre>${json(view)}</pre></details>`,
  });
}

/** One page of a delivery list: its rows, how many there are in all, and where the next page starts. */
export interface DeliveryList<T> {
  readonly name: string;
  readonly items: readonly T[];
  readonly count?: number;
  readonly next?: string;
}

const nextPageLink = (list: DeliveryList<unknown>, label: string) =>
  list.next
    ? html`<p><a href="/console/delivery?list=${encodeURIComponent(list.name)}&after=${encodeURIComponent(list.next)}#${list.name.replace(":", "-")}">Next ${label}</a></p>`
    : "";

export function deliveryPage(options: {
  viewer: Viewer;
  sinks: ReadonlyArray<{
    sink: OutboxSink;
    lagging: DeliveryList<DeliveryCursor>;
    failed: DeliveryList<DeliveryCursor>;
  }>;
  openFailures: DeliveryList<DeliveryFailure>;
  /** Counts are exact up to this, then shown as "cap+". */
  countCap: number;
  /** The list whose later page this is, if any. */
  continuing?: string;
  notice?: string;
  now: Date;
}): Html {
  const shown = (n = 0) => (n > options.countCap ? `${options.countCap}+` : String(n));
  const lists = options.sinks.flatMap((s) => [s.failed, s.lagging]);
  const pending = lists.reduce((n, list) => n + (list.count ?? list.items.length), 0);
  const later = (name: string) => (options.continuing === name ? " (a later page)" : "");
  return layout({
    title: "Delivery",
    viewer: options.viewer,
    section: "delivery",
    body: html`<h1>Delivery to EventBridge and Kafka</h1>
${notice(options.notice)}
<p>Every event goes to each sink in version order; a cursor per payment and sink says how far it got.
A lagging delivery is retried by the sweeper every minute; after its retries it is marked failed and waits for a redrive.</p>
<table><caption class="muted">Per sink</caption><thead><tr><th scope="col">Sink</th><th scope="col" class="num">Lagging</th><th scope="col" class="num">Failed</th></tr></thead>
<tbody>${options.sinks.map((s) => html`<tr><td>${s.sink}</td><td class="num">${shown(s.lagging.count)}</td><td class="num">${shown(s.failed.count)}</td></tr>`)}</tbody></table>
${
  options.viewer.canWrite
    ? html`<form method="post" action="/console/delivery/redrive"><p><button type="submit">Redrive: retry every lagging and failed delivery now</button></p></form>`
    : ""
}
<h2>Behind</h2>
${
  pending === 0
    ? html`<p role="status">Every delivery is current: nothing lagging, nothing failed.</p>`
    : lists
        .filter((list) => list.items.length > 0)
        .map(
          (
            list,
          ) => html`<h3 id="${list.name.replace(":", "-")}">${list.name.replace(":", " at ")}: ${shown(list.count)}${later(list.name)}</h3>
<table>${cursorHead(true)}<tbody>${cursorRows(list.items, options.now, true)}</tbody></table>
${nextPageLink(list, `page of ${list.name.replace(":", " at ")}`)}`,
        )
}
<h2 id="failures">Open failure records${later("failures")}</h2>
${
  options.openFailures.items.length === 0
    ? html`<p>None.</p>`
    : html`<table><thead><tr><th scope="col">Payment</th><th scope="col">Sink</th><th scope="col">Failed at</th><th scope="col" class="num">Delivered up to</th><th scope="col" class="num">Latest</th><th scope="col">Error</th></tr></thead><tbody>
${options.openFailures.items.map(
  (f) =>
    html`<tr><td><a href="/console/payments/${encodeURIComponent(f.paymentId)}"><code>${f.paymentId}</code></a></td><td>${f.sink}</td><td>${time(f.failedAt)}</td><td class="num">${f.delivered}</td><td class="num">${f.latest}</td><td>${f.error ?? "–"}</td></tr>`,
)}</tbody></table>
${nextPageLink(options.openFailures, "page of failure records")}`
}`,
  });
}

export function dlqPage(options: {
  viewer: Viewer;
  letters: readonly DeadLetter[];
  notice?: string;
  now: Date;
}): Html {
  const { viewer, letters } = options;
  return layout({
    title: "Order DLQ",
    viewer,
    section: "dlq",
    body: html`<h1>Order dead-letter queue</h1>
${notice(options.notice)}
<p>Order messages whose processing failed on each of their receives (a gateway or database outage,
not a declined card or a malformed message, which are recorded and not retried). A redrive sends
them back to the order queue; a payment already made for the order is not charged again.
Receives count every receive, this page's looks included, as SQS counts them.</p>
${
  letters.length === 0
    ? html`<p role="status">The DLQ is empty.</p>`
    : html`${viewer.canWrite ? html`<form method="post" action="/console/dlq/redrive"><p><button type="submit">Redrive all ${letters.length} to the order queue</button></p></form>` : ""}
<table><thead><tr><th scope="col">Message</th><th scope="col" class="num">Receives</th><th scope="col">Sent</th><th scope="col">Why its last try failed</th><th scope="col">Body</th>${viewer.canWrite ? html`<th scope="col">Action</th>` : ""}</tr></thead><tbody>
${letters.map(
  (m) => html`<tr>
<td><code>${m.messageId}</code></td>
<td class="num">${m.receiveCount}</td>
<td>${formatAge(m.sentAt, options.now)}</td>
<td>${m.failure ? html`${m.failure.reason}${m.failure.orderId ? html` (order <a href="/console/payments?by=order&q=${encodeURIComponent(m.failure.orderId)}"><code>${m.failure.orderId}</code></a>)` : ""}` : html`<span class="muted">not recorded; see the process-payment logs for message ${m.messageId}</span>`}</td>
<td><pre>${m.body}</pre></td>
${
  viewer.canWrite
    ? html`<td><form method="post" action="/console/dlq/redrive"><input type="hidden" name="messageId" value="${m.messageId}"><button type="submit" aria-label="Redrive message ${m.messageId}">Redrive</button></form></td>`
    : ""
}
</tr>`,
)}
</tbody></table>`
}`,
  });
}

export function verifyPage(options: { viewer: Viewer; result?: ReplayResult }): Html {
  const r = options.result;
  return layout({
    title: "Verify read models",
    viewer: options.viewer,
    section: "verify",
    body: html`<h1>Verify the read models</h1>
<p>Folds every payment's stream afresh and compares it with its stored view and metrics tally, and
every figure of the overview with the sum of the folded tallies, as
<code>npm run replay -- projections --verify</code> does. A view that differs is checked again after a
short settle, so that projector lag does not count. Nothing is written; <code>npm run replay -- projections</code> repairs.</p>
${
  options.viewer.canWrite
    ? html`<form method="post" action="/console/verify"><p><button type="submit">Run verify</button></p></form>`
    : html`<p>Running it reads every stream: it needs a session with the scope <code>payments:write</code>.</p>`
}
${
  r
    ? html`<section aria-labelledby="result"><h2 id="result">Result</h2>
<p role="status" class="${r.differing.length || r.corrupt.length || r.figures?.length ? "problem" : "notice"}">${
        r.differing.length === 0
          ? `Clean: ${r.payments} payment(s), ${r.events} event(s) checked in ${r.seconds.toFixed(1)} s; every view and metrics tally matches its stream.`
          : `${r.differing.length} view(s) or tallies differ from their streams, of ${r.payments} payment(s) checked in ${r.seconds.toFixed(1)} s.`
      }${r.corrupt.length ? ` ${r.corrupt.length} stream(s) could not be read.` : ""}${
        r.figures === undefined
          ? ""
          : r.figures.length
            ? ` ${r.figures.length} metrics figure(s) differ from the streams' sum.`
            : " Every metrics figure is the streams' sum."
      }</p>
${
  r.figures?.length
    ? html`<table><caption>Metrics figures apart from the streams' sum</caption><thead><tr><th scope="col">Interval (UTC)</th><th scope="col">Figure</th><th scope="col" class="num">Stored</th><th scope="col" class="num">The streams' sum</th></tr></thead><tbody>
${r.figures.slice(0, 100).map((f) => html`<tr><td>${f.at}</td><td><code>${f.figure}</code></td><td class="num">${f.stored}</td><td class="num">${f.expected}</td></tr>`)}
</tbody></table>`
    : ""
}
${
  r.differing.length
    ? html`<table><thead><tr><th scope="col">Payment</th><th scope="col">Stored view</th><th scope="col">Folded from the stream</th></tr></thead><tbody>
${r.differing.map((d) => html`<tr><td><a href="/console/payments/${encodeURIComponent(d.paymentId)}"><code>${d.paymentId}</code></a></td><td><pre>${json(d.stored)}</pre></td><td><pre>${json(d.folded)}</pre></td></tr>`)}
</tbody></table>`
    : ""
}
${r.corrupt.length ? html`<ul>${r.corrupt.map((c) => html`<li><code>${c.paymentId}</code>: ${c.reason}</li>`)}</ul>` : ""}
</section>`
    : ""
}`,
  });
}

/** The light enhancement: times in the reader's zone, and a confirmation before a redrive. */
export const CONSOLE_SCRIPT = `
for (const t of document.querySelectorAll("time[datetime]")) {
  const d = new Date(t.getAttribute("datetime"));
  if (!Number.isNaN(d.getTime())) { t.title = t.getAttribute("datetime"); t.textContent = d.toLocaleString(); }
}
const live = document.querySelector("main[data-refresh]");
if (live) {
  setInterval(async () => {
    try {
      const response = await fetch(location.href, { headers: { accept: "text/html" } });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("main[data-refresh]");
      if (next) live.innerHTML = next.innerHTML;
    } catch {}
  }, Number(live.dataset.refresh) * 1000);
}
for (const f of document.querySelectorAll("form[action$='/redrive'], form[action$='refund']")) {
  f.addEventListener("submit", () => {
    const b = f.querySelector("button");
    if (b) { b.disabled = true; b.textContent = "Working…"; }
  });
}
`;

/** What the Needs attention page's actions tell the person afterwards: a fixed list, never free text. */
export const ATTENTION_NOTICES = {
  resolved:
    "Resolved: PaymentAttentionResolved is recorded with your name and reason, and needs_attention is cleared.",
  settled: "Asked the provider: what it holds is recorded (see the payment's timeline).",
  in_progress: "Asked the provider: it still has the payment in progress; nothing was recorded.",
  provider_error: "The provider did not answer; nothing was recorded. Try again later.",
  not_open: "Nothing to settle: the payment is not waiting on its provider.",
  refunded: "The manual refund is recorded (PaymentRefunded, method manual).",
  provider_refunded:
    "Refunded at the provider: its answer is recorded (see the payment's timeline; a ZaloPay refund may still be processing).",
} as const;
export type AttentionNotice = keyof typeof ATTENTION_NOTICES;

export interface AttentionRow {
  readonly view: PaymentView;
  /** Why it is listed, in words: the last unapplied notice or drift, or the flag or status. */
  readonly why: string;
}

/**
 * The Needs attention page (SPEC §6.1): payments flagged for a person or underpaid, and payments stuck
 * open past RECONCILE_AFTER, each with its actions for a session with the write scope.
 */
export function attentionPage(options: {
  viewer: Viewer;
  flagged: readonly AttentionRow[];
  stuck: readonly PaymentView[];
  stuckAfter: string;
  /** Holds awaiting a fraud review, listed apart (SPEC §6.1): a person captures or cancels them. */
  reviews?: readonly PaymentView[];
  /** What the last `npm run reconcile` found, if one has run. */
  lastReconciliation?: ReconciliationSummary;
  notice?: AttentionNotice;
  now: Date;
  /**
   * A refund id for each refund form, made when the page is: the form sends it back, so a form
   * submitted twice (a double click, a resend) is one refund.
   */
  newRefundId: () => string;
}): Html {
  // PayOS has no refund API (SPEC §4.5): its refunds are manual only.
  const refundable = (view: PaymentView) =>
    view.provider !== "payos" && view.amountCaptured > view.amountRefunded;
  const actions = (view: PaymentView) =>
    options.viewer.canWrite
      ? html`<form class="inline" method="post" action="/console/attention/${view.paymentId}/settle"><button type="submit">Ask ${view.provider}</button></form>
${
  refundable(view)
    ? html`<form class="inline" method="post" action="/console/attention/${view.paymentId}/refund"><input type="hidden" name="refundId" value="${options.newRefundId()}"><label for="amt-${view.paymentId}">Amount (minor units, blank for all)</label><input id="amt-${view.paymentId}" name="amount" inputmode="numeric" pattern="[0-9]*" size="8"><button type="submit" class="quiet">Refund at ${view.provider}</button></form>`
    : ""
}
<form class="inline" method="post" action="/console/attention/${view.paymentId}/manual-refund"><input type="hidden" name="refundId" value="${options.newRefundId()}"><label for="ref-${view.paymentId}">Transfer reference</label><input id="ref-${view.paymentId}" name="reference" required size="14"><button type="submit" class="quiet">Record manual refund</button></form>
${
  view.flags.includes("needs_attention")
    ? html`<form class="inline" method="post" action="/console/attention/${view.paymentId}/resolve"><label for="why-${view.paymentId}">Reason</label><input id="why-${view.paymentId}" name="reason" required size="20"><button type="submit" class="quiet">Resolve</button></form>`
    : ""
}`
      : html`<span class="muted">read only</span>`;
  const row = (view: PaymentView, why: string) =>
    html`<tr><td><a href="/console/payments/${view.paymentId}"><code>${view.paymentId}</code></a></td><td>${statusBadge(view)} ${view.flags.map((f) => html`<span class="badge warn">${f}</span> `)}</td><td class="num">${formatMoney(view.amount, view.currency)}</td><td class="num">${formatMoney(view.amountCaptured, view.currency)}</td><td>${view.provider}</td><td>${why}</td><td>${formatAge(view.updatedAt, options.now)}</td><td>${actions(view)}</td></tr>`;
  const head = html`<thead><tr><th scope="col">Payment</th><th scope="col">Status and flags</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Received</th><th scope="col">Provider</th><th scope="col">Why</th><th scope="col">Last change</th><th scope="col">Actions</th></tr></thead>`;
  return layout({
    title: "Needs attention",
    viewer: options.viewer,
    section: "attention",
    body: html`<h1>Needs attention</h1>
${notice(options.notice ? ATTENTION_NOTICES[options.notice] : undefined)}
<p>Each action appends an event to the payment's own history, with your name in <code>metadata.repair.by</code>; nothing is edited or deleted. <code>npm run reconcile</code> lists the drift against each provider.</p>
<h2 id="flagged">Flagged for a person, or underpaid</h2>
${
  options.flagged.length
    ? html`<table aria-labelledby="flagged">${head}<tbody>${options.flagged.map((r) => row(r.view, r.why))}</tbody></table>`
    : html`<p>Nothing is flagged: no unapplied notice, drift, unmatched or mismatched payment, and nothing underpaid.</p>`
}
<h2 id="stuck">Open longer than ${options.stuckAfter}</h2>
${
  options.stuck.length
    ? html`<table aria-labelledby="stuck">${head}<tbody>${options.stuck.map((v) => row(v, v.status === "initiated" ? "waiting for its provider" : "a refund is held back"))}</tbody></table>`
    : html`<p>Nothing is stuck: the reconciler has settled every payment open longer than that.</p>`
}
<h2 id="review">Held for a fraud review</h2>
<p>Authorized, not captured: screening asked a person to decide. Capture with <code>POST /payments/{id}/capture</code>, or release with <code>/cancel</code>; the hold expires at Stripe after 7 days.</p>
${
  options.reviews?.length
    ? html`<table aria-labelledby="review"><thead><tr><th scope="col">Payment</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Score</th><th scope="col">Reasons</th><th scope="col">Held for</th></tr></thead><tbody>${options.reviews.map(
        (v) =>
          html`<tr><td><a href="/console/payments/${v.paymentId}"><code>${v.paymentId}</code></a></td><td class="num">${formatMoney(v.amount, v.currency)}</td><td class="num">${v.fraud?.score ?? "–"}</td><td>${(v.fraud?.reasons ?? []).join(", ") || "–"}</td><td>${formatAge(v.updatedAt, options.now)}</td></tr>`,
      )}</tbody></table>`
    : html`<p>No hold is waiting for a fraud review.</p>`
}
${lastReconciliationSection(options.lastReconciliation, options.now)}`,
  });
}

/** The last `npm run reconcile`: when, by whom, over what, and each drift it found with what became of it. */
function lastReconciliationSection(last: ReconciliationSummary | undefined, now: Date): Html {
  if (!last)
    return html`<h2 id="last-reconciliation">The last reconciliation</h2>
<p>No reconciliation has run yet: <code>npm run reconcile</code> compares each provider's records with the ledger.</p>`;
  const classes = Object.entries(last.byClass)
    .map(([c, n]) => `${n} ${c}`)
    .join(", ");
  return html`<h2 id="last-reconciliation">The last reconciliation</h2>
<p>${formatAge(last.at, now)}, by <code>${last.by}</code>${last.repair ? " with --repair" : ""}: ${last.providers.join(", ")} from ${time(last.window.since)} to ${time(last.window.until)}; ${last.compared} compared, ${last.driftCount ? `${last.driftCount} drift(s) (${classes}), ${last.left} left` : "no drift"}.${last.providerErrors.length ? ` Not compared: ${last.providerErrors.join("; ")}.` : ""}</p>
${
  last.drifts.length
    ? html`<table aria-labelledby="last-reconciliation"><thead><tr><th scope="col">Class</th><th scope="col">Provider</th><th scope="col">Payment</th><th scope="col">Provider's object</th><th scope="col" class="num">Amount</th><th scope="col">Now</th></tr></thead><tbody>${last.drifts.map(
        (d) =>
          html`<tr><td>${d.driftClass}</td><td>${d.provider}</td><td>${d.paymentId ? html`<a href="/console/payments/${d.paymentId}"><code>${d.paymentId}</code></a>` : "(none)"}</td><td><code>${d.providerObject}</code></td><td class="num">${formatMoney(d.amount, d.currency)}</td><td>${d.state}</td></tr>`,
      )}</tbody></table>${last.driftCount > last.drifts.length ? html`<p>The first ${last.drifts.length} of ${last.driftCount}; the CLI's report lists them all.</p>` : ""}`
    : ""
}`;
}

/** What the overview shows (SPEC §7): what needs a person, delivery per sink, the DLQ, the newest payments. */
export interface OverviewFigures {
  /** Payments flagged for a person, counted up to `cap` (more shows as "cap+"). */
  readonly attention: { readonly flagged: number; readonly stuck: number; readonly cap: number };
  readonly sinks: ReadonlyArray<{
    readonly sink: OutboxSink;
    readonly lagging: number;
    readonly failed: number;
    /** Since when the oldest lagging payment has been behind. */
    readonly oldestSince?: string;
  }>;
  readonly dlqDepth: number;
  readonly recent: readonly PaymentView[];
  /** The counts' cap of the delivery lists. */
  readonly deliveryCap: number;
  /** The last hour and the last 24 hours, from the metrics read model. */
  readonly windows: readonly ChartWindow[];
}

/**
 * The console's landing page: whether payments flow and what needs someone, at a glance, refreshed
 * every 15 s by the page's script (and complete without it).
 */
export function overviewPage(options: { viewer: Viewer; figures: OverviewFigures; now: Date }): Html {
  const { figures, now } = options;
  const capped = (n: number, cap: number) =>
    n >= cap ? `${cap.toLocaleString("en")}+` : n.toLocaleString("en");
  const attention = figures.attention.flagged + figures.attention.stuck;
  return layout({
    title: "Overview",
    viewer: options.viewer,
    section: "overview",
    refresh: 15,
    body: html`<h1>Overview</h1>
<p class="muted">As of ${time(now.toISOString())}; the page refreshes its figures every 15 s.</p>
<section aria-labelledby="o-attention"><h2 id="o-attention">Needs attention</h2>
<p>${
      attention
        ? html`<strong>${capped(figures.attention.flagged, figures.attention.cap)}</strong> flagged for a person or underpaid, <strong>${figures.attention.stuck}</strong> open past the reconciler's threshold. <a href="/console/attention">See them</a>.`
        : "Nothing needs a person: nothing is flagged, underpaid or stuck."
    }</p></section>
${figures.windows.map(windowSection)}
<section aria-labelledby="o-delivery"><h2 id="o-delivery">Delivery</h2>
<table aria-labelledby="o-delivery"><thead><tr><th scope="col">Sink</th><th scope="col" class="num">Payments lagging</th><th scope="col">Oldest lagging since</th><th scope="col" class="num">Failed deliveries</th></tr></thead><tbody>
${figures.sinks.map(
  (s) =>
    html`<tr><td>${s.sink}</td><td class="num">${capped(s.lagging, figures.deliveryCap)}</td><td>${s.oldestSince ? html`${formatAge(s.oldestSince, now)} (${time(s.oldestSince)})` : "none"}</td><td class="num">${capped(s.failed, figures.deliveryCap)}</td></tr>`,
)}
</tbody></table>
<p>${figures.sinks.every((s) => s.lagging === 0 && s.failed === 0) ? "Every sink is current." : html`Some payments are behind: <a href="/console/delivery">Delivery</a>.`}</p></section>
<section aria-labelledby="o-dlq"><h2 id="o-dlq">Order DLQ</h2>
<p>${figures.dlqDepth ? html`<strong>${figures.dlqDepth}</strong> message(s) in the order DLQ: <a href="/console/dlq">look and redrive</a>.` : "The order DLQ is empty."}</p></section>
<section aria-labelledby="o-recent"><h2 id="o-recent">${figures.recent.length === 1 ? "The most recent payment" : `The ${figures.recent.length || ""} most recent payments`.replace("  ", " ")}</h2>
${
  figures.recent.length
    ? html`<table aria-labelledby="o-recent"><thead><tr><th scope="col">Payment</th><th scope="col">Order</th><th scope="col">Status</th><th scope="col" class="num">Amount</th><th scope="col">Provider</th><th scope="col">Created</th></tr></thead><tbody>
${figures.recent.map(
  (v) =>
    html`<tr><td><a href="/console/payments/${v.paymentId}"><code>${v.paymentId}</code></a></td><td><code>${v.orderId}</code></td><td>${statusBadge(v)}</td><td class="num">${formatMoney(v.amount, v.currency)}</td><td>${v.provider}</td><td>${formatAge(v.createdAt, now)}</td></tr>`,
)}
</tbody></table>`
    : html`<p>No payment has been made today or yesterday.</p>`
}</section>
`,
  });
}
