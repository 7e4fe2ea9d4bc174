import { describe, expect, it } from "vitest";
import { ratePeriodMs } from "./schedule-driver";

describe("rate expressions", () => {
  it("read minutes, hours and days", () => {
    expect(ratePeriodMs("rate(1 minute)")).toBe(60_000);
    expect(ratePeriodMs("rate(5 minutes)")).toBe(300_000);
    expect(ratePeriodMs("rate(1 day)")).toBe(86_400_000);
  });

  it("refuse what EventBridge refuses, saying what it wants", () => {
    expect(() => ratePeriodMs("rate(1 minutes)")).toThrow('EventBridge wants "rate(1 minute)"');
    expect(() => ratePeriodMs("rate(5 minute)")).toThrow('"rate(5 minutes)"');
    expect(() => ratePeriodMs("cron(0 12 * * ? *)")).toThrow("is not a rate expression");
  });
});
