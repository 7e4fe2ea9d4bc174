import { describe, expect, it } from "vitest";
import { given } from "../../../test/helpers/decider-spec";
import { authorized10000, initiate, refusedCommands } from "../../../test/helpers/invalid-commands";
import { InvalidCommandError } from "./errors";

describe("commands are validated before they are decided", () => {
  it.each(refusedCommands)("refuses %s with a typed error naming the rule", (_, historyOf, command, rule) => {
    given(historyOf()).when(command).thenThrows(InvalidCommandError, { rule });
  });

  it("names the command, the field and the rule in its message", () => {
    given(authorized10000())
      .when({ type: "CapturePayment", amount: -500 })
      .thenThrows(InvalidCommandError, {
        commandType: "CapturePayment",
        field: "amount",
        message: expect.stringContaining("rule amount_not_positive"),
      });
  });

  it("records a provider's notice of money received above the charge ceiling", () => {
    given([])
      .when(initiate({ amount: 250_000_000, source: "webhook", provider: "zalopay" }))
      .then([
        {
          type: "PaymentInitiated",
          data: {
            orderId: "ord-1",
            amount: 250_000_000,
            currency: "usd",
            paymentMethod: { type: "card", token: "pm_card_visa" },
            captureMethod: "automatic",
            source: "webhook",
            provider: "zalopay",
          },
        },
      ]);
  });
});
