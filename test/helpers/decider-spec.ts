import { decidePayment, evolvePayment, initialPaymentState, type PaymentCommand } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { expect } from "vitest";

export const TEST_PAYMENT_ID = "pay_01JTEST0000000000000000000";

/**
 * Decider tests as given/when/then:
 * `given([events]).when(command).then([events])` or `.thenThrows(SomeError, { rule })`.
 */
export function given(history: readonly PaymentEvent[]) {
  const state = history.reduce(evolvePayment, initialPaymentState);
  return {
    when(command: PaymentCommand) {
      const run = () => decidePayment(command, state, { paymentId: TEST_PAYMENT_ID });
      return {
        // biome-ignore lint/suspicious/noThenProperty: the house given/when/then form; never awaited.
        then(expected: readonly PaymentEvent[]) {
          expect(run()).toEqual(expected);
        },
        thenThrows(error: abstract new (...args: never[]) => Error, fields: Record<string, unknown> = {}) {
          let thrown: unknown;
          try {
            run();
          } catch (e) {
            thrown = e;
          }
          expect(thrown).toBeInstanceOf(error);
          expect(thrown).toMatchObject(fields);
        },
      };
    },
  };
}
