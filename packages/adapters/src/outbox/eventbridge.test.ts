import { describe, expect, it } from "vitest";
import { xrayTraceHeader } from "./eventbridge";

describe("xrayTraceHeader", () => {
  it("writes a W3C traceparent as X-Ray's trace header: the same 32 hex digits as 1-<8>-<24>", () => {
    // AWS's X-Ray documentation gives the trace id 1-58406520-a006649127e371903a2de979, which is
    // 58406520a006649127e371903a2de979 in W3C's format.
    expect(xrayTraceHeader("00-58406520a006649127e371903a2de979-53995c3f42cd8ad8-01")).toBe(
      "Root=1-58406520-a006649127e371903a2de979;Parent=53995c3f42cd8ad8;Sampled=1",
    );
    expect(xrayTraceHeader("00-58406520a006649127e371903a2de979-53995c3f42cd8ad8-00")).toMatch(/;Sampled=0$/);
    // Only the sampled bit counts: 0x09 is sampled with another flag set.
    expect(xrayTraceHeader("00-58406520a006649127e371903a2de979-53995c3f42cd8ad8-09")).toMatch(/;Sampled=1$/);
  });
});
