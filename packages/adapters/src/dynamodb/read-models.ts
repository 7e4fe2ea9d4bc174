import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  NumberValue,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import {
  addFigures,
  EMPTY_TALLY,
  type Figures,
  formatMinorUnits,
  isOpenPayment,
  type PaymentTally,
  type PaymentView,
  type RecordedEvent,
} from "@payments/core";
import { Provider } from "@payments/events";
import {
  createdPaymentShards,
  openPaymentShards,
  readModelTable,
  transactionLogTable,
} from "@payments/topology";
import {
  bucketUpdate,
  bucketUpdates,
  type MetricsInterval,
  metricShardOf,
  type Resolution,
  readFigures,
} from "./metrics";
import { pageKeyFrom, pageKeyText } from "./page-keys";
import { refusedByCondition, transactRetryingConflicts } from "./transactions";

/**
 * The read models of SPEC §3 in DynamoDB: the payment view (with lookups by order and by customer),
 * the customers' decline history, and the CloudCafe transaction log. Every write carries the stream
 * version it reflects and is conditional on it, so a duplicate, a late record or a replay can never
 * move a view backwards.
 */
export interface ReadModelStore {
  getView(paymentId: string): Promise<PaymentView | undefined>;
  /**
   * The stored projection of a payment: its view, the refund ids it holds back, and its part of the
   * metrics (`tally`, absent on an item written before the metrics read model).
   */
  getProjection(
    paymentId: string,
  ): Promise<{ view: PaymentView; pendingRefunds: readonly string[]; tally?: PaymentTally } | undefined>;
  /**
   * Writes a payment's projection over the stored item at `storedVersion` only (none stored, when
   * undefined): a writer that lost a race reads again. With it, in one transaction, `changes` is
   * added to the metrics' figures, so the figures are always the sum of the stored tallies. Returns
   * whether it wrote. An open payment ({@link isOpenPayment}) is written into the `byOpen` index, due
   * from its last event; one that ended leaves it.
   */
  putView(
    view: PaymentView,
    options?: {
      storedVersion?: number;
      pendingRefunds?: readonly string[];
      tally?: PaymentTally;
      changes?: Figures;
    },
  ): Promise<boolean>;
  /**
   * Writes several payments' projections in one transaction, each only over its item as it was
   * read, with the sum of their figure changes: all or nothing. False when DynamoDB refused it (a
   * condition failed, or another transaction met it): nothing was written.
   */
  putViews(
    projections: ReadonlyArray<{
      view: PaymentView;
      storedVersion?: number;
      pendingRefunds?: readonly string[];
      tally: PaymentTally;
      changes: Figures;
    }>,
  ): Promise<boolean>;
  /**
   * Replaces a stored tally at `storedVersion` and adds `changes` to the figures, in one
   * transaction (replay's repair of the metrics). Returns whether it wrote.
   */
  putTally(input: {
    paymentId: string;
    storedVersion: number;
    tally: PaymentTally;
    changes: Figures;
  }): Promise<boolean>;
  /**
   * Adds `changes` to the figures of one resolution, outside any payment's tally: replay's correction
   * of figures found apart from the sum of the tallies. Each interval is one ADD.
   */
  adjustFigures(resolution: Resolution, changes: Figures): Promise<void>;
  /** The metrics' figures of each interval in [from, until), oldest first. */
  metrics(input: { from: Date; until: Date; resolution: Resolution; now?: Date }): Promise<MetricsInterval[]>;
  /**
   * Open payments due for a look at their provider (SPEC §6.1): those whose next look is before
   * `before`, oldest first, from one shard of the `byOpen` index.
   */
  openPaymentsDue(input: { shard: number; before: string; limit: number }): Promise<OpenPaymentDue[]>;
  /**
   * Moves an open payment's next look to `from` (a payment still in progress at its provider, or a
   * provider that did not answer), unless the view has moved past `version` since. Returns whether it did.
   */
  deferOpenPayment(input: {
    paymentId: string;
    version: number;
    from: string;
    attempts: number;
  }): Promise<boolean>;
  /** Ids of the payments a person must look at ({@link needsAPerson}), newest first. */
  attentionPayments(limit: number): Promise<string[]>;
  /** Holds awaiting a fraud review (authorized, decision `review`), newest first: listed apart. */
  reviewHolds(limit: number): Promise<string[]>;
  /** Ids of a provider's payments created in [since, until), from the `byCreated` index, by day. */
  paymentsCreated(input: { provider: string; since: Date; until: Date }): Promise<string[]>;
  /** The ids of the `limit` payments created last (today and yesterday, every provider), newest first. */
  recentPaymentIds(limit: number, now: Date): Promise<string[]>;
  viewsByOrder(orderId: string): Promise<PaymentView[]>;
  viewsByCustomer(
    customerId: string,
    page?: { limit?: number; cursor?: string },
  ): Promise<{ items: PaymentView[]; nextCursor?: string }>;
  /** Records a decline once (keyed by payment). */
  putDecline(decline: DeclineRecord): Promise<void>;
  declines(customerId: string): Promise<DeclineRecord[]>;
  /** The Stripe Customer kept for a customer id of ours (format B's saved methods), if any. */
  stripeCustomer(customerId: string): Promise<string | undefined>;
  /**
   * Keeps a customer's Stripe Customer unless one is kept already; returns the one kept (the
   * first writer's, when two race).
   */
  putStripeCustomer(customerId: string, stripeCustomerId: string): Promise<string>;
  putTransactionLog(view: PaymentView, options?: { repair?: boolean }): Promise<boolean>;
  getTransactionLog(transactionId: string): Promise<TransactionLogItem | undefined>;
  /** Keeps what the last `npm run reconcile` found, for the console (SPEC §6.1): one item, replaced. */
  putLastReconciliation(summary: ReconciliationSummary): Promise<void>;
  lastReconciliation(): Promise<ReconciliationSummary | undefined>;
}

