import type { PaymentCommand } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { history, sampleEvent } from "./fixtures";

/** A usd 100.00 payment, authorized in full. */
export const authorized10000 = (): PaymentEvent[] => [
  sampleEvent("PaymentInitiated", { amount: 10_000 }),
  sampleEvent("PaymentScreened"),
  sampleEvent("PaymentIntentCreated"),
  sampleEvent("PaymentAuthorized", { amountAuthorized: 10_000 }),
];
export const captured10000 = (): PaymentEvent[] => [
  ...authorized10000(),
  sampleEvent("PaymentCaptured", { amount: 10_000, totalCaptured: 10_000 }),
];
export const initiate = (overrides: Record<string, unknown> = {}) =>
  ({
    type: "InitiatePayment",
    orderId: "ord-1",
    amount: 2599,
    currency: "usd",
    paymentMethod: { type: "card", token: "pm_card_visa" },
    captureMethod: "automatic",
    source: "api",
    provider: "stripe",
    ...overrides,
  }) as PaymentCommand;

/** The inputs an adversarial review appended to main; each must now be refused with its rule. */
export const refusedCommands: Array<[string, () => PaymentEvent[], PaymentCommand, string]> = [
  ["a capture of 0", authorized10000, { type: "CapturePayment", amount: 0 }, "amount_not_positive"],
  ["a capture of -500", authorized10000, { type: "CapturePayment", amount: -500 }, "amount_not_positive"],
  [
    "a capture of 1.5",
    authorized10000,
    { type: "CapturePayment", amount: 1.5 },
    "amount_not_whole_minor_units",
  ],
  [
    "a capture of NaN",
    authorized10000,
    { type: "CapturePayment", amount: Number.NaN },
    "amount_not_a_number",
  ],
  [
    "a capture of Infinity",
    authorized10000,
    { type: "CapturePayment", amount: Number.POSITIVE_INFINITY },
    "amount_not_a_number",
  ],
  [
    "a refund of -500",
    captured10000,
    { type: "RefundPayment", refundId: "re_1", amount: -500 },
    "amount_not_positive",
  ],
  [
    "a refund of 1.5",
    captured10000,
    { type: "RefundPayment", refundId: "re_1", amount: 1.5 },
    "amount_not_whole_minor_units",
  ],
  [
    "a refund of NaN",
    captured10000,
    { type: "RefundPayment", refundId: "re_1", amount: Number.NaN },
    "amount_not_a_number",
  ],
  ["a refund with an empty refundId", captured10000, { type: "RefundPayment", refundId: "" }, "text_empty"],
  [
    "an authorization of 0",
    history.screened,
    {
      type: "AuthorizePayment",
      gateway: "stripe",
      gatewayPaymentId: "pi_1",
      amountAuthorized: 0,
      captured: false,
    },
    "amount_not_positive",
  ],
  [
    "an authorization of -5",
    history.screened,
    {
      type: "AuthorizePayment",
      gateway: "stripe",
      gatewayPaymentId: "pi_1",
      amountAuthorized: -5,
      captured: false,
    },
    "amount_not_positive",
  ],
  ["a payment of -1", () => [], initiate({ amount: -1 }), "amount_not_positive"],
  ["a payment in USD (upper case)", () => [], initiate({ currency: "USD" }), "currency_unknown"],
  ["a payment in an unknown currency", () => [], initiate({ currency: "xyz" }), "currency_unknown"],
  ["a payment over Stripe's ceiling", () => [], initiate({ amount: 100_000_000 }), "amount_over_limit"],
  [
    "an order id with a control character",
    () => [],
    initiate({ orderId: "ord\u0000-1" }),
    "control_characters",
  ],
  ["a customer id with a line break", () => [], initiate({ customerId: "cus\n42" }), "control_characters"],
  ["an order id of 256 characters", () => [], initiate({ orderId: "o".repeat(256) }), "text_too_long"],
  [
    "a failure with an empty code",
    history.initiated,
    { type: "FailPayment", code: "", message: "m", retryable: false },
    "text_empty",
  ],
  [
    "a cancel reason over 500 characters",
    authorized10000,
    { type: "CancelPayment", reason: "r".repeat(501) },
    "text_too_long",
  ],
  [
    "screening with a NaN activity count",
    history.initiated,
    {
      type: "ScreenPayment",
      activity: {
        paymentsLast10Minutes: Number.NaN,
        paymentsLastHour: 0,
        declinesLastHour: 0,
        declinesLastDay: 0,
        lifetimePayments: 0,
      },
      thresholds: { reviewAt: 60, rejectAt: 85 },
    },
    "not_a_number",
  ],
  [
    "screening with a review threshold of 0",
    history.initiated,
    {
      type: "ScreenPayment",
      activity: {
        paymentsLast10Minutes: 0,
        paymentsLastHour: 0,
        declinesLastHour: 0,
        declinesLastDay: 0,
        lifetimePayments: 0,
      },
      thresholds: { reviewAt: 0, rejectAt: 85 },
    },
    "number_too_small",
  ],
  [
    "a command with a field it does not have",
    authorized10000,
    { type: "CapturePayment", amount: 100, extra: true } as PaymentCommand,
    "unknown_field",
  ],
];
