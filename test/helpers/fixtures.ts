import type { PaymentEvent, PaymentEventOf, PaymentEventType } from "@payments/events";
import { loadSample } from "@payments/events/samples";

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
