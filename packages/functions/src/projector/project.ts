import type { Logger } from "@aws-lambda-powertools/logger";
import { declineRecords, type ReadModelStore } from "@payments/adapters/dynamodb";
import {
  EMPTY_TALLY,
  type EventStore,
  evolvePaymentTally,
  evolvePaymentView,
  evolvePendingRefunds,
  figureChanges,
  figuresOf,
  type PaymentView,
  type RecordedEvent,
} from "@payments/core";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { batchItemFailures, readStreamBatch } from "../shared/stream-records";

const MAX_ATTEMPTS = 5;

/**
 * Projects events into the read models (SPEC §3): the payment view (in the open-payments index
 * while it may be stuck, SPEC §6.1), the metrics of the console's overview, the decline history and
 * the transaction log. The view is `evolvePaymentView` over the stream, the same fold the API and
 * replay use, and the payment's tally (its part of the metrics) is folded beside it. Records may
 * arrive twice, out of order, or replayed: a stored view at or past an event's version ignores it; a
 * gap is filled from the event store; the view, the tally and the tally's change to the metrics are
 * written in one transaction, only over the item as it was read, and a lost write is tried again
 * from a fresh read. So no record is counted twice.
 */
export function createProjector(deps: { store: EventStore; readModels: ReadModelStore }) {
  /** What one payment's projection would be written as, from the stored one and `events`; undefined if nothing is new. */
  async function prepare(paymentId: string, events: readonly RecordedEvent[]) {
    const highest = Math.max(...events.map((e) => e.version));
    const projection = await deps.readModels.getProjection(paymentId);
    const from = projection?.view.version ?? 0;
    if (from >= highest) return undefined;
    // A view written before the metrics read model has no tally: its stream is folded from the start.
    const base = projection?.tally ? projection : undefined;
    const baseVersion = base?.view.version ?? 0;
    const fresh = [
      ...new Map(events.filter((e) => e.version > baseVersion).map((e) => [e.version, e])).values(),
    ].sort((a, b) => a.version - b.version);
    const contiguous = fresh.every((e, i) => e.version === baseVersion + i + 1);
    const toApply = contiguous ? fresh : await deps.store.load(paymentId, { afterVersion: baseVersion });
    let view = base?.view;
    let pendingRefunds = base?.pendingRefunds ?? [];
    let tally = base?.tally ?? EMPTY_TALLY;
    for (const event of toApply) {
      const next = evolvePaymentView(view, event);
      if (next && next !== view) tally = evolvePaymentTally(tally, event, next);
      view = next;
      pendingRefunds = evolvePendingRefunds(pendingRefunds, event);
    }
    if (!view || view.version <= from) return undefined;
    const changes = figureChanges(figuresOf(projection?.tally ?? EMPTY_TALLY), figuresOf(tally));
    return {
      paymentId,
      view,
      toApply,
      write: { storedVersion: projection ? from : undefined, pendingRefunds, tally, changes },
    };
  }
  type Prepared = NonNullable<Awaited<ReturnType<typeof prepare>>>;

  /** The other read models, once the view is written: the transaction log and the declines. */
  async function finish({ view, toApply }: Prepared) {
    await deps.readModels.putTransactionLog(view);
    for (const decline of declineRecords(view, toApply)) await deps.readModels.putDecline(decline);
  }

  /** Brings one payment's views up to at least the highest of `events`. Returns the view written, if any. */
  async function projectPayment(
    paymentId: string,
    events: readonly RecordedEvent[],
  ): Promise<PaymentView | undefined> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const prepared = await prepare(paymentId, events);
      if (!prepared) return undefined;
      if (!(await deps.readModels.putView(prepared.view, prepared.write))) continue;
      await finish(prepared);
      return prepared.view;
    }
    throw new Error(
      `payment ${paymentId}: the view kept changing under the projector (${MAX_ATTEMPTS} attempts)`,
    );
  }

  /**
   * A batch's payments: those whose figures change are written together, a few dozen to a
   * transaction with their changes summed per interval, so the metrics' items are written once per
   * transaction rather than once per payment. A transaction that is refused (a view moved, or
   * another transaction met it) writes nothing, and its payments are projected one by one.
   * Returns each payment's error, if it failed.
   */
  async function projectPayments(
    groups: ReadonlyMap<string, readonly RecordedEvent[]>,
  ): Promise<Map<string, Error>> {
    const errors = new Map<string, Error>();
    const prepared = await Promise.all(
      [...groups.entries()].map(async ([paymentId, events]) => {
        try {
          return await prepare(paymentId, events);
        } catch (error) {
          errors.set(paymentId, error as Error);
          return undefined;
        }
      }),
    );
    const ready = prepared.filter((p): p is Prepared => p !== undefined);
    const together = ready.filter((p) => Object.keys(p.write.changes).length > 0);
    const alone = ready.filter((p) => Object.keys(p.write.changes).length === 0);
    /** Finishes what was written; what was not is projected again, alone, from a fresh read. */
    const settle = async (p: Prepared, written: boolean) => {
      try {
        if (written) await finish(p);
        else await projectPayment(p.paymentId, groups.get(p.paymentId)!);
      } catch (error) {
        errors.set(p.paymentId, error as Error);
      }
    };
    await Promise.all([
      ...alone.map(async (p) => settle(p, await deps.readModels.putView(p.view, p.write).catch(() => false))),
      ...chunks(together, PAYMENTS_PER_TRANSACTION).map(async (chunk) => {
        const written = await deps.readModels
          .putViews(chunk.map(({ view, write }) => ({ view, ...write })))
          .catch(() => false);
        await Promise.all(chunk.map((p) => settle(p, written)));
      }),
    ]);
    return errors;
  }

  return { projectPayment, projectPayments };
}

/**
 * How many payments share one transaction: each is an item, and the intervals their figures touch
 * add a minute's and an hour's item each; DynamoDB takes 100 items a transaction.
 */
const PAYMENTS_PER_TRANSACTION = 25;

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, (i + 1) * size),
  );
}

/**
 * The projector Lambda's batch: records grouped by payment and projected; a record that cannot be
 * read (a poison record) or a payment that cannot be projected is reported in batchItemFailures, so
 * the event source mapping retries from it, bisects, and after its retries sends it to the on-failure
 * destination: it is logged with its reason and never retried forever.
 */
export function createProjectorHandler(deps: {
  projector: ReturnType<typeof createProjector>;
  logger: Logger;
}) {
  return async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const failures = new Set<string>();
    const { events, poison } = readStreamBatch(event.Records);
    for (const { sequence, reason } of poison) {
      deps.logger.error("poison record: cannot be read as an event", { sequence, reason });
      failures.add(sequence);
    }
    const byPayment = new Map<string, { events: RecordedEvent[]; sequences: string[] }>();
    for (const { event: recorded, sequence } of events) {
      const group = byPayment.get(recorded.paymentId) ?? { events: [], sequences: [] };
      group.events.push(recorded);
      group.sequences.push(sequence);
      byPayment.set(recorded.paymentId, group);
    }
    const errors = await deps.projector.projectPayments(
      new Map([...byPayment.entries()].map(([paymentId, group]) => [paymentId, group.events])),
    );
    for (const [paymentId, error] of errors) {
      deps.logger.error("projection failed", { paymentId, reason: error.message.slice(0, 500) });
      for (const sequence of byPayment.get(paymentId)!.sequences) failures.add(sequence);
    }
    return { batchItemFailures: batchItemFailures(event.Records, failures) };
  };
}
