import { marshall } from "@aws-sdk/util-dynamodb";
import type { RecordedEvent } from "@payments/core";
import type { PaymentEvent, PaymentEventOf, PaymentEventType } from "@payments/events";
import { loadSample } from "@payments/events/samples";
import type { DynamoDBRecord } from "aws-lambda";

/**
 * A domain event from events/samples/envelopes, with some data overridden. Each call parses the
 * sample afresh, so tests never share an object.
 */
export function sampleEvent<T extends PaymentEventType>(
  type: T,
  overrides: Partial<PaymentEventOf<T>["data"]> = {},
): PaymentEventOf<T> {
  const envelope = loadSample<{ type: T; data: PaymentEventOf<T>["data"] }>("envelopes", type);
  return { type, data: { ...envelope.data, ...overrides } } as unknown as PaymentEventOf<T>;
}

/** Histories of a usd 25.99 payment at each status. */
export const history = {
  initiated: (): PaymentEvent[] => [sampleEvent("PaymentInitiated")],
  screened: (): PaymentEvent[] => [...history.initiated(), sampleEvent("PaymentScreened")],
  authorized: (): PaymentEvent[] => [
    ...history.screened(),
    sampleEvent("PaymentIntentCreated"),
    sampleEvent("PaymentAuthorized"),
  ],
  captured: (): PaymentEvent[] => [...history.authorized(), sampleEvent("PaymentCaptured")],
  partiallyRefunded: (): PaymentEvent[] => [...history.captured(), sampleEvent("PaymentRefunded")],
};

/** A stream record as DynamoDB Streams carries an event item, at a sequence number. */
export const streamRecord = (event: RecordedEvent, sequence: number): DynamoDBRecord => ({
  eventName: "INSERT",
  dynamodb: {
    SequenceNumber: String(sequence).padStart(21, "0"),
    NewImage: marshall({
      ...event,
      pk: event.paymentId,
      sk: String(event.version).padStart(10, "0"),
      __edb_e__: "event",
    }) as never,
  },
});
