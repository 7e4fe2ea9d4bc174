import { type EventEnvelope, paymentEventSchemas } from "@payments/events";
import { loadSample, loadSamples } from "@payments/events/samples";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../../test/helpers/fixtures";
import { propertyRuns } from "../../../test/helpers/property";
import { EventSchemaError, EventTooLargeError } from "./errors";
import {
  assertLoadable,
  assertPublishable,
  EVENTBRIDGE_ENTRY_LIMIT_BYTES,
  parseRecordedEvent,
  toRecordedEvent,
} from "./event-envelope";

const metadata = { correlationId: "ord-1", causationId: "msg-1", source: "test" };

describe("parseRecordedEvent", () => {
  it("parses every sample envelope with its schema", () => {
    const samples = loadSamples("envelopes");
    expect(samples.map((s) => s.variant)).toEqual(expect.arrayContaining(Object.keys(paymentEventSchemas)));
    for (const { body } of samples) expect(() => parseRecordedEvent(body)).not.toThrow();
  });

  it("upcasts a v1 PaymentFailed to the current version", () => {
    const event = parseRecordedEvent(loadSample("envelopes", "PaymentFailed.v1"));
    expect(event.schemaVersion).toBe(2);
    expect(event.data).toEqual({
      code: "card_declined",
      message: "Your card was declined.",
      retryable: false,
    });
  });

  it("refuses data that matches no version of its schema", () => {
    const sample = loadSample<EventEnvelope>("envelopes", "PaymentCaptured");
    sample.data.amount = 25.99;
    expect(() => parseRecordedEvent(sample)).toThrow(EventSchemaError);
  });

  it("refuses a schema version newer than this code knows", () => {
    const sample = loadSample<EventEnvelope>("envelopes", "PaymentCaptured");
    sample.schemaVersion = 7;
    expect(() => parseRecordedEvent(sample)).toThrow("this code reads up to v1");
  });
});

describe("assertLoadable", () => {
  it("gives the read path's answer for every envelope at the current schema version", () => {
    const current = loadSamples("envelopes")
      .map((s) => s.body as EventEnvelope)
      .filter((b) => paymentEventSchemas[b.type].schemaVersion === b.schemaVersion);
    const anyOf = (...values: unknown[]) => fc.constantFrom(...values);
    const mutation = fc.record(
      {
        id: anyOf("", "01J", 7),
        paymentId: fc.oneof(
          anyOf("pay_1", "", "a".repeat(65), "bad id", "ok-Id_9"),
          fc.string({ maxLength: 70 }),
        ),
        version: anyOf(1, 2, 0, -1, 1.5, "1"),
        occurredAt: anyOf(
          "2026-11-20T10:00:00.000Z",
          "2026-11-20T10:00:00+01:00",
          "2026-11-20T10:00Z",
          "2026-13-40T10:00:00Z",
          "2026-11-20",
          "yesterday",
        ),
        metadata: anyOf(
          metadata,
          { ...metadata, replay: true },
          { ...metadata, replay: "yes" },
          { ...metadata, extra: 1 },
          { correlationId: "", causationId: "c", source: "s" },
          null,
        ),
        data: anyOf("keep", null, [], { amount: 25.99 }, {}),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.constantFrom(...current), mutation, (sample, m) => {
        const { data, ...fields } = m;
        const envelope = {
          ...sample,
          ...fields,
          data: data === undefined || data === "keep" ? sample.data : data,
        } as never;
        const reads = (() => {
          try {
            parseRecordedEvent(envelope);
            return true;
          } catch {
            return false;
          }
        })();
        const writes = (() => {
          try {
            assertLoadable(envelope);
            return true;
          } catch (error) {
            expect(error).toBeInstanceOf(EventSchemaError);
            return false;
          }
        })();
        expect(writes).toBe(reads);
      }),
      propertyRuns(3000),
    );
  });

  it("refuses an old schema version and an unknown type, which the write path never writes", () => {
    const failed = loadSample<EventEnvelope>("envelopes", "PaymentFailed.v1");
    expect(() => assertLoadable(failed as never)).toThrow("the write path writes v2");
    const captured = loadSample<EventEnvelope>("envelopes", "PaymentCaptured");
    expect(() => assertLoadable({ ...captured, type: "PaymentTeleported" } as never)).toThrow(
      "unknown event type",
    );
  });
});

describe("assertPublishable", () => {
  const envelope = {
    paymentId: "pay_1",
    version: 1,
    id: "01J",
    occurredAt: "2026-11-20T10:00:00.000Z",
    metadata,
  };

  it("accepts an ordinary event", () => {
    expect(() => assertPublishable(toRecordedEvent(sampleEvent("PaymentInitiated"), envelope))).not.toThrow();
  });

  it("refuses an event whose envelope is over EventBridge's 256 KB entry limit", () => {
    const huge = sampleEvent("PaymentCanceled", { reason: "x".repeat(EVENTBRIDGE_ENTRY_LIMIT_BYTES) });
    expect(() => assertPublishable(toRecordedEvent(huge, envelope))).toThrow(EventTooLargeError);
  });
});
