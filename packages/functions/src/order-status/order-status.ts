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
 * Writes a payment's outcome onto its order (SPEC §5): the state as of the event's own version, by
 * the same fold as every view (the events after PaymentInitiated carry no order id, so the stream
 * is read up to that version). The UpdateItem is conditional on `payment_version`: an older event
 * that arrives late, or twice, never overwrites a newer status.
 */
export function createOrderStatusWriter(deps: {
  store: EventStore;
  client: DynamoDBClient;
  ordersTable: string;
}) {
  const doc = DynamoDBDocumentClient.from(deps.client);

  /** Applies one EventBridge event (its `detail` is the envelope). Returns whether it wrote. */
  return async function apply(eventBridgeEvent: {
    detail?: unknown;
  }): Promise<{ written: boolean; orderId: string; version: number }> {
    const event = parseRecordedEvent(eventBridgeEvent.detail);
    const history = (await deps.store.load(event.paymentId)).filter((e) => e.version <= event.version);
    const view = foldPaymentView(history);
    if (!view || view.version < event.version) {
      throw new StreamBehindError(`payment ${event.paymentId}: version ${event.version} is not readable yet`);
    }
    const status = orderPaymentStatus(view);
    const names = Object.keys(status);
    try {
      await doc.send(
        new UpdateCommand({
          TableName: deps.ordersTable,
          Key: { order_id: view.orderId },
          UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(", ")}`,
          ConditionExpression:
            "attribute_not_exists(#payment_version) OR #payment_version < :payment_version",
          ExpressionAttributeNames: Object.fromEntries(names.map((n) => [`#${n}`, n])),
          ExpressionAttributeValues: Object.fromEntries(Object.entries(status).map(([n, v]) => [`:${n}`, v])),
        }),
      );
      return { written: true, orderId: view.orderId, version: view.version };
    } catch (error) {
      // A newer (or the same) version is there already: nothing to do.
      if (error instanceof ConditionalCheckFailedException)
        return { written: false, orderId: view.orderId, version: view.version };
      throw error;
    }
  };
}
