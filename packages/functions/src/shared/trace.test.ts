import { TRACEPARENT } from "@payments/events";
import { describe, expect, it } from "vitest";
import { continueTrace, traceIdOf } from "./trace";

// The W3C Trace Context recommendation's own example of a traceparent.
const W3C_EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("continueTrace", () => {
  it("continues a caller's trace: its trace id and flags, with a span of this service's own", () => {
    const ours = continueTrace(W3C_EXAMPLE);
    expect(ours).toMatch(TRACEPARENT);
    expect(ours.split("-")[1]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(ours.split("-")[3]).toBe("01");
    expect(ours.split("-")[2]).not.toBe("00f067aa0ba902b7");
    expect(continueTrace(W3C_EXAMPLE.toUpperCase()).split("-")[1]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("starts a trace when there is none, or the one given is not well formed (the W3C says to ignore it)", () => {
    for (const given of [
      undefined,
      "",
      "not a traceparent",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero parent id
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // a version this service does not read
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // a short trace id
    ]) {
      const started = continueTrace(given);
      expect(started, String(given)).toMatch(TRACEPARENT);
      expect(started.split("-")[1]).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    }
  });

  it("starts the same trace for every delivery of one message, and different ones for two", () => {
    const first = continueTrace(undefined, "message-1");
    const again = continueTrace(undefined, "message-1");
    expect(traceIdOf(first)).toBe(traceIdOf(again));
    expect(first).not.toBe(again);
    expect(traceIdOf(continueTrace(undefined, "message-2"))).not.toBe(traceIdOf(first));
    // A given traceparent wins over the message.
    expect(traceIdOf(continueTrace(W3C_EXAMPLE, "message-1"))).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("gives the trace id of a well-formed traceparent only: nothing a caller sends reaches a log as is", () => {
    expect(traceIdOf(W3C_EXAMPLE)).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(traceIdOf("00-x\nforged-log-line")).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
  });
});
