import { isDeepStrictEqual } from "node:util";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import {
  byHour,
  declineRecords,
  type MetricsInterval,
  type ReadModelStore,
  type Resolution,
} from "@payments/adapters/dynamodb";
import {
  addFigure,
  addFigures,
  EMPTY_TALLY,
  type EventStore,
  evolvePaymentView,
  type Figures,
  figureChanges,
  figuresOf,
  foldPaymentTally,
  foldPaymentView,
  type PaymentView,
  pendingRefundsOf,
} from "@payments/core";
import { electro, metricsRetentionDays } from "@payments/topology";

type Projection = NonNullable<Awaited<ReturnType<ReadModelStore["getProjection"]>>>;

export type ReadModelName = "payment-view" | "transaction-log" | "declines" | "metrics";
export const READ_MODELS: readonly ReadModelName[] = [
  "payment-view",
  "transaction-log",
  "declines",
  "metrics",
];

/** A figure of the metrics read model that is not the sum of the payments' folded tallies. */
export interface DifferingFigure {
  /** The interval, `YYYY-MM-DDTHH:MM` (a minute) or `YYYY-MM-DDTHH` (an hour). */
  readonly at: string;
  readonly figure: string;
  readonly stored: number;
  readonly expected: number;
}

export interface ReplayOptions {
  readonly paymentId?: string;
  /** Only payments with an event at or after this instant (ISO 8601). */
  readonly since?: string;
  readonly only?: ReadModelName;
  readonly dryRun?: boolean;
  readonly verify?: boolean;
  /** Parallel scan segments when reading every stream. */
  readonly segments?: number;
  /** Payments rebuilt at once. */
  readonly concurrency?: number;
  /** How long a differing view is given to catch up before it counts as drift. */
  readonly settleMs?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ReplayResult {
  readonly payments: number;
  readonly events: number;
  readonly seconds: number;
  readonly written: number;
  /** Streams whose events could not be read: reported, and the rest of the rebuild went on. */
  readonly corrupt: ReadonlyArray<{ paymentId: string; reason: string }>;
  /** With --verify: views (or tallies) that still differ from a fresh fold of their stream after the settle. */
  readonly differing: ReadonlyArray<{ paymentId: string; stored?: PaymentView; folded?: PaymentView }>;
  /**
   * With --verify of the metrics over every stream: the figures that still differ from the sum of the
   * folded tallies after the settle; undefined when they were not compared.
   */
  readonly figures?: readonly DifferingFigure[];
  /** Without --verify: the figures a rebuild of the metrics found apart from the tallies' sum and corrected. */
  readonly figuresCorrected?: number;
}

/**
 * The payment ids of every stream (or of those with events since `since`), read with parallel scan
 * segments and every page of each.
 */
export async function listPaymentIds(
  client: DynamoDBClient,
  eventsTable: string,
  { since, segments = 4 }: { since?: string; segments?: number } = {},
): Promise<string[]> {
  const doc = DynamoDBDocumentClient.from(client);
  const ids = new Set<string>();
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const pages = paginateScan(
        { client: doc, pageSize: 1000 },
        {
          TableName: eventsTable,
          Segment: segment,
          TotalSegments: segments,
          ProjectionExpression: "paymentId",
          FilterExpression: since ? "#e = :event AND #at >= :since" : "#e = :event",
          ExpressionAttributeNames: {
            "#e": electro.entityAttribute,
            ...(since ? { "#at": "occurredAt" } : {}),
          },
          ExpressionAttributeValues: {
            ":event": electro.entities.event,
            ...(since ? { ":since": since } : {}),
          },
        },
      );
      for await (const page of pages) for (const item of page.Items ?? []) ids.add(item.paymentId as string);
    }),
  );
  return [...ids].sort();
}

