import type { RecordedEvent } from "./event-envelope";
import type { PaymentStatus } from "./payment-state";
import type { PaymentView } from "./payment-view";

/** What a payment came to, for the console's overview: each payment is counted under one, or none yet. */
export const OUTCOMES = ["captured", "authorized", "failed", "rejected", "canceled", "underpaid"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The outcome a status counts under: a refund does not change it (the money was captured); `initiated` has none. */
export function outcomeOf(status: PaymentStatus): Outcome | undefined {
  switch (status) {
    case "initiated":
      return undefined;
    case "partially_refunded":
    case "refunded":
      return "captured";
    default:
      return status;
  }
}

/** The UTC minute of an instant, `YYYY-MM-DDTHH:MM`: the metrics' finest interval. */
export const minuteOf = (instant: string): string => new Date(instant).toISOString().slice(0, 16);

/**
 * Figures by minute: `minute → figure → count`. A figure is named `outcome.<outcome>`,
 * `captured.<currency>` and `refunded.<currency>` (minor units), `notice.<provider>.applied|unapplied`
 * or `fraud.<decision>`.
 */
export type Figures = Record<string, Record<string, number>>;

/**
 * One payment's part of the metrics read model, kept with its view and evolved with it, so that the
 * figures it adds can be taken back when they change: a payment counts once under its current outcome,
 * in the minute of the event that gave it that outcome, however often or in whatever order its events
 * are seen.
 */
export interface PaymentTally {
  readonly outcome?: { readonly name: Outcome; readonly minute: string };
  /** Figures each event adds once: captured and refunded volume, and the fraud decision. */
  readonly sums: Figures;
  /**
   * The webhook notices recorded on this payment, by causation id (one notice's events share it): counted
   * once each, as unapplied when the notice recorded `ProviderNoticeUnapplied`.
   */
  readonly notices: Readonly<
    Record<string, { readonly provider: string; readonly minute: string; readonly unapplied: boolean }>
  >;
}

export const EMPTY_TALLY: PaymentTally = { sums: {}, notices: {} };

/**
 * Applies one event, given the view it produced, to a payment's tally. Pure. The caller applies each
 * version once, in order (the projector and replay fold streams, and skip what a view already holds).
 *
 * @example evolvePaymentTally(EMPTY_TALLY, captured, viewAfter) // { outcome: { name: "captured", minute: "2026-12-06T04:12" }, sums: { "2026-12-06T04:12": { "captured.usd": 2599 } }, notices: {} }
 */
export function evolvePaymentTally(
  tally: PaymentTally,
  event: RecordedEvent,
  view: PaymentView,
): PaymentTally {
  const minute = minuteOf(event.occurredAt);
  const outcomeNow = outcomeOf(view.status);
  const outcome =
    outcomeNow === tally.outcome?.name
      ? tally.outcome
      : outcomeNow === undefined
        ? undefined
        : { name: outcomeNow, minute };
  let sums = tally.sums;
  const add = (figure: string, n: number) => {
    const inMinute = sums[minute] ?? {};
    sums = { ...sums, [minute]: { ...inMinute, [figure]: (inMinute[figure] ?? 0) + n } };
  };
  if (event.type === "PaymentCaptured") add(`captured.${view.currency}`, event.data.amount);
  if (event.type === "PaymentRefunded") add(`refunded.${view.currency}`, event.data.amount);
  if (event.type === "PaymentScreened") add(`fraud.${event.data.decision}`, 1);
  let notices = tally.notices;
  const { source, causationId } = event.metadata;
  if (source.startsWith("webhook:")) {
    const seen = notices[causationId];
    const unapplied = event.type === "ProviderNoticeUnapplied";
    if (!seen || (unapplied && !seen.unapplied))
      notices = {
        ...notices,
        [causationId]: {
          provider: source.slice("webhook:".length),
          minute: seen?.minute ?? minute,
          unapplied: unapplied || (seen?.unapplied ?? false),
        },
      };
  }
  return { ...(outcome ? { outcome } : {}), sums, notices };
}

/**
 * The tally of a whole stream, with the view it folds alongside (the tally's outcome reads it).
 * @example foldPaymentTally(await store.load(paymentId), evolvePaymentView)
 */
export function foldPaymentTally(
  events: readonly RecordedEvent[],
  evolveView: (view: PaymentView | undefined, event: RecordedEvent) => PaymentView | undefined,
): PaymentTally {
  let view: PaymentView | undefined;
  let tally = EMPTY_TALLY;
  for (const event of events) {
    const next = evolveView(view, event);
    if (next && next !== view && next.version === event.version)
      tally = evolvePaymentTally(tally, event, next);
    view = next;
  }
  return tally;
}

/** Adds `n` to one figure of one interval, in place. */
export function addFigure(figures: Figures, at: string, figure: string, n: number): void {
  const inInterval = figures[at] ?? {};
  inInterval[figure] = (inInterval[figure] ?? 0) + n;
  figures[at] = inInterval;
}

/** The figures a tally adds to the metrics read model. */
export function figuresOf(tally: PaymentTally): Figures {
  const figures: Figures = {};
  const add = (minute: string, figure: string, n: number) => addFigure(figures, minute, figure, n);
  if (tally.outcome) add(tally.outcome.minute, `outcome.${tally.outcome.name}`, 1);
  for (const [minute, sums] of Object.entries(tally.sums))
    for (const [figure, n] of Object.entries(sums)) add(minute, figure, n);
  for (const notice of Object.values(tally.notices))
    add(notice.minute, `notice.${notice.provider}.${notice.unapplied ? "unapplied" : "applied"}`, 1);
  return figures;
}

/** What moving from `before` to `after` adds to each minute's figures: only the ones that change. */
export function figureChanges(before: Figures, after: Figures): Figures {
  const changes: Figures = {};
  for (const minute of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = before[minute] ?? {};
    const now = after[minute] ?? {};
    for (const figure of new Set([...Object.keys(was), ...Object.keys(now)])) {
      const delta = (now[figure] ?? 0) - (was[figure] ?? 0);
      if (delta !== 0) addFigure(changes, minute, figure, delta);
    }
  }
  return changes;
}

/** Adds `more` into `into` (in place), minute by minute: the read model's figures are such sums. */
export function addFigures(into: Figures, more: Figures): Figures {
  for (const [minute, figures] of Object.entries(more))
    for (const [figure, n] of Object.entries(figures)) addFigure(into, minute, figure, n);
  return into;
}
