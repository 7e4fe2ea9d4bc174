import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  NumberValue,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { formatMinorUnits, type PaymentView, type RecordedEvent } from "@payments/core";
import { readModelTable, transactionLogTable } from "@payments/topology";

/**
 * The read models of SPEC §3 in DynamoDB: the payment view (with lookups by order and by customer),
 * the customers' decline history, and the CloudCafe transaction log. Every write carries the stream
 * version it reflects and is conditional on it, so a duplicate, a late record or a replay can never
 * move a view backwards.
 */
export interface ReadModelStore {
  getView(paymentId: string): Promise<PaymentView | undefined>;
  /**
   * Writes a view unless one at a later version is there (or, unless `repair`, at the same version).
   * Replay repairs: a view damaged at its own version is rewritten from the fold. Returns whether it wrote.
   */
  putView(view: PaymentView, options?: { repair?: boolean }): Promise<boolean>;
  viewsByOrder(orderId: string): Promise<PaymentView[]>;
  viewsByCustomer(
    customerId: string,
    page?: { limit?: number; cursor?: string },
  ): Promise<{ items: PaymentView[]; nextCursor?: string }>;
  /** Records a decline once (keyed by payment). */
  putDecline(decline: DeclineRecord): Promise<void>;
  declines(customerId: string): Promise<DeclineRecord[]>;
  putTransactionLog(view: PaymentView, options?: { repair?: boolean }): Promise<boolean>;
  getTransactionLog(transactionId: string): Promise<TransactionLogItem | undefined>;
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
  const { byOrder, byCustomer } = readModelTable.indexes;
  const viewOf = (item: Record<string, unknown> | undefined) =>
    item ? (item.view as PaymentView) : undefined;

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
    putView(view, { repair = false } = {}) {
      return guardedPut(
        options.tableName,
        {
          ...viewKey(view.paymentId),
          view,
          version: view.version,
          [byOrder.partitionKey]: `order#${view.orderId}`,
          [byOrder.sortKey]: `payment#${view.paymentId}`,
          ...(view.customerId
            ? {
                [byCustomer.partitionKey]: `customer#${view.customerId}`,
                [byCustomer.sortKey]: `${view.createdAt}#${view.paymentId}`,
              }
            : {}),
        },
        "version",
        view.version,
        repair,
      );
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
          ExclusiveStartKey: page.cursor ? decodeCursor(page.cursor) : undefined,
        }),
      );
      return {
        items: Items.map((item) => viewOf(item)!),
        ...(LastEvaluatedKey ? { nextCursor: encodeCursor(LastEvaluatedKey) } : {}),
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

const encodeCursor = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString("base64url");
function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown;
    if (key && typeof key === "object" && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

/** A `cursor` that this API did not hand out. */
export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
  constructor() {
    super("cursor is not one this API returned; start again without it");
  }
}
