import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import type { OutboxSink } from "@payments/topology";
import { pageKeyFrom, pageKeyText } from "./page-keys";
import { refusedByCondition } from "./transactions";

/** Where one payment's delivery to one sink stands (SPEC §5). */
export interface DeliveryCursor {
  readonly paymentId: string;
  readonly sink: OutboxSink;
  /** Every version up to this one is delivered. */
  readonly delivered: number;
  /** The highest version the relay knows of. */
  readonly latest: number;
  /** `lagging`: behind, the sweeper takes it; `failed`: given up after the sweeps, kept for redrive. */
  readonly state: "current" | "lagging" | "failed";
  /** Sweeps since it fell behind. */
  readonly sweeps: number;
  /** When it fell behind (ISO 8601). */
  readonly since?: string;
  readonly lastError?: string;
  /** The open failure record's key while failed. */
  readonly failureKey?: string;
  readonly updatedAt: string;
  /** Bumped by every write: each write is conditional on the revision it read. */
  readonly revision: number;
}

/** A delivery given up on: kept while open, and for the retention period once resolved. */
export interface DeliveryFailure {
  readonly paymentId: string;
  readonly sink: OutboxSink;
  readonly key: string;
  readonly failedAt: string;
  readonly delivered: number;
  readonly latest: number;
  readonly error?: string;
  readonly resolvedAt?: string;
}

export type CursorState = DeliveryCursor["state"];

const cursorKey = (sink: OutboxSink) => `cursor#${sink}`;
const keyOf = (paymentId: string, sink: OutboxSink) => `${paymentId}\u0000${sink}`;
const FAILURE_OPEN = "failure#open";
const FAILURE_RESOLVED = "failure#resolved";

function toCursor(item: Record<string, unknown>): DeliveryCursor {
  const { pk, sk, gsi1pk, gsi1sk, ...rest } = item;
  return { ...(rest as Omit<DeliveryCursor, "paymentId">), paymentId: pk as string };
}

function toFailure(item: Record<string, unknown>): DeliveryFailure {
  const { pk, sk, gsi1pk, gsi1sk, ...rest } = item;
  return {
    ...(rest as Omit<DeliveryFailure, "paymentId" | "key">),
    paymentId: pk as string,
    key: sk as string,
  };
}

/** The cursor item as written: the sparse index holds it only while it is behind. */
function cursorItem(cursor: DeliveryCursor) {
  const { paymentId, ...rest } = cursor;
  return {
    ...rest,
    pk: paymentId,
    sk: cursorKey(cursor.sink),
    ...(cursor.state === "current" ? {} : { gsi1pk: `${cursor.state}#${cursor.sink}`, gsi1sk: cursor.since }),
  };
}

export interface OutboxDeliveries {
  /** The cursors of many (payment, sink) pairs at once, keyed by {@link deliveryKey}. */
  getCursors(
    keys: ReadonlyArray<{ paymentId: string; sink: OutboxSink }>,
  ): Promise<Map<string, DeliveryCursor>>;
  /**
   * Writes a cursor if nobody wrote it since `previous` was read (revision check). With `failure`,
   * opens a failure record in the same transaction; with `resolve`, closes the open one.
   * Returns false when someone else wrote first: read again and decide again.
   */
  saveCursor(
    cursor: DeliveryCursor,
    previous: DeliveryCursor | undefined,
    options?: { openFailure?: DeliveryFailure; resolveFailure?: { key: string; at: string } },
  ): Promise<boolean>;
  /** Cursors in a state, oldest first (by when they fell behind). */
  listByState(
    state: Exclude<CursorState, "current">,
    sink: OutboxSink,
    page?: { limit?: number; cursor?: Record<string, unknown> },
  ): Promise<{ items: DeliveryCursor[]; next?: Record<string, unknown> }>;
  /** How many cursors are in a state, counted up to `max` (a page shows "max+" beyond it). */
  countByState(state: Exclude<CursorState, "current">, sink: OutboxSink, max: number): Promise<number>;
  /** One page of failure records, oldest first, and where the next page starts. */
  pageFailures(
    which: "open" | "resolved",
    page?: { limit?: number; cursor?: Record<string, unknown> },
  ): Promise<{ items: DeliveryFailure[]; next?: Record<string, unknown> }>;
  /** Failure records, open or resolved. */
  listFailures(
    which: "open" | "resolved",
    options?: { before?: string; limit?: number },
  ): Promise<DeliveryFailure[]>;
  /** Deletes the given failure records. */
  deleteFailures(failures: readonly DeliveryFailure[]): Promise<number>;
}

/** Which listing of the `byState` index a page belongs to: cursors in a state at a sink, or failures. */
export type DeliveryListing =
  | { readonly state: Exclude<CursorState, "current">; readonly sink: OutboxSink }
  | { readonly failures: "open" | "resolved" };

const listingPartition = (listing: DeliveryListing) =>
  "failures" in listing
    ? listing.failures === "open"
      ? FAILURE_OPEN
      : FAILURE_RESOLVED
    : `${listing.state}#${listing.sink}`;

/** A page's start key as text for a link, read back by {@link pageStartFrom}. */
export const pageStartText = pageKeyText;

/** A page's start key from a link, in the listing it claims to continue (see {@link pageKeyFrom}). */
export const pageStartFrom = (text: string, listing: DeliveryListing): Record<string, string> =>
  pageKeyFrom(text, ["pk", "sk", "gsi1pk", "gsi1sk"], (key) => key.gsi1pk === listingPartition(listing));

/** The map key of a (payment, sink) pair in {@link OutboxDeliveries.getCursors}. */
export const deliveryKey = keyOf;

/**
 * The relay's delivery cursors and failure records in DynamoDB (topology's `outboxTable`). Every
 * cursor write is conditional on the revision read before it, so the stream path, the sweeper and
 * a redrive can race on one payment without one moving the cursor back.
 */
