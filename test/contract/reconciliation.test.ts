import { existsSync } from "node:fs";
import { DriftClass } from "@payments/events";
import { reconcilerConfigFromEnv } from "@payments/functions/reconciler/reconciler";
import { alarms, functionHandlers, reconcilerDefaults, schedules } from "@payments/topology";
import { describe, expect, it } from "vitest";

describe("the reconciler's settings (SPEC §6.1)", () => {
  it("alarms on every drift class the events name, and nothing else", () => {
    expect([...alarms.reconciliationDrift.classes].sort()).toEqual([...DriftClass.options].sort());
  });

  it("runs every 5 minutes on AWS from a handler that exists, on payments open 10 minutes (30 s in dev)", () => {
    expect(schedules.reconciler.expression).toBe("rate(5 minutes)");
    const [file] = functionHandlers.reconciler.split(/\.(?=[^.]+$)/);
    expect(existsSync(`${file}.ts`)).toBe(true);
    expect(reconcilerConfigFromEnv({})).toMatchObject({
      afterMs: reconcilerDefaults.afterSeconds * 1000,
      maxPerRun: reconcilerDefaults.maxPerRun,
    });
    expect(reconcilerDefaults).toMatchObject({ afterSeconds: 600, devAfterSeconds: 30 });
  });

  it("reads RECONCILE_AFTER in seconds and refuses what is not a number of them", () => {
    expect(reconcilerConfigFromEnv({ RECONCILE_AFTER: "30" }).afterMs).toBe(30_000);
    expect(() => reconcilerConfigFromEnv({ RECONCILE_AFTER: "ten" })).toThrow(/RECONCILE_AFTER/);
    expect(() => reconcilerConfigFromEnv({ RECONCILE_AFTER: "-1" })).toThrow(/RECONCILE_AFTER/);
  });
});
