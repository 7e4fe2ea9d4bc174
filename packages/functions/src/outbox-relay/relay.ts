import {
  type DeliveryCursor,
  type DeliveryFailure,
  deliveryKey,
  type OutboxDeliveries,
} from "@payments/adapters/dynamodb";
import type { Publisher } from "@payments/adapters/outbox";
import type { EventStore, RecordedEvent } from "@payments/core";
import { type OutboxSink, sinkCarries } from "@payments/topology";

/** What a delivery attempt did for one payment at one sink. */
export interface DeliveryOutcome {
  readonly paymentId: string;
  readonly sink: OutboxSink;
  /** The highest version up to which every version is now delivered. */
  readonly delivered: number;
  /** The highest version known. */
  readonly latest: number;
  readonly error?: string;
  /** A sweep made this attempt: it counts toward OUTBOX_MAX_RETRIES. */
  readonly swept: boolean;
  readonly at: string;
}

/**
 * The next cursor after an attempt (pure): delivered and latest only move forward; a payment behind
 * is `lagging` until a sweep count of `maxRetries`, then `failed` (a failure record is opened); one
 * that catches up is `current` again (a failure record it had is resolved).
 */
export function nextCursor(
  previous: DeliveryCursor | undefined,
  outcome: DeliveryOutcome,
  maxRetries: number,
): { cursor: DeliveryCursor; openFailure?: DeliveryFailure; resolveFailure?: { key: string; at: string } } {
  const delivered = Math.max(previous?.delivered ?? 0, outcome.delivered);
  const latest = Math.max(previous?.latest ?? 0, outcome.latest, delivered);
  const base = {
    paymentId: outcome.paymentId,
    sink: outcome.sink,
    delivered,
    latest,
    updatedAt: outcome.at,
    revision: (previous?.revision ?? 0) + 1,
  };
  if (delivered >= latest) {
    const cursor: DeliveryCursor = { ...base, state: "current", sweeps: 0 };
    return previous?.failureKey
      ? { cursor, resolveFailure: { key: previous.failureKey, at: outcome.at } }
      : { cursor };
  }
  const wasBehind = previous !== undefined && previous.state !== "current";
  const sweeps = (wasBehind ? previous.sweeps : 0) + (outcome.swept ? 1 : 0);
  const since = (wasBehind ? previous.since : undefined) ?? outcome.at;
  const lastError = outcome.error ?? previous?.lastError;
  if (previous?.state === "failed") {
    return { cursor: { ...previous, ...base, sweeps, lastError } };
  }
  if (sweeps >= maxRetries) {
    // A redriven delivery that fails again keeps its one open failure record.
    if (previous?.failureKey) {
      return {
        cursor: { ...base, state: "failed", sweeps, since, lastError, failureKey: previous.failureKey },
      };
    }
    const failureKey = `failure#${outcome.sink}#${outcome.at}`;
    return {
      cursor: { ...base, state: "failed", sweeps, since, lastError, failureKey },
      openFailure: {
        paymentId: outcome.paymentId,
        sink: outcome.sink,
        key: failureKey,
        failedAt: outcome.at,
        delivered,
        latest,
        error: lastError,
      },
    };
  }
  return {
    cursor: { ...base, state: "lagging", sweeps, since, lastError, failureKey: previous?.failureKey },
  };
}

/** Per sink: envelopes sent, delivered, and requests made. */
export interface RelayReport {
  readonly published: Record<OutboxSink, number>;
  readonly delivered: Record<OutboxSink, number>;
  readonly calls: Record<OutboxSink, number>;
  /** Payments left behind at some sink by this attempt. */
  readonly behind: Array<{ paymentId: string; sink: OutboxSink; error?: string }>;
  /** Payments whose delivery was marked failed by this attempt. */
  readonly failed: Array<{ paymentId: string; sink: OutboxSink }>;
}

export interface RelayDeps {
  readonly store: EventStore;
  readonly deliveries: OutboxDeliveries;
  readonly publishers: readonly Publisher[];
  readonly maxRetries: number;
  readonly now?: () => Date;
}

const SAVE_ATTEMPTS = 5;

/**
 * The outbox relay (SPEC §5). `deliver` takes events in any order (a stream batch, a sweep's
 * reads) and, per payment and sink, publishes every version after the delivery cursor in version
 * order (the bus only the public events, SPEC §5; the versions it does not carry count as delivered
 * there): a gap (a version the batch lacks, or one a failed attempt left behind) is read from the
 * event store instead of waited for. So a publisher of version n+1 has published n in the same
 * ordered send, or n was acknowledged before: first arrivals on Kafka follow version order, even
 * when the stream path, the sweeper and a redrive race on a payment. The cursor moves only after
 * the sink acknowledged, with a write conditional on the revision read, so a crash between the two
 * sends again (at least once) and never skips.
 */
