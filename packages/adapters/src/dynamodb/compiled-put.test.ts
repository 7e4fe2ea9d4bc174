import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, type PutCommandInput } from "@aws-sdk/lib-dynamodb";
import { parseRecordedEvent } from "@payments/core";
import { loadSamples } from "@payments/events/samples";
import { describe, expect, it } from "vitest";
import { compileCreate } from "./compiled-put";
import { eventEntity, uniqueEntity } from "./entities";
import { compileClaimPut, compileEventPut, eventItem } from "./event-store";

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" }));
const events = eventEntity(doc, "EventStore-test");
const uniques = uniqueEntity(doc, "EventStore-test");

describe("compiled ElectroDB puts", () => {
  it("equal ElectroDB's own params for every sample event at many versions and ids", () => {
    const compiled = compileEventPut(events);
    const versions = [1, 2, 9, 10, 99, 12_345, 1_000_000, 9_999_999_999];
    const paymentIds = ["pay_01JD3Q8Z6X9V2K4M7N1P5R8T0W", "ORDER-42_b", "a", "x".repeat(64)];
    let compared = 0;
    for (const { body } of loadSamples("envelopes")) {
      const event = parseRecordedEvent(body);
      for (const version of versions) {
        for (const paymentId of paymentIds) {
          const item = eventItem({ ...event, version, paymentId });
          expect(compiled(item)).toEqual(events.create(item).params<PutCommandInput>());
          compared++;
        }
      }
    }
    expect(compared).toBe(loadSamples("envelopes").length * versions.length * paymentIds.length);
  });

  it("equal ElectroDB's own params for uniqueness rows of every kind", () => {
    const compiled = compileClaimPut(uniques);
    for (const kind of ["orderId", "providerReference", "webhookEvent"]) {
      for (const value of ["ord-1", "unmatched:zalopay:240101_123", "evt_1#2", "ÄÖ ü"]) {
        const item = { kind, value, paymentId: "pay_1", createdAt: "2026-11-20T10:00:00.000Z" };
        expect(compiled(item)).toEqual(uniques.create(item).params<PutCommandInput>());
        // An initiation's claim that its payment was counted with it.
        const counted = { ...item, countedFor: "cus-42" };
        expect(compiled(counted)).toEqual(uniques.create(counted).params<PutCommandInput>());
      }
    }
  });

  it("refuse at compile time an item that differs from ElectroDB's", () => {
    const sample = { kind: "orderId", value: "ord-1", paymentId: "pay_1", createdAt: "" };
    const generate = (item: typeof sample) => uniques.create(item).params<PutCommandInput>();
    expect(() =>
      compileCreate(generate, sample, ({ entity, entityVersion }) => (item) => ({
        ...item,
        PK: `unique#${item.kind}#${item.value}`,
        sk: "unique",
        __edb_e__: entity,
        __edb_v__: entityVersion,
      })),
    ).toThrow("the compiled create differs from ElectroDB's");
  });
});
