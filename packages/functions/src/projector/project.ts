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
  /** Brings one payment's views up to at least the highest of `events`. Returns the view written, if any. */
  async function projectPayment(
    paymentId: string,
    events: readonly RecordedEvent[],
  ): Promise<PaymentView | undefined> {
    const highest = Math.max(...events.map((e) => e.version));
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
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
      const storedVersion = projection ? from : undefined;
      if (!(await deps.readModels.putView(view, { storedVersion, pendingRefunds, tally, changes }))) continue;
      await deps.readModels.putTransactionLog(view);
      for (const decline of declineRecords(view, toApply)) await deps.readModels.putDecline(decline);
      return view;
    }
    throw new Error(
      `payment ${paymentId}: the view kept changing under the projector (${MAX_ATTEMPTS} attempts)`,
    );
  }

  return { projectPayment };
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
    await Promise.all(
      [...byPayment.entries()].map(async ([paymentId, group]) => {
        try {
          await deps.projector.projectPayment(paymentId, group.events);
        } catch (error) {
          deps.logger.error("projection failed", {
            paymentId,
            reason: (error as Error).message.slice(0, 500),
          });
          for (const sequence of group.sequences) failures.add(sequence);
        }
      }),
    );
    return { batchItemFailures: batchItemFailures(event.Records, failures) };
  };
}