/** What one `npm run reconcile` found and did, as the console's Needs attention page shows it. */
export interface ReconciliationSummary {
  /** When the run finished, ISO 8601. */
  readonly at: string;
  /** Who ran it (`--by`): `cli:<user>` by default. */
  readonly by: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly providers: readonly string[];
  readonly compared: number;
  readonly repair: boolean;
  /** Drifts found, per class. */
  readonly byClass: Readonly<Record<string, number>>;
  /** The drifts, at most {@link RECONCILIATION_ROWS} of them (`driftCount` counts them all). */
  readonly drifts: ReadonlyArray<{
    readonly driftId: string;
    readonly driftClass: string;
    readonly provider: string;
    readonly paymentId?: string;
    readonly providerObject: string;
    readonly amount: number;
    readonly currency: string;
    /** `repaired`, `flagged`, `left` or `failed`. */
    readonly state: string;
  }>;
  readonly driftCount: number;
  readonly left: number;
  readonly providerErrors: readonly string[];
}

/** How many drifts the kept summary lists: one DynamoDB item stays far under its 400 KB. */
export const RECONCILIATION_ROWS = 100;

/** An entry of the open-payments index. */
export interface OpenPaymentDue {
  readonly paymentId: string;
  readonly version: number;
  /** How many looks found it still in progress (the pause before the next one grows with it). */
  readonly attempts: number;
  /** When it became due (`<ISO time>` of its last event or deferral). */
  readonly dueFrom: string;
}

/** Whether a view belongs on the Needs attention page: flagged for a person, or underpaid (SPEC §6.1). */
/** A hold that fraud screening left for a person to capture or cancel (status authorized, review). */
export function heldForReview(view: Pick<PaymentView, "status" | "fraud">): boolean {
  return view.status === "authorized" && view.fraud?.decision === "review";
}

export function needsAPerson(view: Pick<PaymentView, "flags" | "status">): boolean {
  return (
    view.status === "underpaid" ||
    view.flags.some((f) => f === "needs_attention" || f === "unmatched" || f === "amount_mismatch")
  );
}

/** The shard of the open-payments index a payment lives in: a stable hash of its id. */
export function openShardOf(paymentId: string): number {
  return hashOf(paymentId) % openPaymentShards;
}

/** The by-creation index's partition key of a payment: its provider, day and shard. */
export function createdKeyOf(view: Pick<PaymentView, "paymentId" | "provider" | "createdAt">): string {
  return `created#${view.provider}#${view.createdAt.slice(0, 10)}#${hashOf(view.paymentId) % createdPaymentShards}`;
}

