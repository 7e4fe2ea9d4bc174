import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { electro, eventStoreTable } from "@payments/topology";
import { Entity } from "electrodb";

/** Versions are zero-padded in the sort key so that they sort as numbers (SPEC §3). */
export const VERSION_PAD = 10;

/**
 * One item per event: partition key = payment id, sort key = zero-padded version.
 * The items are the outbox too: the table's stream carries each exactly once (SPEC §3).
 */
export function eventEntity(client: DynamoDBDocumentClient, table: string) {
  return new Entity(
    {
      model: { entity: electro.entities.event, version: "1", service: electro.service },
      attributes: {
        paymentId: { type: "string", required: true },
        version: { type: "number", required: true, padding: { length: VERSION_PAD, char: "0" } },
        id: { type: "string", required: true },
        type: { type: "string", required: true },
        schemaVersion: { type: "number", required: true },
        occurredAt: { type: "string", required: true },
        data: { type: "any", required: true },
        metadata: { type: "any", required: true },
      },
      indexes: {
        stream: {
          pk: {
            field: eventStoreTable.partitionKey,
            composite: ["paymentId"],
            template: "${paymentId}",
            casing: "none",
          },
          sk: {
            field: eventStoreTable.sortKey,
            composite: ["version"],
            template: "${version}",
            casing: "none",
            cast: "string",
          },
        },
      },
    },
    { client, table },
  );
}

/** A value held by one payment alone: an orderId, a provider reference, a webhook event id. */
export function uniqueEntity(client: DynamoDBDocumentClient, table: string) {
  return new Entity(
    {
      model: { entity: electro.entities.unique, version: "1", service: electro.service },
      attributes: {
        kind: { type: "string", required: true },
        value: { type: "string", required: true },
        paymentId: { type: "string", required: true },
        createdAt: { type: "string", required: true },
        /** The customer whose velocity count was written with this claim's append (an initiation). */
        countedFor: { type: "string" },
      },
      indexes: {
        claim: {
          // '#' cannot appear in a payment id, so these keys never meet an event stream's.
          pk: {
            field: eventStoreTable.partitionKey,
            composite: ["kind", "value"],
            template: "unique#${kind}#${value}",
            casing: "none",
          },
          sk: { field: eventStoreTable.sortKey, composite: [], template: "unique", casing: "none" },
        },
      },
    },
    { client, table },
  );
}
