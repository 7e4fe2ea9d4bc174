import { describe, expect, it } from "vitest";
import { matches, matchesAny } from "./filter-pattern";

const record = {
  eventName: "INSERT",
  dynamodb: { NewImage: { __edb_e__: { S: "event" }, type: { S: "PaymentCaptured" }, version: { N: "3" } } },
};

describe("Lambda event filter patterns", () => {
  it("match exact values, nested", () => {
    expect(matches({ dynamodb: { NewImage: { __edb_e__: { S: ["event"] } } } }, record)).toBe(true);
    expect(matches({ dynamodb: { NewImage: { __edb_e__: { S: ["unique"] } } } }, record)).toBe(false);
    expect(matches({ eventName: ["INSERT", "MODIFY"] }, record)).toBe(true);
  });

  it("support prefix, exists, anything-but and numeric", () => {
    expect(matches({ dynamodb: { NewImage: { type: { S: [{ prefix: "Payment" }] } } } }, record)).toBe(true);
    expect(matches({ dynamodb: { OldImage: [{ exists: false }] } }, record)).toBe(true);
    expect(matches({ dynamodb: { NewImage: [{ exists: false }] } }, record)).toBe(false);
    expect(matches({ eventName: [{ "anything-but": ["REMOVE"] }] }, record)).toBe(true);
    expect(matches({ eventName: [{ "anything-but": "INSERT" }] }, record)).toBe(false);
    expect(
      matches({ dynamodb: { NewImage: { version: { N: [{ numeric: [">", 2, "<=", 3] }] } } } }, record),
    ).toBe(true);
    expect(matches({ dynamodb: { NewImage: { version: { N: [{ numeric: [">", 3] }] } } } }, record)).toBe(
      false,
    );
  });

  it("pass everything when there is no filter, and OR several filters", () => {
    expect(matchesAny(undefined, record)).toBe(true);
    expect(matchesAny([{ eventName: ["REMOVE"] }, { eventName: ["INSERT"] }], record)).toBe(true);
    expect(matchesAny([{ eventName: ["REMOVE"] }], record)).toBe(false);
  });
});
