import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { readModelTable } from "@payments/topology";
import { Entity } from "electrodb";

/** Why an order message failed on its last allowed receive: what the console shows beside the DLQ. */
export interface OrderFailureNote {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly orderId?: string;
  readonly paymentId?: string;
  readonly reason: string;
  readonly at: string;
}

export interface OrderFailureNotes {
  note(note: OrderFailureNote): Promise<void>;
  /** The notes of these messages, by message id; messages without one are absent. */
  get(messageIds: readonly string[]): Promise<Map<string, OrderFailureNote>>;
  remove(messageIds: readonly string[]): Promise<void>;
}

function noteEntity(client: DynamoDBDocumentClient, table: string) {
  return new Entity(
    {
      model: { entity: "orderFailureNote", version: "1", service: "payments" },
      attributes: {
        messageId: { type: "string", required: true },
        receiveCount: { type: "number", required: true },
        orderId: { type: "string" },
        paymentId: { type: "string" },
        reason: { type: "string", required: true },
        at: { type: "string", required: true },
      },
      indexes: {
        byMessage: {
          pk: {
            field: readModelTable.partitionKey,
            composite: ["messageId"],
            template: "ordermessage#${messageId}",
            casing: "none",
          },
          sk: { field: readModelTable.sortKey, composite: [], template: "failure", casing: "none" },
        },
      },
    },
    { client, table },
  );
}

/**
 * Failure notes in the read-model table, one per order message that failed on the receive after
 * which SQS moves it to the DLQ. Written only then, so a healthy queue writes none; the console
 * reads them beside the DLQ's messages, and removes a note when it redrives its message.
 */
export function createOrderFailureNotes(options: {
  client: DynamoDBClient;
  tableName: string;
}): OrderFailureNotes {
  const entity = noteEntity(DynamoDBDocumentClient.from(options.client), options.tableName);
  return {
    async note(note) {
      await entity.put({ ...note, reason: note.reason.slice(0, 2000) }).go();
    },
    async get(messageIds) {
      const found = new Map<string, OrderFailureNote>();
      if (messageIds.length === 0) return found;
      const { data } = await entity.get(messageIds.map((messageId) => ({ messageId }))).go();
      for (const item of data) found.set(item.messageId, item);
      return found;
    },
    async remove(messageIds) {
      if (messageIds.length === 0) return;
      await entity.delete(messageIds.map((messageId) => ({ messageId }))).go();
    },
  };
}
