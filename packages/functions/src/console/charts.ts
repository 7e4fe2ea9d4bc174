import type { MetricsInterval } from "@payments/adapters/dynamodb";
import { OUTCOMES, type Outcome } from "@payments/core";
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { formatMoney } from "./format";

/**
 * The overview's charts: SVG drawn here, on the server, from the metrics read model, with no library
 * and no script. Each has a title, axis labels with units, a description that says its figures in
 * words, and its figures as a table for a screen reader or a copy. Bars carry `data-outcome` and
 * `data-count`, so a test reads what the page drew.
 */

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Text put into the SVG strings, escaped (a currency or provider name is data). */
const esc = (text: string | number) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One bar: an interval's figures (outcomes, volume, notices), summed from the read model's minutes or hours. */
export interface Bar {
  /** The interval's start, ISO 8601. */
  readonly at: string;
  /** Its axis label, e.g. `14:05`. */
  readonly label: string;
  readonly figures: Readonly<Record<string, number>>;
}

/** A window of the overview: its bars and what they span. */
export interface ChartWindow {
  readonly id: string;
  readonly title: string;
  /** The bars' width in words: `5-minute`, `1-hour`. */
  readonly interval: string;
  readonly bars: readonly Bar[];
}

/** Where a bar starts: every `step` ms from `from`, `count` of them. */
export function windowBars(
  intervals: readonly MetricsInterval[],
  { from, step, count, label }: { from: Date; step: number; count: number; label: (start: Date) => string },
): Bar[] {
  const bars = Array.from({ length: count }, (_, i) => ({
    at: new Date(from.getTime() + i * step).toISOString(),
    label: label(new Date(from.getTime() + i * step)),
    figures: {} as Record<string, number>,
  }));
  for (const { at, figures } of intervals) {
    const start = Date.parse(at.length === 16 ? `${at}:00Z` : `${at}:00:00Z`);
    const i = Math.floor((start - from.getTime()) / step);
    const bar = bars[i];
    if (!bar) continue;
    for (const [figure, n] of Object.entries(figures)) bar.figures[figure] = (bar.figures[figure] ?? 0) + n;
  }
  return bars;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const clock = (start: Date) => start.toISOString().slice(11, 16);

/**
 * Where the overview's windows start, at `now`: the last hour in 5-minute bars (the current one
 * partly gone), and the last 24 hours in hourly bars.
 */
export function windowStarts(now: Date): { hour: Date; day: Date } {
  return {
    hour: new Date(Math.floor(now.getTime() / (5 * MINUTE)) * 5 * MINUTE - 55 * MINUTE),
    day: new Date(Math.floor(now.getTime() / HOUR) * HOUR - 23 * HOUR),
  };
}

/** The overview's two windows from the read model's minutes (of the last hour) and hours (of the last day). */
export function chartWindows(
  now: Date,
  minutes: readonly MetricsInterval[],
  hours: readonly MetricsInterval[],
): ChartWindow[] {
  const starts = windowStarts(now);
  return [
    {
      id: "hour",
      title: "The last hour",
      interval: "5-minute",
      bars: windowBars(minutes, { from: starts.hour, step: 5 * MINUTE, count: 12, label: clock }),
    },
    {
      id: "day",
      title: "The last 24 hours",
      interval: "1-hour",
      bars: windowBars(hours, { from: starts.day, step: HOUR, count: 24, label: clock }),
    },
  ];
}

/** The sum of every bar's figures. */
export function totalsOf(bars: readonly Bar[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const bar of bars)
    for (const [figure, n] of Object.entries(bar.figures)) totals[figure] = (totals[figure] ?? 0) + n;
  return totals;
}

/** Outcomes, with their colours (distinct in hue and lightness) and their words. */
const OUTCOME_STYLE: Record<Outcome, { color: string; words: string }> = {
  captured: { color: "#1a7f37", words: "captured" },
  authorized: { color: "#0b57d0", words: "authorized" },
  underpaid: { color: "#b35900", words: "underpaid" },
  canceled: { color: "#6b7280", words: "canceled" },
  failed: { color: "#a50e0e", words: "failed" },
  rejected: { color: "#6f42c1", words: "rejected" },
};

/** Approved payments over decided ones: captured, authorized and underpaid, over those and failed and rejected. */
export function approvalRate(totals: Readonly<Record<string, number>>): { rate?: number; decided: number } {
  const n = (o: Outcome) => totals[`outcome.${o}`] ?? 0;
  const approved = n("captured") + n("authorized") + n("underpaid");
  const decided = approved + n("failed") + n("rejected");
  return decided ? { rate: approved / decided, decided } : { decided };
}

/** The smallest 1, 2 or 5 × 10ⁿ at or above `x` (at least 1): a tick step people read. */
function niceStep(x: number): number {
  if (x <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * power >= x) return m * power;
  return 10 * power;
}

const outcomeWords = (counts: Readonly<Record<string, number>>) =>
  OUTCOMES.filter((o) => counts[`outcome.${o}`])
    .map((o) => `${counts[`outcome.${o}`]} ${OUTCOME_STYLE[o].words}`)
    .join(", ");

/** Payments per interval by outcome, as stacked bars, with its figures as a table. */
export function outcomeChart(window: ChartWindow): Html {
  const totals = totalsOf(window.bars);
  const all = OUTCOMES.reduce((n, o) => n + (totals[`outcome.${o}`] ?? 0), 0);
  if (all === 0) return html`<p>No payment reached an outcome in ${window.title.toLowerCase()}.</p>`;
  const [width, height, left, right, top, bottom] = [720, 230, 56, 12, 12, 48];
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const stackOf = (bar: Bar) => OUTCOMES.reduce((n, o) => n + (bar.figures[`outcome.${o}`] ?? 0), 0);
  const step = niceStep(Math.max(...window.bars.map(stackOf)) / 4);
  const yMax = step * 4;
  const y = (n: number) => top + plotH - (n / yMax) * plotH;
  const slot = plotW / window.bars.length;
  const labelEvery = Math.ceil(window.bars.length / 8);
  const id = `chart-${window.id}`;
  const bars = window.bars.map((bar, i) => {
    let base = 0;
    const x = left + i * slot + slot * 0.125;
    const segments = OUTCOMES.filter((o) => bar.figures[`outcome.${o}`]).map((o) => {
      const count = bar.figures[`outcome.${o}`]!;
      const segment = `<rect data-outcome="${o}" data-count="${count}" data-at="${bar.at}" x="${x.toFixed(1)}" y="${y(base + count).toFixed(1)}" width="${(slot * 0.75).toFixed(1)}" height="${(y(base) - y(base + count)).toFixed(1)}" fill="${OUTCOME_STYLE[o].color}"><title>${count} ${OUTCOME_STYLE[o].words} from ${esc(bar.label)}</title></rect>`;
      base += count;
      return segment;
    });
    const tick =
      i % labelEvery === 0
        ? `<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${esc(bar.label)}</text>`
        : "";
    return segments.join("") + tick;
  });
  const gridlines = [0, 1, 2, 3, 4].map(
    (k) =>
      `<line x1="${left}" x2="${width - right}" y1="${y(k * step).toFixed(1)}" y2="${y(k * step).toFixed(1)}" stroke="#d0d5dd"/><text x="${left - 6}" y="${(y(k * step) + 4).toFixed(1)}" text-anchor="end">${k * step}</text>`,
  );
  const svg = `<svg role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${width} ${height}" class="chart" font-size="12" fill="#1b1f24">
<title id="${id}-title">Payments by outcome, ${esc(window.title.toLowerCase())}, per ${esc(window.interval)} interval</title>
<desc id="${id}-desc">${all} payment(s): ${esc(outcomeWords(totals))}.</desc>
${gridlines.join("")}
${bars.join("")}
<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">Time (UTC), ${esc(window.interval)} intervals</text>
<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">Payments</text>
</svg>`;
  return html`<figure class="chart">${raw(svg)}
<figcaption><ul class="legend">${OUTCOMES.map(
    (o) =>
      html`<li><span class="swatch" style="background:${OUTCOME_STYLE[o].color}"></span>${OUTCOME_STYLE[o].words} <strong>${totals[`outcome.${o}`] ?? 0}</strong></li>`,
  )}</ul>
<details><summary>The figures as a table</summary>
<table><caption>Payments by outcome per ${window.interval} interval, ${window.title.toLowerCase()}</caption>
<thead><tr><th scope="col">From (UTC)</th>${OUTCOMES.map((o) => html`<th scope="col" class="num">${OUTCOME_STYLE[o].words}</th>`)}</tr></thead>
<tbody>${window.bars
    .filter((bar) => stackOf(bar) > 0)
    .map(
      (bar) =>
        html`<tr><th scope="row">${bar.label}</th>${OUTCOMES.map((o) => html`<td class="num">${bar.figures[`outcome.${o}`] ?? 0}</td>`)}</tr>`,
    )}</tbody></table></details></figcaption></figure>`;
}

/** Horizontal bars, one row per label, each bar in parts; each row scaled to `scaleOf` its row. */
function rowsChart(options: {
  id: string;
  title: string;
  description: string;
  rows: ReadonlyArray<{
    label: string;
    parts: ReadonlyArray<{ key: string; value: number; color: string; text: string }>;
  }>;
  scale: (row: number) => number;
  axis: string;
}): string {
  const [width, rowH, left, right] = [720, 30, 96, 220];
  const height = options.rows.length * rowH + 28;
  const plotW = width - left - right;
  const rows = options.rows.map((row, r) => {
    let x = left;
    const yTop = 6 + r * rowH;
    const parts = row.parts.map((part) => {
      const w = options.scale(r) ? (part.value / options.scale(r)) * plotW : 0;
      const rect = `<rect data-series="${esc(part.key)}" data-value="${part.value}" x="${x.toFixed(1)}" y="${yTop}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${part.color}"><title>${esc(part.text)}</title></rect>`;
      x += w;
      return rect;
    });
    return `<text x="${left - 8}" y="${yTop + (rowH - 10) / 2 + 4}" text-anchor="end">${esc(row.label)}</text>${parts.join("")}<text x="${width - right + 8}" y="${yTop + (rowH - 10) / 2 + 4}">${esc(row.parts.map((p) => p.text).join(" · "))}</text>`;
  });
  return `<svg role="img" aria-labelledby="${options.id}-title ${options.id}-desc" viewBox="0 0 ${width} ${height}" class="chart" font-size="12" fill="#1b1f24">
<title id="${options.id}-title">${esc(options.title)}</title>
<desc id="${options.id}-desc">${esc(options.description)}</desc>
${rows.join("")}
<text x="${left + plotW / 2}" y="${height - 4}" text-anchor="middle">${esc(options.axis)}</text>
</svg>`;
}

/** Captured and refunded volume per currency (minor units, formatted), each currency on its own scale. */
export function volumeChart(window: ChartWindow): Html {
  const totals = totalsOf(window.bars);
  const currencies = [
    ...new Set(
      Object.keys(totals)
        .filter((f) => f.startsWith("captured.") || f.startsWith("refunded."))
        .map((f) => f.slice(f.indexOf(".") + 1)),
    ),
  ].sort();
  if (currencies.length === 0)
    return html`<p>No money was captured or refunded in ${window.title.toLowerCase()}.</p>`;
  const amount = (kind: string, currency: string) => totals[`${kind}.${currency}`] ?? 0;
  const words = currencies
    .map(
      (c) =>
        `${c.toUpperCase()}: ${formatMoney(amount("captured", c), c)} captured, ${formatMoney(amount("refunded", c), c)} refunded`,
    )
    .join("; ");
  const svg = rowsChart({
    id: `volume-${window.id}`,
    title: `Captured and refunded volume per currency, ${window.title.toLowerCase()}`,
    description: `${words}.`,
    rows: currencies.flatMap((c) =>
      (["captured", "refunded"] as const).map((kind) => ({
        label: `${c.toUpperCase()} ${kind}`,
        parts: [
          {
            key: `${kind}.${c}`,
            value: amount(kind, c),
            color: kind === "captured" ? "#1a7f37" : "#b35900",
            text: formatMoney(amount(kind, c), c),
          },
        ],
      })),
    ),
    scale: (r) => {
      const c = currencies[Math.floor(r / 2)]!;
      return Math.max(amount("captured", c), amount("refunded", c));
    },
    axis: "Amount, each currency on its own scale",
  });
  return html`<figure class="chart">${raw(svg)}<figcaption><details><summary>The figures as a table</summary>
<table><caption>Volume per currency, ${window.title.toLowerCase()}</caption><thead><tr><th scope="col">Currency</th><th scope="col" class="num">Captured</th><th scope="col" class="num">Refunded</th></tr></thead>
<tbody>${currencies.map((c) => html`<tr><th scope="row">${c.toUpperCase()}</th><td class="num">${formatMoney(amount("captured", c), c)}</td><td class="num">${formatMoney(amount("refunded", c), c)}</td></tr>`)}</tbody></table></details></figcaption></figure>`;
}

/** Webhook notices per provider, applied and unapplied, on one scale. */
export function noticesChart(window: ChartWindow): Html {
  const totals = totalsOf(window.bars);
  const providers = [
    ...new Set(
      Object.keys(totals)
        .filter((f) => f.startsWith("notice."))
        .map((f) => f.split(".")[1]!),
    ),
  ].sort();
  const count = (p: string, kind: "applied" | "unapplied") => totals[`notice.${p}.${kind}`] ?? 0;
  if (providers.every((p) => count(p, "applied") + count(p, "unapplied") === 0))
    return html`<p>No webhook notice was recorded in ${window.title.toLowerCase()}.</p>`;
  const most = Math.max(...providers.map((p) => count(p, "applied") + count(p, "unapplied")));
  const svg = rowsChart({
    id: `notices-${window.id}`,
    title: `Webhook notices per provider, ${window.title.toLowerCase()}`,
    description: `${providers.map((p) => `${p}: ${count(p, "applied")} applied, ${count(p, "unapplied")} unapplied`).join("; ")}.`,
    rows: providers.map((p) => ({
      label: p,
      parts: [
        {
          key: `notice.${p}.applied`,
          value: count(p, "applied"),
          color: "#0b57d0",
          text: `${count(p, "applied")} applied`,
        },
        {
          key: `notice.${p}.unapplied`,
          value: count(p, "unapplied"),
          color: "#a50e0e",
          text: `${count(p, "unapplied")} unapplied`,
        },
      ],
    })),
    scale: () => most,
    axis: "Notices",
  });
  return html`<figure class="chart">${raw(svg)}</figure>`;
}

/** One window of the overview: outcomes, approval rate, volume, notices, fraud decisions. */
export function windowSection(window: ChartWindow): Html {
  const totals = totalsOf(window.bars);
  const { rate, decided } = approvalRate(totals);
  const fraud = (["approve", "review", "reject"] as const).map((d) => `${totals[`fraud.${d}`] ?? 0} ${d}`);
  return html`<section aria-labelledby="o-${window.id}" class="window"><h2 id="o-${window.id}">${window.title}</h2>
${outcomeChart(window)}
<p>Approval rate: ${
    rate === undefined
      ? "none yet (no payment was approved or declined)"
      : html`<strong data-approval="${rate.toFixed(4)}">${(rate * 100).toFixed(1)} %</strong> of ${decided} decided (captured, authorized or underpaid, over those and failed or rejected; canceled ones left out)`
  }. Fraud screening: ${fraud.join(", ")}.</p>
<h3>Volume</h3>
${volumeChart(window)}
<h3>Webhook notices</h3>
${noticesChart(window)}
</section>`;
}
