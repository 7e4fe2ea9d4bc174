import { isDeepStrictEqual } from "node:util";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import { declineRecords, type ReadModelStore } from "@payments/adapters/dynamodb";
import { type EventStore, foldPaymentView, type PaymentView, pendingRefundsOf } from "@payments/core";
import { electro } from "@payments/topology";

export type ReadModelName = "payment-view" | "transaction-log" | "declines";
export const READ_MODELS: readonly ReadModelName[] = ["payment-view", "transaction-log", "declines"];

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
  /** With --verify: views that still differ from a fresh fold of their stream after the settle. */
  readonly differing: ReadonlyArray<{ paymentId: string; stored?: PaymentView; folded?: PaymentView }>;
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
 * `evolvePaymentView` as the projector and the API, and written only where the stored view is not
 * newer, so a replay while traffic flows never overwrites a newer state, and a view damaged at its own
 * version is repaired. Running it again changes nothing more. With `verify`, it only compares.
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
    return { stream, view: foldPaymentView(stream) };
  }

  async function one(paymentId: string) {
    let loaded: Awaited<ReturnType<typeof fold>>;
    try {
      loaded = await fold(paymentId);
    } catch (error) {
      corrupt.push({ paymentId, reason: (error as Error).message.slice(0, 500) });
      return;
    }
    const { stream, view } = loaded;
    events += stream.length;
    if (!view) return;
    if (options.verify) {
      const stored = await deps.readModels.getView(paymentId);
      if (!isDeepStrictEqual(stored, view)) differing.push({ paymentId, stored, folded: view });
      return;
    }
    if (options.dryRun) return;
    if (
      wants("payment-view") &&
      (await deps.readModels.putView(view, { repair: true, pendingRefunds: pendingRefundsOf(stream) }))
    )
      written += 1;
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
      const { view } = await fold(paymentId);
      const stored = await deps.readModels.getView(paymentId);
      if (!isDeepStrictEqual(stored, view)) stillDiffering.push({ paymentId, stored, folded: view });
    }
  }
  return {
    payments: ids.length,
    events,
    seconds: (Date.now() - started) / 1000,
    written,
    corrupt,
    differing: stillDiffering,
  };
}
