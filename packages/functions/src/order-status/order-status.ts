import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type EventStore, foldPaymentView, type PaymentView, parseRecordedEvent } from "@payments/core";

/** The payment outcome written on an order's item (SPEC §5), in the order service's attribute names. */
export interface OrderPaymentStatus {
  readonly payment_id: string;
  readonly payment_status: string;
  readonly amount_captured: number;
  readonly amount_refunded: number;
  readonly currency: string;
  readonly payment_version: number;
  readonly payment_updated_at: string;
}

export const orderPaymentStatus = (view: PaymentView): OrderPaymentStatus => ({
  payment_id: view.paymentId,
  payment_status: view.status,
  amount_captured: view.amountCaptured,
  amount_refunded: view.amountRefunded,
  currency: view.currency,
  payment_version: view.version,
  payment_updated_at: view.updatedAt,
});

/** Thrown when the event store does not yet show the event's version: the message is retried. */
export class StreamBehindError extends Error {}

/**
 * The order's own status attribute (ORDER_STATUS_ATTRIBUTE, SPEC §5), in the order service's
 * words, for each payment status that an outcome event can leave.
 */
export const ORDER_STATUS: Readonly<Record<string, string>> = {
  authorized: "authorized",
  captured: "paid",
  underpaid: "payment_incomplete",
  partially_refunded: "partially_refunded",
  refunded: "refunded",
  failed: "payment_failed",
  rejected: "payment_failed",
  canceled: "canceled",
};

/** What one event did to its order: written, left (a newer version is there), or no such order. */
export type OrderStatusOutcome = {
  readonly outcome: "written" | "newer_there" | "order_missing";
  readonly orderId: string;
  readonly version: number;
};

/**
 * Writes a payment's outcome onto its order (SPEC §5): the state as of the event's own version, by
 * the same fold as every view (the events after PaymentInitiated carry no order id, so the stream
 * is read up to that version). The UpdateItem is conditional on the order existing (it never
 * creates one: an unknown order, an `unmatched:*` one included, is reported as missing) and on
 * `payment_version`, so an older event that arrives late, or twice, never overwrites a newer
 * status. With `statusAttribute`, the order's own status is set too, under the same condition.
 */
export function createOrderStatusWriter(deps: {
  store: EventStore;
  client: DynamoDBClient;
  ordersTable: string;
  /** ORDER_STATUS_ATTRIBUTE: the name of the order's own status attribute; unset, it is left alone. */
  statusAttribute?: string;
}) {
  const doc = DynamoDBDocumentClient.from(deps.client);
  /** Applies one EventBridge event (its `detail` is the envelope). */
  return async function apply(eventBridgeEvent: { detail?: unknown }): Promise<OrderStatusOutcome> {
    const event = parseRecordedEvent(eventBridgeEvent.detail);
    const history = (await deps.store.load(event.paymentId)).filter((e) => e.version <= event.version);
    const view = foldPaymentView(history);
    if (!view || view.version < event.version) {
      throw new StreamBehindError(`payment ${event.paymentId}: version ${event.version} is not readable yet`);
    }
    const orderStatus = deps.statusAttribute ? ORDER_STATUS[view.status] : undefined;
    const values: Record<string, unknown> = { ...orderPaymentStatus(view) };
    const names: Record<string, string> = Object.fromEntries(Object.keys(values).map((n) => [`#${n}`, n]));
    const sets = Object.keys(values).map((n) => `#${n} = :${n}`);
    if (orderStatus && deps.statusAttribute) {
      names["#order_status"] = deps.statusAttribute;
      values.order_status = orderStatus;
      sets.push("#order_status = :order_status");
    }
    const result = { orderId: view.orderId, version: view.version };
    try {
      await doc.send(
        new UpdateCommand({
          TableName: deps.ordersTable,
          Key: { order_id: view.orderId },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression:
            "attribute_exists(#order_id) AND (attribute_not_exists(#payment_version) OR #payment_version < :payment_version)",
          ExpressionAttributeNames: { ...names, "#order_id": "order_id" },
          ExpressionAttributeValues: Object.fromEntries(Object.entries(values).map(([n, v]) => [`:${n}`, v])),
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { outcome: "written", ...result };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // No item came back: there is no such order. Otherwise a newer (or the same) version is there.
      return { outcome: error.Item ? "newer_there" : "order_missing", ...result };
    }
  };
}