/**
 * Rebuilds the read models from the event streams (SPEC §6): each stream folded with the same
 * `evolvePaymentView` and `evolvePaymentTally` as the projector and the API, and written only where
 * the stored projection differs, only over the item as it was read, so a replay while traffic flows
 * never overwrites a newer state, and a view or tally damaged at its own version is repaired. The
 * metrics' figures change by exactly what each repaired tally changes. Running it again changes
 * nothing more. With `verify`, it only compares: views and tallies with their folds, and, over every
 * stream, each figure with the sum of the folded tallies.
 */
export async function replayProjections(
  deps: { client: DynamoDBClient; eventsTable: string; store: EventStore; readModels: ReadModelStore },
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const started = Date.now();
  const ids = options.paymentId
    ? [options.paymentId]
    : await listPaymentIds(deps.client, deps.eventsTable, {
        since: options.since,
        segments: options.segments,
      });
  const wants = (name: ReadModelName) => !options.only || options.only === name;
  const corrupt: Array<{ paymentId: string; reason: string }> = [];
  const differing: Array<{ paymentId: string; stored?: PaymentView; folded?: PaymentView }> = [];
  let events = 0;
  let written = 0;
  let done = 0;

  async function fold(paymentId: string) {
    const stream = await deps.store.load(paymentId);
    return {
      stream,
      view: foldPaymentView(stream),
      tally: foldPaymentTally(stream, evolvePaymentView),
      pendingRefunds: pendingRefundsOf(stream),
    };
  }
  type Folded = Awaited<ReturnType<typeof fold>>;
  /** The metrics' figures as the folded tallies sum them, for --verify. */
  const expected: Figures = {};

  /** Whether the stored projection differs from the fold, in what this replay covers. */
  function differs(stored: Projection | undefined, { view, tally }: Folded): boolean {
    if (wants("payment-view") && !isDeepStrictEqual(stored?.view, view)) return true;
    return wants("metrics") && !isDeepStrictEqual(stored?.tally, tally);
  }

  /**
   * Writes the folded projection where the stored one differs, only over the item as it was read,
   * with the tally's change added to the metrics in the same transaction. `--only metrics` replaces
   * the tally alone where the view is at the stream's version. A view the projector moved past the
   * load is left to it.
   */
  async function write(paymentId: string, folded: Folded): Promise<boolean> {
    const { view, tally, pendingRefunds } = folded;
    if (!view) return false;
    const stored = await deps.readModels.getProjection(paymentId);
    if (stored && stored.view.version > view.version) return false;
    const changes = figureChanges(figuresOf(stored?.tally ?? EMPTY_TALLY), figuresOf(tally));
    const tallyHeld = stored?.tally !== undefined && isDeepStrictEqual(stored.tally, tally);
    if (options.only === "metrics" && stored?.view.version === view.version) {
      if (tallyHeld) return false;
      return deps.readModels.putTally({ paymentId, storedVersion: view.version, tally, changes });
    }
    const viewHeld =
      stored !== undefined &&
      isDeepStrictEqual(stored.view, view) &&
      isDeepStrictEqual(stored.pendingRefunds, pendingRefunds);
    if (viewHeld && tallyHeld) return false;
    return deps.readModels.putView(view, {
      storedVersion: stored?.view.version,
      pendingRefunds,
      tally,
      changes,
    });
  }

  async function one(paymentId: string) {
    let folded: Folded;
    try {
      folded = await fold(paymentId);
    } catch (error) {
      corrupt.push({ paymentId, reason: (error as Error).message.slice(0, 500) });
      return;
    }
    const { stream, view, tally } = folded;
    events += stream.length;
    if (!view) return;
    addFigures(expected, figuresOf(tally));
    if (options.verify) {
      const stored = await deps.readModels.getProjection(paymentId);
      if (differs(stored, folded)) differing.push({ paymentId, stored: stored?.view, folded: view });
      return;
    }
    if (options.dryRun) return;
    if ((wants("payment-view") || wants("metrics")) && (await write(paymentId, folded))) written += 1;
    if (wants("transaction-log") && (await deps.readModels.putTransactionLog(view, { repair: true })))
      written += 1;
    if (wants("declines")) {
      for (const decline of declineRecords(view, stream)) await deps.readModels.putDecline(decline);
    }
  }

  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const paymentId = ids[next++]!;
      await one(paymentId);
      done += 1;
      options.onProgress?.(done, ids.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));

  // Projector lag is not drift: a differing view gets a moment to catch up, then is compared again.
  let stillDiffering = differing;
  if (options.verify && differing.length > 0) {
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 2_000));
    stillDiffering = [];
    for (const { paymentId } of differing) {
      const folded = await fold(paymentId);
      const stored = await deps.readModels.getProjection(paymentId);
      if (differs(stored, folded))
        stillDiffering.push({ paymentId, stored: stored?.view, folded: folded.view });
    }
  }
  // The figures against the sum of every folded tally: only when every stream was read. What still
  // differs after the settle is compared once more from a fresh fold, and a rebuild corrects it.
  let figures: DifferingFigure[] | undefined;
  let figuresCorrected = 0;
  if (wants("metrics") && !options.paymentId && !options.since && !options.dryRun) {
    figures = await differingFigures(deps.readModels, expected);
    if (figures.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 2_000));
      // Listed again: a payment made during the pass is in the figures already.
      const again: Figures = {};
      for (const paymentId of await listPaymentIds(deps.client, deps.eventsTable, {
        segments: options.segments,
      })) {
        try {
          addFigures(again, figuresOf((await fold(paymentId)).tally));
        } catch {
          // A stream that cannot be read is reported as corrupt above.
        }
      }
      figures = await differingFigures(deps.readModels, again);
    }
    if (!options.verify && figures.length > 0) {
      const corrections: Record<Resolution, Figures> = { minute: {}, hour: {} };
      for (const f of figures)
        addFigure(corrections[f.at.length === 16 ? "minute" : "hour"], f.at, f.figure, f.expected - f.stored);
      await deps.readModels.adjustFigures("minute", corrections.minute);
      await deps.readModels.adjustFigures("hour", corrections.hour);
      figuresCorrected = figures.length;
      figures = undefined;
    }
  }
  return {
    payments: ids.length,
    events,
    seconds: (Date.now() - started) / 1000,
    written,
    corrupt,
    differing: stillDiffering,
    ...(figures && options.verify ? { figures } : {}),
    figuresCorrected,
  };
}

