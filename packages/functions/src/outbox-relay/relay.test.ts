import type { DeliveryCursor } from "@payments/adapters/dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { propertyRuns } from "../../../../test/helpers/property";
import { nextCursor } from "./relay";

describe("nextCursor", () => {
  it("never moves delivered or latest back, is current exactly when caught up, and fails only after the sweeps", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ delivered: fc.nat(20), latest: fc.nat(20), swept: fc.boolean() }), {
          minLength: 1,
          maxLength: 30,
        }),
        (attempts) => {
          let cursor: DeliveryCursor | undefined;
          // A redrive in between: failed → lagging with the sweeps reset, its failure record kept.
          const redrive = (c: DeliveryCursor): DeliveryCursor => ({ ...c, state: "lagging", sweeps: 0 });
          let opened = 0;
          let resolved = 0;
          attempts.forEach((a, i) => {
            const before: DeliveryCursor | undefined =
              cursor?.state === "failed" && i % 4 === 0 ? redrive(cursor) : cursor;
            const next = nextCursor(
              before,
              {
                paymentId: "p",
                sink: "kafka",
                delivered: a.delivered,
                latest: Math.max(a.latest, a.delivered),
                swept: a.swept,
                at: `t${String(i).padStart(3, "0")}`,
              },
              3,
            );
            cursor = next.cursor;
            expect(cursor.delivered).toBeGreaterThanOrEqual(before?.delivered ?? 0);
            expect(cursor.latest).toBeGreaterThanOrEqual(before?.latest ?? 0);
            expect(cursor.latest).toBeGreaterThanOrEqual(cursor.delivered);
            expect(cursor.state === "current").toBe(cursor.delivered === cursor.latest);
            expect(cursor.revision).toBe((before?.revision ?? 0) + 1);
            if (cursor.state === "failed") expect(cursor.sweeps).toBeGreaterThanOrEqual(3);
            if (cursor.state === "lagging") expect(cursor.sweeps).toBeLessThan(3);
            if (next.openFailure) opened++;
            if (next.resolveFailure) resolved++;
            // A failure is opened once per fall, and resolved only when one is open.
            expect(opened - resolved).toBe(cursor.failureKey ? 1 : 0);
            if (cursor.state === "current") expect(cursor.failureKey).toBeUndefined();
          });
        },
      ),
      propertyRuns(2000),
    );
  });
});
