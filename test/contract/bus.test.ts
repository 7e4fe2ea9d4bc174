import { readFileSync } from "node:fs";
import { join } from "node:path";
import { paymentEventSchemas } from "@payments/events";
import { paymentEventsAsyncApi } from "@payments/events/json-schemas";
import { busEventTypes, eventBus, sinkCarries } from "@payments/topology";
import { describe, expect, it } from "vitest";
import { SPEC_PUBLIC_EVENTS } from "../helpers/relay";

/** SPEC §5: the bus carries the public events, listed once in packages/topology; Kafka every event. */
describe("the public events", () => {
  it("are SPEC §5's list, each an event type of the catalogue", () => {
    expect([...busEventTypes].sort()).toEqual([...SPEC_PUBLIC_EVENTS].sort());
    for (const type of busEventTypes) expect(Object.keys(paymentEventSchemas)).toContain(type);
  });

  it("are all a bus rule can match, and Kafka carries every event type", () => {
    for (const rule of Object.values(eventBus.rules))
      for (const type of rule.pattern["detail-type"]) expect(busEventTypes, rule.name).toContain(type);
    for (const type of Object.keys(paymentEventSchemas)) {
      expect(sinkCarries("kafka", type)).toBe(true);
      expect(sinkCarries("eventbridge", type), type).toBe(SPEC_PUBLIC_EVENTS.has(type));
    }
  });

  it("are the messages of the AsyncAPI document's bus, which is the file npm run schemas writes", () => {
    const file = JSON.parse(readFileSync(join(process.cwd(), "events", "asyncapi.json"), "utf8"));
    expect(file).toEqual(paymentEventsAsyncApi(busEventTypes));
    const bus = Object.keys(file.channels.paymentsBus.messages).sort();
    expect(bus).toEqual([...SPEC_PUBLIC_EVENTS].sort());
    expect(Object.keys(file.channels.paymentsTopic.messages).sort()).toEqual(
      Object.keys(paymentEventSchemas).sort(),
    );
  });
});