/**
 * The figures of the metrics read model, minute and hour, that differ from `expected` (the sum of
 * the folded tallies), over the intervals it keeps (the last {@link metricsRetentionDays} days).
 */
export async function differingFigures(
  readModels: ReadModelStore,
  expected: Figures,
  now = new Date(),
): Promise<DifferingFigure[]> {
  // A day past now too: an event's clock may run ahead of this one.
  const until = new Date(now.getTime() + 86_400_000);
  const from = new Date(now.getTime() - metricsRetentionDays * 86_400_000 + 3_600_000);
  const kept = (at: string) =>
    at >= from.toISOString().slice(0, at.length) && at < until.toISOString().slice(0, at.length);
  const compare = (want: Figures, stored: MetricsInterval[]) => {
    const found: DifferingFigure[] = [];
    const have = new Map(stored.map((i) => [i.at, i.figures]));
    for (const at of new Set([...Object.keys(want).filter(kept), ...have.keys()])) {
      const w = want[at] ?? {};
      const h = have.get(at) ?? {};
      for (const figure of new Set([...Object.keys(w), ...Object.keys(h)])) {
        if ((w[figure] ?? 0) !== (h[figure] ?? 0))
          found.push({ at, figure, stored: h[figure] ?? 0, expected: w[figure] ?? 0 });
      }
    }
    return found;
  };
  const [minutes, hours] = await Promise.all(
    (["minute", "hour"] as const).map((resolution) => readModels.metrics({ from, until, resolution, now })),
  );
  return [...compare(expected, minutes!), ...compare(byHour(expected), hours!)].sort((a, b) =>
    a.at < b.at ? -1 : a.at > b.at ? 1 : 0,
  );
}