/**
 * Every partition of a provider's day in the by-creation index, the unsharded key written before
 * the index was spread (2026-12-06) included.
 */
const createdKeysOf = (provider: string, day: string) => [
  `created#${provider}#${day}`,
  ...Array.from({ length: createdPaymentShards }, (_, shard) => `created#${provider}#${day}#${shard}`),
];

/** The payment id of a read-model item (its partition key is `payment#<id>`). */
const paymentIdOf = (item: Record<string, unknown>) =>
  String(item[readModelTable.partitionKey]).slice("payment#".length);

function hashOf(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash;
}

export interface DeclineRecord {
  readonly customerId: string;
  readonly paymentId: string;
  readonly code: string;
  readonly amount: number;
  readonly currency: string;
  readonly occurredAt: string;
}

/** The existing CloudCafe readers' shape (SPEC §3), with the version it reflects. */
export interface TransactionLogItem {
  readonly transaction_id: string;
  readonly payment_id: string;
  readonly order_id: string;
  readonly customer_id?: string;
  /** Major units, formatted exactly from the minor units, stored as a DynamoDB number. */
  readonly amount: string;
  readonly currency: string;
  readonly payment_method: string;
  readonly fraud_score?: number;
  readonly status: string;
  readonly gateway_response?: { status: string; authorization_code?: string; timestamp: string };
  readonly processed_at: string;
  readonly payment_version: number;
}

const VIEW_SK = "view";
type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];
type TransactPut = NonNullable<TransactItem["Put"]>;
type TransactUpdate = NonNullable<TransactItem["Update"]>;
/** DynamoDB's limit of items in one transaction. */
const TRANSACTION_ITEMS = 100;
/** How often a write whose transaction met another on a metrics bucket is tried. */
const CONFLICT_ATTEMPTS = 8;
/** The item that maps a customer id of ours to its Stripe Customer (format B's saved methods). */
const STRIPE_CUSTOMER_SK = "stripe-customer";
const LAST_RECONCILIATION_KEY = {
  [readModelTable.partitionKey]: "reconciliation",
  [readModelTable.sortKey]: "last",
};
const viewKey = (paymentId: string) => ({
  [readModelTable.partitionKey]: `payment#${paymentId}`,
  [readModelTable.sortKey]: VIEW_SK,
});

/**
 * The declines a payment's events record, for its customer's history: each `PaymentFailed`.
 * @example declineRecords(view, events) // [{ customerId, paymentId, code: "card_declined", … }]
 */
export function declineRecords(view: PaymentView, events: readonly RecordedEvent[]): DeclineRecord[] {
  if (!view.customerId) return [];
  return events.flatMap((event) =>
    event.type === "PaymentFailed"
      ? [
          {
            customerId: view.customerId!,
            paymentId: view.paymentId,
            code: event.data.code,
            amount: view.amount,
            currency: view.currency,
            occurredAt: event.occurredAt,
          },
        ]
      : [],
  );
}

/**
 * The transaction log's item for a view: `completed` once captured, `pending` while initiated,
 * otherwise the view's status; for an `underpaid` payment, `amount` is what was received (SPEC §3).
 * @example transactionLogItem(view).amount // "25.99" for 2599 usd
 */
