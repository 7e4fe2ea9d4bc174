import { linkedEnvironment } from "@payments/local";
import { afterEach, describe, expect, it, vi } from "vitest";
import { testStack } from "../helpers/stack";

/** The function's module is loaded afresh for each case, as a cold start loads it. */
describe("process-payment's configuration, checked at cold start", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.resetModules();
  });

  // A fresh module graph has its own error classes, so the error is matched by name.
  it.each([
    [{ FRAUD_REVIEW_AT: "abc" }, "ConfigurationError", "FRAUD_REVIEW_AT"],
    [{ FRAUD_REJECT_AT: "" }, "ConfigurationError", "FRAUD_REJECT_AT"],
    [{ FRAUD_REVIEW_AT: "90", FRAUD_REJECT_AT: "80" }, "ConfigurationError", "above FRAUD_REJECT_AT"],
    [{ DEFAULT_CURRENCY: "dollars" }, "InvalidCurrencyError", "not an ISO 4217 code"],
  ])("refuses to start with %j", async (config, name, reason) => {
    Object.assign(process.env, linkedEnvironment(testStack()), config);
    vi.resetModules();
    await expect(import("@payments/functions/process-payment")).rejects.toMatchObject({
      name,
      message: expect.stringContaining(reason),
    });
  });

  it("starts with the defaults", async () => {
    Object.assign(process.env, linkedEnvironment(testStack()));
    delete process.env.FRAUD_REVIEW_AT;
    delete process.env.FRAUD_REJECT_AT;
    vi.resetModules();
    await expect(import("@payments/functions/process-payment")).resolves.toHaveProperty("handler");
  });
});
