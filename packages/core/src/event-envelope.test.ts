import { type EventEnvelope, paymentEventSchemas } from "@payments/events";
import { loadSample, loadSamples } from "@payments/events/samples";
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../../test/helpers/fixtures";
import { EventSchemaError, EventTooLargeError } from "./errors";
import {
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