export function transactionLogItem(view: PaymentView): TransactionLogItem {
  const status =
    view.status === "captured" ? "completed" : view.status === "initiated" ? "pending" : view.status;
  return stripUndefined({
    transaction_id: view.transactionId,
    payment_id: view.paymentId,
    order_id: view.orderId,
    customer_id: view.customerId,
    amount: formatMinorUnits(view.status === "underpaid" ? view.amountCaptured : view.amount, view.currency),
    currency: view.currency,
    payment_method: view.paymentMethod.type,
    fraud_score: view.fraud?.score,
    status,
    gateway_response: view.gatewayResponse
      ? stripUndefined({
          status: view.gatewayResponse.status,
          authorization_code: view.gatewayResponse.authorizationCode,
          timestamp: view.gatewayResponse.timestamp,
        })
      : undefined,
    processed_at: view.updatedAt,
    payment_version: view.version,
  });
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function createReadModelStore(options: {
  client: DynamoDBClient;
  tableName: string;
  transactionLogTableName: string;
}): ReadModelStore {
  const doc = DynamoDBDocumentClient.from(options.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const { byOrder, byCustomer, byOpen, byCreated, byAttention } = readModelTable.indexes;
  const viewOf = (item: Record<string, unknown> | undefined) =>
    item ? (item.view as PaymentView) : undefined;

  const stripeCustomerKey = (customerId: string) => ({
    [readModelTable.partitionKey]: `customer#${customerId}`,
    [readModelTable.sortKey]: STRIPE_CUSTOMER_SK,
  });
  async function stripeCustomer(customerId: string): Promise<string | undefined> {
    const { Item } = await doc.send(
      new GetCommand({
        TableName: options.tableName,
        Key: stripeCustomerKey(customerId),
        ConsistentRead: true,
      }),
    );
    return typeof Item?.stripeCustomerId === "string" ? Item.stripeCustomerId : undefined;
  }

  /** The `limit` last items of one partition of a keys-only index (sort key descending). */
  async function newestOf(
    index: "byAttention" | "byCreated",
    key: string,
    limit: number,
  ): Promise<Record<string, unknown>[]> {
    const { Items = [] } = await doc.send(
      new QueryCommand({
        TableName: options.tableName,
        IndexName: index,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": readModelTable.indexes[index].partitionKey },
        ExpressionAttributeValues: { ":pk": key },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items;
  }

  /** One list of the sparse byAttention index, newest first: payment ids. */
  async function attentionList(list: "attention" | "review", limit: number): Promise<string[]> {
    return (await newestOf("byAttention", list, limit)).map(paymentIdOf);
  }

  /** The view item: the view, what the projector carries on with it, and its index keys. */
  function projectionItem(view: PaymentView, pendingRefunds: readonly string[], tally: PaymentTally) {
    return {
      ...viewKey(view.paymentId),
      view,
      version: view.version,
      tally,
      ...(pendingRefunds.length > 0 ? { pendingRefunds } : {}),
      [byOrder.partitionKey]: `order#${view.orderId}`,
      [byOrder.sortKey]: `payment#${view.paymentId}`,
      ...(view.customerId
        ? {
            [byCustomer.partitionKey]: `customer#${view.customerId}`,
            [byCustomer.sortKey]: `${view.createdAt}#${view.paymentId}`,
          }
        : {}),
      ...(isOpenPayment(view, pendingRefunds)
        ? {
            [byOpen.partitionKey]: `open#${openShardOf(view.paymentId)}`,
            [byOpen.sortKey]: `${view.updatedAt}#${view.paymentId}`,
          }
        : {}),
      ...(needsAPerson(view)
        ? {
            [byAttention.partitionKey]: "attention",
            [byAttention.sortKey]: `${view.updatedAt}#${view.paymentId}`,
          }
        : heldForReview(view)
          ? {
              // Listed apart on the Needs attention page: a hold a person decides (SPEC §6.1).
              [byAttention.partitionKey]: "review",
              [byAttention.sortKey]: `${view.updatedAt}#${view.paymentId}`,
            }
          : {}),
      [byCreated.partitionKey]: createdKeyOf(view),
      [byCreated.sortKey]: `${view.createdAt}#${view.paymentId}`,
    };
  }

  /** Only over the item as it was read: at `storedVersion`, or none. */
  const storedCondition = (
    storedVersion: number | undefined,
  ): {
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } =>
    storedVersion === undefined
      ? {
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": readModelTable.partitionKey },
        }
      : {
          ConditionExpression: "#v = :stored",
          ExpressionAttributeNames: { "#v": "version" },
          ExpressionAttributeValues: { ":stored": storedVersion },
        };

  /**
   * One conditional write of a payment's item, with its figure changes added to the metrics in the
   * same transaction (a plain write when there are none). False when the condition refused it; a
   * transaction that met another on a bucket (TransactionConflict) is tried again after a pause.
   */
  async function writeWithFigures(
    paymentId: string,
    write: { Put: TransactPut } | { Update: TransactUpdate },
    changes: Figures,
  ): Promise<boolean> {
    const buckets = bucketUpdates(options.tableName, metricShardOf(paymentId), changes);
    if (buckets.length + 1 > TRANSACTION_ITEMS)
      throw new Error(
        `payment ${paymentId}: its figure changes touch ${buckets.length} metric buckets, more than one transaction holds`,
      );
    try {
      if (buckets.length === 0) {
        if ("Put" in write) await doc.send(new PutCommand(write.Put));
        else await doc.send(new UpdateCommand(write.Update));
      } else {
        await transactRetryingConflicts(doc, [write, ...buckets.map((Update) => ({ Update }))], {
          attempts: CONFLICT_ATTEMPTS,
        });
      }
      return true;
    } catch (error) {
      if (refusedByCondition(error)) return false;
      throw error;
    }
  }

  async function guardedPut(
    tableName: string,
    item: Record<string, unknown>,
    versionAttribute: string,
    version: number,
    repair = false,
  ) {
    try {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: item,
          ConditionExpression: `attribute_not_exists(#v) OR #v ${repair ? "<=" : "<"} :v`,
          ExpressionAttributeNames: { "#v": versionAttribute },
          ExpressionAttributeValues: { ":v": version },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  return {
    async getView(paymentId) {
      const { Item } = await doc.send(
        new GetCommand({ TableName: options.tableName, Key: viewKey(paymentId), ConsistentRead: true }),
      );
      return viewOf(Item);
    },
    async getProjection(paymentId) {
      const { Item } = await doc.send(
        new GetCommand({ TableName: options.tableName, Key: viewKey(paymentId), ConsistentRead: true }),
      );
      const view = viewOf(Item);
      if (!view) return undefined;
      return {
        view,
        pendingRefunds: (Item!.pendingRefunds as string[] | undefined) ?? [],
        ...(Item!.tally ? { tally: Item!.tally as PaymentTally } : {}),
      };
    },
    putView(view, { storedVersion, pendingRefunds = [], tally = EMPTY_TALLY, changes = {} } = {}) {
      return writeWithFigures(
        view.paymentId,
        {
          Put: {
            TableName: options.tableName,
            Item: projectionItem(view, pendingRefunds, tally),
            ...storedCondition(storedVersion),
          },
        },
        changes,
      );
    },
    async putViews(projections) {
      if (projections.length === 0) return true;
      const changes: Figures = {};
      for (const p of projections) addFigures(changes, p.changes);
      // The batch's figures go to one shard's items: the shard of its first payment.
      const buckets = bucketUpdates(
        options.tableName,
        metricShardOf(projections[0]!.view.paymentId),
        changes,
      );
      const items = [
        ...projections.map(({ view, storedVersion, pendingRefunds = [], tally }) => ({
          Put: {
            TableName: options.tableName,
            Item: projectionItem(view, pendingRefunds, tally),
            ...storedCondition(storedVersion),
          },
        })),
        ...buckets.map((Update) => ({ Update })),
      ];
      if (items.length > TRANSACTION_ITEMS)
        throw new Error(
          `${projections.length} projections touch ${buckets.length} metric buckets: over one transaction`,
        );
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: items }));
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException) return false;
        throw error;
      }
    },
    putTally({ paymentId, storedVersion, tally, changes }) {
      return writeWithFigures(
        paymentId,
        {
          Update: {
            TableName: options.tableName,
            Key: viewKey(paymentId),
            UpdateExpression: "SET tally = :tally",
            ConditionExpression: "#v = :stored",
            ExpressionAttributeNames: { "#v": "version" },
            ExpressionAttributeValues: { ":tally": tally, ":stored": storedVersion },
          },
        },
        changes,
      );
    },
    metrics: (input) => readFigures(doc, options.tableName, input),
    async adjustFigures(resolution, changes) {
      for (const [at, figures] of Object.entries(changes))
        if (Object.values(figures).some((n) => n !== 0))
          await doc.send(new UpdateCommand(bucketUpdate(options.tableName, resolution, at, 0, figures)));
    },
    async openPaymentsDue({ shard, before, limit }) {
      const { Items = [] } = await doc.send(
        new QueryCommand({
          TableName: options.tableName,
          IndexName: "byOpen",
          KeyConditionExpression: "#pk = :pk AND #sk < :before",
          ExpressionAttributeNames: { "#pk": byOpen.partitionKey, "#sk": byOpen.sortKey },
          ExpressionAttributeValues: { ":pk": `open#${shard}`, ":before": before },
          Limit: limit,
        }),
      );
      return Items.map((item) => {
        const sortKey = String(item[byOpen.sortKey]);
        return {
          paymentId: paymentIdOf(item),
          version: Number(item.version),
          attempts: Number(item.reconcileAttempts ?? 0),
          dueFrom: sortKey.slice(0, sortKey.indexOf("#")),
        };
      });
    },
    async deferOpenPayment({ paymentId, version, from, attempts }) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: options.tableName,
            Key: viewKey(paymentId),
            UpdateExpression: "SET #sk = :sk, reconcileAttempts = :attempts",
            ConditionExpression: "#v = :v AND attribute_exists(#pk)",
            ExpressionAttributeNames: { "#sk": byOpen.sortKey, "#pk": byOpen.partitionKey, "#v": "version" },
            ExpressionAttributeValues: {
              ":sk": `${from}#${paymentId}`,
              ":attempts": attempts,
              ":v": version,
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    attentionPayments: (limit) => attentionList("attention", limit),
    reviewHolds: (limit) => attentionList("review", limit),
    async paymentsCreated({ provider, since, until }) {
      const ids: string[] = [];
      const lastDay = new Date(until.getTime() - 1).toISOString().slice(0, 10);
      const inPartition = async (key: string) => {
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        do {
          const page = await doc.send(
            new QueryCommand({
              TableName: options.tableName,
              IndexName: "byCreated",
              KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :from AND :to",
              ExpressionAttributeNames: { "#pk": byCreated.partitionKey, "#sk": byCreated.sortKey },
              ExpressionAttributeValues: {
                ":pk": key,
                ":from": since.toISOString(),
                // Everything created before `until`: "#" sorts after every digit of a time.
                ":to": until.toISOString(),
              },
              ExclusiveStartKey,
            }),
          );
          for (const item of page.Items ?? []) ids.push(paymentIdOf(item));
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
      };
      for (let day = since.toISOString().slice(0, 10); day <= lastDay; day = nextDay(day))
        await Promise.all(createdKeysOf(provider, day).map(inPartition));
      return ids;
    },
    async recentPaymentIds(limit, now) {
      const today = now.toISOString().slice(0, 10);
      const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
      const newest = async (key: string) =>
        (await newestOf("byCreated", key, limit)).map((item) => ({
          at: String(item[byCreated.sortKey]),
          paymentId: paymentIdOf(item),
        }));
      // The newest of each partition of a day, then the newest of those; yesterday only when today
      // has fewer than `limit`.
      const ofDay = async (day: string) =>
        (
          await Promise.all(Provider.options.flatMap((provider) => createdKeysOf(provider, day)).map(newest))
        ).flat();
      const found = await ofDay(today);
      if (found.length < limit) found.push(...(await ofDay(yesterday)));
      return found
        .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
        .slice(0, limit)
        .map((r) => r.paymentId);
    },
    async viewsByOrder(orderId) {
      const { Items = [] } = await doc.send(
        new QueryCommand({
          TableName: options.tableName,
          IndexName: "byOrder",
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": byOrder.partitionKey },
          ExpressionAttributeValues: { ":pk": `order#${orderId}` },
        }),
      );
      return Items.map((item) => viewOf(item)!);
    },
    async viewsByCustomer(customerId, page = {}) {
      const { Items = [], LastEvaluatedKey } = await doc.send(
        new QueryCommand({
          TableName: options.tableName,
          IndexName: "byCustomer",
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": byCustomer.partitionKey },
          ExpressionAttributeValues: { ":pk": `customer#${customerId}` },
          // Newest first.
          ScanIndexForward: false,
          Limit: page.limit ?? 50,
          ExclusiveStartKey: page.cursor ? customerCursor(page.cursor, customerId) : undefined,
        }),
      );
      return {
        items: Items.map((item) => viewOf(item)!),
        ...(LastEvaluatedKey ? { nextCursor: pageKeyText(LastEvaluatedKey) } : {}),
      };
    },
    async putDecline(decline) {
      try {
        await doc.send(
          new PutCommand({
            TableName: options.tableName,
            Item: {
              [readModelTable.partitionKey]: `customer#${decline.customerId}`,
              [readModelTable.sortKey]: `decline#${decline.occurredAt}#${decline.paymentId}`,
              ...decline,
            },
            ConditionExpression: "attribute_not_exists(#pk)",
            ExpressionAttributeNames: { "#pk": readModelTable.partitionKey },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
    stripeCustomer,
    async putStripeCustomer(customerId, stripeCustomerId) {
      try {
        await doc.send(
          new PutCommand({
            TableName: options.tableName,
            Item: { ...stripeCustomerKey(customerId), customerId, stripeCustomerId },
            ConditionExpression: "attribute_not_exists(#pk)",
            ExpressionAttributeNames: { "#pk": readModelTable.partitionKey },
          }),
        );
        return stripeCustomerId;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another writer kept one first: that one is the customer's.
        return (await stripeCustomer(customerId))!;
      }
    },
    async declines(customerId) {
      const { Items = [] } = await doc.send(
        new QueryCommand({
          TableName: options.tableName,
          KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :decline)",
          ExpressionAttributeNames: { "#pk": readModelTable.partitionKey, "#sk": readModelTable.sortKey },
          ExpressionAttributeValues: { ":pk": `customer#${customerId}`, ":decline": "decline#" },
          ConsistentRead: true,
        }),
      );
      return Items.map(({ customerId: c, paymentId, code, amount, currency, occurredAt }) => ({
        customerId: c,
        paymentId,
        code,
        amount,
        currency,
        occurredAt,
      })) as DeclineRecord[];
    },
    putTransactionLog(view, { repair = false } = {}) {
      const item = transactionLogItem(view);
      // A DynamoDB number written from its exact decimal text: 25.99, never 25.990000000000002.
      return guardedPut(
        options.transactionLogTableName,
        { ...item, amount: NumberValue.from(item.amount) },
        "payment_version",
        view.version,
        repair,
      );
    },
    async putLastReconciliation(summary) {
      await doc.send(
        new PutCommand({
          TableName: options.tableName,
          Item: {
            ...LAST_RECONCILIATION_KEY,
            summary: { ...summary, drifts: summary.drifts.slice(0, RECONCILIATION_ROWS) },
          },
        }),
      );
    },
    async lastReconciliation() {
      const { Item } = await doc.send(
        new GetCommand({ TableName: options.tableName, Key: LAST_RECONCILIATION_KEY }),
      );
      return Item?.summary as ReconciliationSummary | undefined;
    },
    async getTransactionLog(transactionId) {
      // The raw item, so that numbers are read as their exact text, never through a float.
      const { Item: raw } = await options.client.send(
        new GetItemCommand({
          TableName: options.transactionLogTableName,
          Key: { [transactionLogTable.partitionKey]: { S: transactionId } },
          ConsistentRead: true,
        }),
      );
      if (!raw) return undefined;
      const Item = unmarshall(raw, { wrapNumbers: true });
      // Numbers read as their exact text; only the amount is kept as text (it is money).
      const numbers = Object.fromEntries(
        Object.entries(Item).map(([k, v]) => [
          k,
          v instanceof NumberValue && k !== "amount" ? Number(v.toString()) : v,
        ]),
      );
      return { ...numbers, amount: String(Item.amount) } as TransactionLogItem;
    },
  };
}

const nextDay = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * A `byCustomer` cursor as this API handed it out: the table's and the index's keys, for a view of
 * this same customer (see {@link pageKeyFrom}).
 */
function customerCursor(cursor: string, customerId: string): Record<string, string> {
  const { byCustomer } = readModelTable.indexes;
  return pageKeyFrom(
    cursor,
    [readModelTable.partitionKey, readModelTable.sortKey, byCustomer.partitionKey, byCustomer.sortKey],
    (key) =>
      key[readModelTable.partitionKey]!.startsWith("payment#") &&
      key[readModelTable.sortKey] === VIEW_SK &&
      key[byCustomer.partitionKey] === `customer#${customerId}`,
  );
}

export { InvalidCursorError } from "./page-keys";
