import type { DeliveryCursor, DeliveryFailure, OutboxDeliveries } from "@payments/adapters/dynamodb";
import type { Publisher } from "@payments/adapters/outbox";
import type { EventStore, RecordedEvent } from "@payments/core";
import { type OutboxSink, outboxSinks, sinkCarries } from "@payments/topology";
import type { Relay, SweepReport } from "./relay";

/** What is pending or failed at each sink: the answer of `npm run outbox -- status` and of the console. */
export interface OutboxStatus {
  readonly sinks: Record<OutboxSink, { lagging: DeliveryCursor[]; failed: DeliveryCursor[] }>;
  readonly openFailures: DeliveryFailure[];
}

async function allInState(deliveries: OutboxDeliveries, state: "lagging" | "failed", sink: OutboxSink) {
  const items: DeliveryCursor[] = [];
  let page: Record<string, unknown> | undefined;
  do {
    const out = await deliveries.listByState(state, sink, { limit: 500, cursor: page });
    items.push(...out.items);
    page = out.next;
  } while (page);
  return items;
}

export async function outboxStatus(deliveries: OutboxDeliveries): Promise<OutboxStatus> {
  const entries = await Promise.all(
    outboxSinks.map(
      async (sink) =>
        [
          sink,
          {
            lagging: await allInState(deliveries, "lagging", sink),
            failed: await allInState(deliveries, "failed", sink),
          },
        ] as const,
    ),
  );
  return {
    sinks: Object.fromEntries(entries) as OutboxStatus["sinks"],
    openFailures: await deliveries.listFailures("open"),
  };
}

/**
 * Queues what is pending again, now: with `failed`, failed deliveries go back to lagging with their
 * sweep count reset; then one sweep runs. The same code path for the CLI and the console.
 */
export async function redrive(
  relay: Relay,
  options: { failed: boolean; batchSize: number },
): Promise<{ requeued: number; sweep: SweepReport }> {
  const requeued = options.failed ? await relay.requeueFailed() : 0;
  const sweep = await relay.sweep({ batchSize: options.batchSize });
  return { requeued, sweep };
}

/**
 * Re-publishes events to every sink with `metadata.replay: true` (SPEC §6), for downstream
 * services to rebuild theirs: the public events to EventBridge, every event to Kafka. Cursors are
 * left alone: a bus replay is extra, not delivery. One payment's events go out in version order,
 * in sends of up to `batchSize` events. `sent` counts what each sink was given, `delivered` what
 * it acknowledged.
 */
export async function replayToBus(deps: {
  store: EventStore;
  publishers: readonly Publisher[];
  paymentIds: readonly string[];
  since?: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<{
  payments: number;
  events: number;
  sent: Record<string, number>;
  delivered: Record<string, number>;
  errors: string[];
}> {
  await Promise.all(deps.publishers.map((p) => p.ready()));
  const delivered: Record<string, number> = Object.fromEntries(deps.publishers.map((p) => [p.sink, 0]));
  const sent: Record<string, number> = Object.fromEntries(deps.publishers.map((p) => [p.sink, 0]));
  const errors = new Set<string>();
  let events = 0;
  let pending: RecordedEvent[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    await Promise.all(
      deps.publishers.map(async (p) => {
        const carried = batch.filter((e) => sinkCarries(p.sink, e.type));
        if (carried.length === 0) return;
        sent[p.sink]! += carried.length;
        const result = await p.publish(carried);
        delivered[p.sink]! += result.delivered.size;
        if (result.error) errors.add(`${p.sink}: ${result.error}`);
      }),
    );
  };
  let done = 0;
  for (const paymentId of deps.paymentIds) {
    const stream = (await deps.store.load(paymentId)).filter(
      (e) => !deps.since || e.occurredAt >= deps.since,
    );
    for (const event of stream) pending.push({ ...event, metadata: { ...event.metadata, replay: true } });
    events += stream.length;
    if (pending.length >= (deps.batchSize ?? 100)) await flush();
    deps.onProgress?.(++done, deps.paymentIds.length);
  }
  await flush();
  return { payments: deps.paymentIds.length, events, sent, delivered, errors: [...errors] };
}
