import { describe, expect, it } from "vitest";
import { lambdaRuntimeDates, runtimeStanding } from "./runtime";

describe("runtimeStanding", () => {
  it("calls nodejs20.x deprecated from April 30, 2026, the date AWS gives", () => {
    expect(runtimeStanding("nodejs20.x", new Date("2026-04-29T23:59:59Z")).status).toBe("deprecating");
    expect(runtimeStanding("nodejs20.x", new Date("2026-04-30T00:00:00Z"))).toEqual({
      runtime: "nodejs20.x",
      status: "deprecated",
      deprecation: "2026-04-30",
      blockCreate: "2026-08-31",
    });
  });

  it("warns from 12 months before the deprecation date, with the days left", () => {
    expect(runtimeStanding("nodejs24.x", new Date("2027-04-29T23:59:59Z")).status).toBe("supported");
    expect(runtimeStanding("nodejs24.x", new Date("2027-04-30T00:00:00Z"))).toEqual({
      runtime: "nodejs24.x",
      status: "deprecating",
      deprecation: "2028-04-30",
      daysLeft: 366,
    });
    expect(runtimeStanding("nodejs22.x", new Date("2026-12-04T00:00:00Z"))).toMatchObject({
      status: "deprecating",
      daysLeft: 147,
    });
  });

  it("refuses to vouch for a runtime it has no dates for, prototype names included", () => {
    expect(runtimeStanding("nodejs26.x", new Date("2026-12-04")).status).toBe("unknown");
    expect(runtimeStanding("constructor", new Date("2026-12-04")).status).toBe("unknown");
  });

  it("keeps each row's dates in AWS's order: deprecation, then create blocked, then update blocked", () => {
    for (const [runtime, d] of Object.entries(lambdaRuntimeDates)) {
      expect(d.deprecation < d.blockCreate && d.blockCreate < d.blockUpdate, runtime).toBe(true);
    }
  });
});