export function createRelay(deps: RelayDeps) {
  const now = deps.now ?? (() => new Date());

  /** Publishes what each payment has after its cursor, and records the outcome. */
  async function deliver(
    events: readonly RecordedEvent[],
    options: { swept?: boolean; sinks?: readonly OutboxSink[] } = {},
  ): Promise<RelayReport> {
    const publishers = deps.publishers.filter((p) => !options.sinks || options.sinks.includes(p.sink));
    await Promise.all(publishers.map((p) => p.ready()));
    const byPayment = new Map<string, Map<number, RecordedEvent>>();
    for (const event of events) {
      const versions = byPayment.get(event.paymentId) ?? new Map<number, RecordedEvent>();
      versions.set(event.version, event);
      byPayment.set(event.paymentId, versions);
    }
    const keys = [...byPayment.keys()].flatMap((paymentId) =>
      publishers.map((p) => ({ paymentId, sink: p.sink })),
    );
    const cursors = await deps.deliveries.getCursors(keys);
    // One store read per payment at most, shared by the sinks.
    const loads = new Map<string, Promise<RecordedEvent[]>>();
    const history = (paymentId: string, after: number) => {
      const key = `${paymentId}@${after}`;
      if (!loads.has(key)) loads.set(key, deps.store.load(paymentId, { afterVersion: after }));
      return loads.get(key)!;
    };

    const report: RelayReport = {
      published: { eventbridge: 0, kafka: 0 },
      delivered: { eventbridge: 0, kafka: 0 },
      calls: { eventbridge: 0, kafka: 0 },
      behind: [],
      failed: [],
    };
    await Promise.all(
      publishers.map(async (publisher) => {
        const sink = publisher.sink;
        // Per payment, the versions after the cursor, contiguous and in order.
        const plans = await Promise.all(
          [...byPayment.entries()].map(async ([paymentId, versions]) => {
            const from = cursors.get(deliveryKey(paymentId, sink))?.delivered ?? 0;
            const fresh = [...versions.values()]
              .filter((e) => e.version > from)
              .sort((a, b) => a.version - b.version);
            if (fresh.length === 0) return { paymentId, from, events: [] as RecordedEvent[] };
            const contiguous = fresh.every((e, i) => e.version === from + i + 1);
            return { paymentId, from, events: contiguous ? fresh : await history(paymentId, from) };
          }),
        );
        // The bus carries the public events only; a version it does not carry counts as delivered there.
        const carried = (event: RecordedEvent) => sinkCarries(sink, event.type);
        const toSend = plans.flatMap((p) => p.events.filter(carried));
        const result =
          toSend.length > 0 ? await publisher.publish(toSend) : { delivered: new Set<string>(), calls: 0 };
        report.published[sink] += toSend.length;
        report.delivered[sink] += result.delivered.size;
        report.calls[sink] += result.calls;
        const at = now().toISOString();
        await Promise.all(
          plans
            .filter((plan) => plan.events.length > 0)
            .map(async (plan) => {
              let delivered = plan.from;
              for (const event of plan.events) {
                if (carried(event) && !result.delivered.has(event.id)) break;
                delivered = event.version;
              }
              const latest = plan.events.at(-1)!.version;
              const outcome: DeliveryOutcome = {
                paymentId: plan.paymentId,
                sink,
                delivered,
                latest,
                error: delivered < latest ? (result.error ?? "not acknowledged") : undefined,
                swept: options.swept ?? false,
                at,
              };
              const state = await record(outcome, cursors.get(deliveryKey(plan.paymentId, sink)));
              if (state.state !== "current")
                report.behind.push({ paymentId: plan.paymentId, sink, error: outcome.error });
              if (state.opened) report.failed.push({ paymentId: plan.paymentId, sink });
            }),
        );
      }),
    );
    return report;
  }

  /** Writes the next cursor, reading again and deciding again when another writer got there first. */
  async function record(
    outcome: DeliveryOutcome,
    read: DeliveryCursor | undefined,
  ): Promise<{ state: DeliveryCursor["state"]; opened: boolean }> {
    let previous = read;
    for (let attempt = 1; attempt <= SAVE_ATTEMPTS; attempt++) {
      const next = nextCursor(previous, outcome, deps.maxRetries);
      if (
        previous &&
        next.cursor.delivered === previous.delivered &&
        next.cursor.latest === previous.latest &&
        next.cursor.state === previous.state &&
        next.cursor.sweeps === previous.sweeps
      ) {
        return { state: previous.state, opened: false };
      }
      if (await deps.deliveries.saveCursor(next.cursor, previous, next)) {
        return { state: next.cursor.state, opened: next.openFailure !== undefined };
      }
      previous = (
        await deps.deliveries.getCursors([{ paymentId: outcome.paymentId, sink: outcome.sink }])
      ).get(deliveryKey(outcome.paymentId, outcome.sink));
    }
    throw new Error(
      `payment ${outcome.paymentId}: the ${outcome.sink} cursor kept changing under the relay (${SAVE_ATTEMPTS} attempts)`,
    );
  }

  /**
   * Notes that a payment has versions up to `latest` that a sink may not have: its cursor becomes
   * lagging unless it is already past them. Used for stream records the subscription gave up on.
   */
  async function noteBehind(paymentId: string, latest: number, error: string): Promise<void> {
    const sinks = deps.publishers.map((p) => p.sink);
    const cursors = await deps.deliveries.getCursors(sinks.map((sink) => ({ paymentId, sink })));
    const at = now().toISOString();
    for (const sink of sinks) {
      const previous = cursors.get(deliveryKey(paymentId, sink));
      if ((previous?.delivered ?? 0) >= latest) continue;
      await record(
        { paymentId, sink, delivered: previous?.delivered ?? 0, latest, error, swept: false, at },
        previous,
      );
    }
  }

  /**
   * One sweep (SPEC §5): lagging payments, `batchSize` at a time, one batch after another
   * (concurrency 1). A batch's payments are re-read from the event store after their cursors and
   * published in one ordered send per sink. Goes on until none is left that this sweep has not
   * tried, or the time budget is spent.
   */
  async function sweep(options: { batchSize: number; deadline?: number }): Promise<SweepReport> {
    const totals: SweepReport = { swept: 0, caughtUp: 0, stillBehind: 0, failed: 0, published: 0 };
    for (const publisher of deps.publishers) {
      const sink = publisher.sink;
      const tried = new Set<string>();
      let page: Record<string, unknown> | undefined;
      do {
        if (options.deadline && Date.now() > options.deadline) return totals;
        const { items, next } = await deps.deliveries.listByState("lagging", sink, {
          limit: options.batchSize,
          cursor: page,
        });
        page = next;
        const batch = items.filter((c) => !tried.has(c.paymentId));
        for (const cursor of batch) tried.add(cursor.paymentId);
        const histories = await Promise.all(
          batch.map(async (cursor) => ({
            cursor,
            events: await deps.store.load(cursor.paymentId, { afterVersion: cursor.delivered }),
          })),
        );
        totals.swept += batch.length;
        for (const { cursor } of histories.filter((h) => h.events.length === 0)) {
          // Nothing after the cursor in the store: the sweep counts, so a cursor told of versions that
          // do not exist ends failed after the sweeps, visible in `npm run outbox -- status`.
          await record(
            { ...cursor, latest: cursor.delivered, swept: true, at: now().toISOString(), error: undefined },
            cursor,
          );
          totals.caughtUp++;
        }
        const withEvents = histories.filter((h) => h.events.length > 0);
        if (withEvents.length === 0) continue;
        const report = await deliver(
          withEvents.flatMap((h) => h.events),
          { swept: true, sinks: [sink] },
        );
        totals.published += report.published[sink];
        totals.failed += report.failed.length;
        totals.stillBehind += report.behind.length;
        totals.caughtUp += withEvents.length - report.behind.length;
      } while (page);
    }
    return totals;
  }

  /** Moves failed deliveries back to lagging with their sweep count reset, for the next sweep. */
  async function requeueFailed(): Promise<number> {
    let requeued = 0;
    for (const publisher of deps.publishers) {
      let page: Record<string, unknown> | undefined;
      do {
        const { items, next } = await deps.deliveries.listByState("failed", publisher.sink, { cursor: page });
        page = next;
        for (const cursor of items) {
          const requeue: DeliveryCursor = {
            ...cursor,
            state: "lagging",
            sweeps: 0,
            updatedAt: now().toISOString(),
            revision: cursor.revision + 1,
          };
          if (await deps.deliveries.saveCursor(requeue, cursor)) requeued++;
        }
      } while (page);
    }
    return requeued;
  }

  return { deliver, noteBehind, sweep, requeueFailed };
}

export interface SweepReport {
  /** Lagging (payment, sink) pairs taken. */
  swept: number;
  caughtUp: number;
  stillBehind: number;
  /** Marked failed by this sweep (after OUTBOX_MAX_RETRIES sweeps). */
  failed: number;
  published: number;
}

export type Relay = ReturnType<typeof createRelay>;