export function createOutboxDeliveries(options: {
  client: DynamoDBClient;
  tableName: string;
}): OutboxDeliveries {
  const doc = DynamoDBDocumentClient.from(options.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const TableName = options.tableName;

  return {
    async getCursors(keys) {
      const found = new Map<string, DeliveryCursor>();
      const unique = [...new Map(keys.map((k) => [keyOf(k.paymentId, k.sink), k])).values()];
      for (let i = 0; i < unique.length; i += 100) {
        // Consistent: a cursor read just after another writer's write must see it.
        let request: Record<string, { Keys: Record<string, string>[]; ConsistentRead: boolean }> | undefined =
          {
            [TableName]: {
              Keys: unique.slice(i, i + 100).map((k) => ({ pk: k.paymentId, sk: cursorKey(k.sink) })),
              ConsistentRead: true,
            },
          };
        for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
          const out = await doc.send(new BatchGetCommand({ RequestItems: request }));
          for (const item of out.Responses?.[TableName] ?? []) {
            const cursor = toCursor(item);
            found.set(keyOf(cursor.paymentId, cursor.sink), cursor);
          }
          request = out.UnprocessedKeys as typeof request;
        }
      }
      return found;
    },

    async saveCursor(cursor, previous, opts = {}) {
      const condition = previous
        ? {
            ConditionExpression: "revision = :revision",
            ExpressionAttributeValues: { ":revision": previous.revision },
          }
        : { ConditionExpression: "attribute_not_exists(pk)" };
      const put = { TableName, Item: cursorItem(cursor), ...condition };
      try {
        if (!opts.openFailure && !opts.resolveFailure) {
          await doc.send(new PutCommand(put));
          return true;
        }
        const failureWrites = [];
        if (opts.openFailure) {
          const { paymentId, key, ...failure } = opts.openFailure;
          failureWrites.push({
            Put: {
              TableName,
              Item: { ...failure, pk: paymentId, sk: key, gsi1pk: FAILURE_OPEN, gsi1sk: failure.failedAt },
            },
          });
        }
        if (opts.resolveFailure) {
          failureWrites.push({
            Update: {
              TableName,
              Key: { pk: cursor.paymentId, sk: opts.resolveFailure.key },
              UpdateExpression: "SET resolvedAt = :at, gsi1pk = :resolved, gsi1sk = :at",
              ConditionExpression: "attribute_exists(pk)",
              ExpressionAttributeValues: { ":at": opts.resolveFailure.at, ":resolved": FAILURE_RESOLVED },
            },
          });
        }
        await doc.send(new TransactWriteCommand({ TransactItems: [{ Put: put }, ...failureWrites] }));
        return true;
      } catch (error) {
        if (refusedByCondition(error)) return false;
        throw error;
      }
    },

    async listByState(state, sink, page = {}) {
      const out = await doc.send(
        new QueryCommand({
          TableName,
          IndexName: "byState",
          KeyConditionExpression: "gsi1pk = :state",
          ExpressionAttributeValues: { ":state": `${state}#${sink}` },
          Limit: page.limit ?? 50,
          ExclusiveStartKey: page.cursor,
        }),
      );
      return { items: (out.Items ?? []).map(toCursor), next: out.LastEvaluatedKey };
    },

    async countByState(state, sink, max) {
      let count = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const out = await doc.send(
          new QueryCommand({
            TableName,
            IndexName: "byState",
            KeyConditionExpression: "gsi1pk = :state",
            ExpressionAttributeValues: { ":state": `${state}#${sink}` },
            Select: "COUNT",
            Limit: Math.min(1000, max - count + 1),
            ExclusiveStartKey: start,
          }),
        );
        count += out.Count ?? 0;
        start = out.LastEvaluatedKey;
      } while (start && count <= max);
      return count;
    },

    async pageFailures(which, page = {}) {
      const out = await doc.send(
        new QueryCommand({
          TableName,
          IndexName: "byState",
          KeyConditionExpression: "gsi1pk = :which",
          ExpressionAttributeValues: { ":which": which === "open" ? FAILURE_OPEN : FAILURE_RESOLVED },
          Limit: page.limit ?? 50,
          ExclusiveStartKey: page.cursor,
        }),
      );
      return { items: (out.Items ?? []).map(toFailure), next: out.LastEvaluatedKey };
    },

    async listFailures(which, opts = {}) {
      const items: DeliveryFailure[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await doc.send(
          new QueryCommand({
            TableName,
            IndexName: "byState",
            KeyConditionExpression: opts.before ? "gsi1pk = :which AND gsi1sk < :before" : "gsi1pk = :which",
            ExpressionAttributeValues: {
              ":which": which === "open" ? FAILURE_OPEN : FAILURE_RESOLVED,
              ...(opts.before ? { ":before": opts.before } : {}),
            },
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(out.Items ?? []).map(toFailure));
        start = out.LastEvaluatedKey;
      } while (start && items.length < (opts.limit ?? Number.POSITIVE_INFINITY));
      return opts.limit ? items.slice(0, opts.limit) : items;
    },

    async deleteFailures(failures) {
      let deleted = 0;
      for (let i = 0; i < failures.length; i += 25) {
        let request: Record<string, unknown[]> | undefined = {
          [TableName]: failures
            .slice(i, i + 25)
            .map((f) => ({ DeleteRequest: { Key: { pk: f.paymentId, sk: f.key } } })),
        };
        for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
          const out = await doc.send(new BatchWriteCommand({ RequestItems: request as never }));
          request = out.UnprocessedItems as typeof request;
        }
        deleted += Math.min(25, failures.length - i);
      }
      return deleted;
    },
  };
}
