import type { PaymentEvent } from "@payments/events";
import { describe, expect, it } from "vitest";
import { given } from "../../../test/helpers/decider-spec";
import { history, sampleEvent } from "../../../test/helpers/fixtures";
import { LifecycleRuleError, PaymentNotFoundError } from "./errors";
import { defaultFraudThresholds, noActivity } from "./fraud";
import type { PaymentCommand } from "./payment-commands";
import { decidePayment } from "./payment-decider";
import { evolvePayment, initialPaymentState } from "./payment-state";

/** The events a list of commands appends, decided one after the other on `history`. */
function decideAll(history: readonly PaymentEvent[], commands: readonly PaymentCommand[]): PaymentEvent[] {
  let state = history.reduce(evolvePayment, initialPaymentState);
  const out: PaymentEvent[] = [];
  for (const command of commands) {
    for (const event of decidePayment(command, state, { paymentId: "pay_test" })) {
      state = evolvePayment(state, event);
      out.push(event);
    }
  }
  return out;
}

const initiate: PaymentCommand = {
  type: "InitiatePayment",
  orderId: "ord-10001",
  customerId: "cus-42",
  amount: 2599,
  currency: "usd",
  paymentMethod: { type: "card", token: "pm_card_visa" },
  captureMethod: "manual",
  source: "queue",
  provider: "stripe",
  billingAddress: { street: "1 Main St", city: "Springfield", state: "IL", zip: "62701" },
};
const screen = (activity = noActivity): PaymentCommand => ({
  type: "ScreenPayment",
  activity,
  thresholds: defaultFraudThresholds,
});
const authorize = (
  overrides: Partial<Extract<PaymentCommand, { type: "AuthorizePayment" }>> = {},
): PaymentCommand => ({
  type: "AuthorizePayment",
  gateway: "stripe",
  gatewayPaymentId: "pi_3QH1example0001",
  amountAuthorized: 2599,
  authorizationCode: "123456",
  captured: false,
  ...overrides,
});
const rule = (name: string) => ({ rule: name });

describe("initiating a payment", () => {
  it("records the request as PaymentInitiated", () => {
    given([])
      .when(initiate)
      .then([sampleEvent("PaymentInitiated")]);
  });

  it("refuses to initiate a payment that already exists", () => {
    given(history.initiated()).when(initiate).thenThrows(LifecycleRuleError, rule("payment_already_exists"));
  });

  it("refuses any other command on a payment that does not exist", () => {
    given([]).when({ type: "CapturePayment" }).thenThrows(PaymentNotFoundError);
  });
});

describe("screening", () => {
  it("approves an ordinary first payment with a full address", () => {
    given(history.initiated())
      .when(screen())
      .then([{ type: "PaymentScreened", data: { score: 0, decision: "approve", reasons: [] } }]);
  });

  it("approves a payment that scores just under the review threshold", () => {
    given(history.initiated())
      .when(screen({ ...noActivity, paymentsLast10Minutes: 5, declinesLastDay: 1, lifetimePayments: 9 }))
      .then([
        {
          type: "PaymentScreened",
          data: { score: 55, decision: "approve", reasons: ["velocity_burst", "recent_declines"] },
        },
      ]);
  });

  it("holds a payment for review when the score reaches the review threshold", () => {
    given(history.initiated())
      .when(screen({ ...noActivity, paymentsLast10Minutes: 12, lifetimePayments: 12 }))
      .then([
        { type: "PaymentScreened", data: { score: 70, decision: "review", reasons: ["velocity_extreme"] } },
      ]);
  });

  it("rejects a card-testing burst with PaymentRejected", () => {
    const reasons = ["velocity_extreme", "many_recent_declines"];
    given(history.initiated())
      .when(
        screen({
          ...noActivity,
          paymentsLast10Minutes: 12,
          declinesLastHour: 4,
          declinesLastDay: 4,
          lifetimePayments: 12,
        }),
      )
      .then([
        { type: "PaymentScreened", data: { score: 100, decision: "reject", reasons } },
        { type: "PaymentRejected", data: { score: 100, reasons } },
      ]);
  });

  it("refuses to screen a payment twice", () => {
    given(history.screened()).when(screen()).thenThrows(LifecycleRuleError, rule("already_screened"));
  });

  it("refuses to screen a payment that is past initiation", () => {
    given(history.authorized())
      .when(screen())
      .thenThrows(LifecycleRuleError, rule("screening_requires_initiated"));
  });
});

describe("recording the gateway's payment intent", () => {
  it("records the intent before the gateway confirms it", () => {
    given(history.screened())
      .when({ type: "RecordPaymentIntent", gateway: "stripe", gatewayPaymentId: "pi_3QH1example0001" })
      .then([sampleEvent("PaymentIntentCreated")]);
  });

  it("appends nothing when the same intent is recorded again", () => {
    given([...history.screened(), sampleEvent("PaymentIntentCreated")])
      .when({ type: "RecordPaymentIntent", gateway: "stripe", gatewayPaymentId: "pi_3QH1example0001" })
      .then([]);
  });

  it("refuses a second, different intent for the same payment", () => {
    given([...history.screened(), sampleEvent("PaymentIntentCreated")])
      .when({ type: "RecordPaymentIntent", gateway: "stripe", gatewayPaymentId: "pi_other" })
      .thenThrows(LifecycleRuleError, rule("intent_already_recorded"));
  });

  it("refuses an intent for a payment that is no longer new", () => {
    given(history.captured())
      .when({ type: "RecordPaymentIntent", gateway: "stripe", gatewayPaymentId: "pi_other" })
      .thenThrows(LifecycleRuleError, rule("intent_requires_initiated"));
  });
});

describe("authorizing", () => {
  it("holds the funds of a manual-capture payment", () => {
    given(history.screened())
      .when(authorize())
      .then([sampleEvent("PaymentAuthorized")]);
  });

  it("goes straight to captured when the gateway captured automatically", () => {
    given([sampleEvent("PaymentInitiated", { captureMethod: "automatic" })])
      .when(authorize({ captured: true }))
      .then([sampleEvent("PaymentAuthorized"), sampleEvent("PaymentCaptured")]);
  });

  it("refuses an automatic capture of a payment held for review", () => {
    given([
      sampleEvent("PaymentInitiated", { captureMethod: "automatic" }),
      sampleEvent("PaymentScreened", { score: 65, decision: "review", reasons: ["velocity_burst"] }),
    ])
      .when(authorize({ captured: true }))
      .thenThrows(LifecycleRuleError, rule("review_requires_manual_capture"));
  });

  it("refuses an automatic capture of a pre-authorization", () => {
    given(history.screened())
      .when(authorize({ captured: true }))
      .thenThrows(LifecycleRuleError, rule("review_requires_manual_capture"));
  });

  it("refuses to authorize more than the payment's amount", () => {
    given(history.screened())
      .when(authorize({ amountAuthorized: 2600 }))
      .thenThrows(LifecycleRuleError, rule("authorization_exceeds_amount"));
  });

  it("refuses to authorize twice", () => {
    given(history.authorized())
      .when(authorize())
      .thenThrows(LifecycleRuleError, rule("authorization_requires_initiated"));
  });

  it("refuses to authorize a payment that fraud screening rejected", () => {
    given([...history.initiated(), sampleEvent("PaymentRejected")])
      .when(authorize())
      .thenThrows(LifecycleRuleError, rule("authorization_requires_initiated"));
  });
});

describe("capturing", () => {
  it("captures the whole hold when no amount is given", () => {
    given(history.authorized())
      .when({ type: "CapturePayment" })
      .then([sampleEvent("PaymentCaptured")]);
  });

  it("captures part of the hold", () => {
    given(history.authorized())
      .when({ type: "CapturePayment", amount: 1500 })
      .then([sampleEvent("PaymentCaptured", { amount: 1500, totalCaptured: 1500 })]);
  });

  it("refuses to capture more than was authorized", () => {
    given(history.authorized())
      .when({ type: "CapturePayment", amount: 2600 })
      .thenThrows(LifecycleRuleError, rule("capture_exceeds_authorized"));
  });

  it("refuses to capture twice", () => {
    given(history.captured())
      .when({ type: "CapturePayment", amount: 1 })
      .thenThrows(LifecycleRuleError, rule("capture_requires_authorized"));
  });

  it("refuses to capture a payment that was never authorized", () => {
    given(history.screened())
      .when({ type: "CapturePayment" })
      .thenThrows(LifecycleRuleError, rule("capture_requires_authorized"));
  });
});

describe("refunding", () => {
  it("refunds part of what was captured", () => {
    given(history.captured())
      .when({
        type: "RefundPayment",
        refundId: "re_3QH1example0001",
        amount: 1000,
        reason: "requested_by_customer",
      })
      .then([sampleEvent("PaymentRefunded")]);
  });

  it("refunds the rest when no amount is given", () => {
    given(history.partiallyRefunded())
      .when({ type: "RefundPayment", refundId: "re_2" })
      .then([{ type: "PaymentRefunded", data: { refundId: "re_2", amount: 1599, totalRefunded: 2599 } }]);
  });

  it("appends nothing for a refund it already recorded", () => {
    given(history.partiallyRefunded())
      .when({ type: "RefundPayment", refundId: "re_3QH1example0001", amount: 1000 })
      .then([]);
  });

  it("refuses a refund larger than what was captured", () => {
    given(history.captured())
      .when({ type: "RefundPayment", refundId: "re_2", amount: 2600 })
      .thenThrows(LifecycleRuleError, rule("refund_exceeds_captured"));
  });

  it("refuses a refund larger than what is left after earlier refunds", () => {
    given(history.partiallyRefunded())
      .when({ type: "RefundPayment", refundId: "re_2", amount: 1600 })
      .thenThrows(LifecycleRuleError, rule("refund_exceeds_captured"));
  });

  it("refuses any refund once everything was returned", () => {
    given([...history.captured(), sampleEvent("PaymentRefunded", { amount: 2599, totalRefunded: 2599 })])
      .when({ type: "RefundPayment", refundId: "re_2" })
      .thenThrows(LifecycleRuleError, rule("refund_exceeds_captured"));
  });

  it("refuses to refund a hold that was never captured", () => {
    given(history.authorized())
      .when({ type: "RefundPayment", refundId: "re_2", amount: 100 })
      .thenThrows(LifecycleRuleError, rule("refund_requires_capture"));
  });
});

describe("canceling", () => {
  it("releases an authorized hold", () => {
    given(history.authorized())
      .when({ type: "CancelPayment", reason: "requested_by_customer" })
      .then([sampleEvent("PaymentCanceled")]);
  });

  it("cancels a payment still waiting for the gateway", () => {
    given(history.initiated())
      .when({ type: "CancelPayment", reason: "expired" })
      .then([{ type: "PaymentCanceled", data: { reason: "expired" } }]);
  });

  it("refuses to cancel after capture", () => {
    given(history.captured())
      .when({ type: "CancelPayment", reason: "late" })
      .thenThrows(LifecycleRuleError, rule("cancel_after_capture"));
  });

  it("refuses to cancel a payment that already ended", () => {
    for (const end of [
      sampleEvent("PaymentCanceled"),
      sampleEvent("PaymentFailed"),
      sampleEvent("PaymentRejected"),
    ]) {
      given([...history.initiated(), end])
        .when({ type: "CancelPayment", reason: "again" })
        .thenThrows(LifecycleRuleError, rule("payment_closed"));
    }
  });
});

describe("failing", () => {
  it("records a gateway decline", () => {
    given(history.screened())
      .when({
        type: "FailPayment",
        code: "card_declined",
        message: "Your card was declined.",
        retryable: false,
      })
      .then([sampleEvent("PaymentFailed")]);
  });

  it("records the failure of an authorized hold", () => {
    given(history.authorized())
      .when({ type: "FailPayment", code: "expired", message: "The hold expired.", retryable: false })
      .then([sampleEvent("PaymentFailed", { code: "expired", message: "The hold expired." })]);
  });

  it("refuses to fail a captured payment", () => {
    given(history.captured())
      .when({ type: "FailPayment", code: "x", message: "x", retryable: false })
      .thenThrows(LifecycleRuleError, rule("failure_requires_pending"));
  });
});

describe("the payment's status", () => {
  const statusAfter = (events: Parameters<typeof evolvePayment>[1][]) =>
    events.reduce(evolvePayment, initialPaymentState).status;

  it("follows the lifecycle from initiated to refunded", () => {
    expect(statusAfter(history.initiated())).toBe("initiated");
    expect(statusAfter(history.authorized())).toBe("authorized");
    expect(statusAfter(history.captured())).toBe("captured");
    expect(statusAfter(history.partiallyRefunded())).toBe("partially_refunded");
    expect(
      statusAfter([
        ...history.partiallyRefunded(),
        sampleEvent("PaymentRefunded", { refundId: "re_2", amount: 1599, totalRefunded: 2599 }),
      ]),
    ).toBe("refunded");
  });

  it("ends in failed, canceled or rejected", () => {
    expect(statusAfter([...history.initiated(), sampleEvent("PaymentFailed")])).toBe("failed");
    expect(statusAfter([...history.authorized(), sampleEvent("PaymentCanceled")])).toBe("canceled");
    expect(statusAfter([...history.initiated(), sampleEvent("PaymentRejected")])).toBe("rejected");
  });

  it("is fully refunded when a partial capture was refunded whole", () => {
    expect(
      statusAfter([
        ...history.authorized(),
        sampleEvent("PaymentCaptured", { amount: 1500, totalCaptured: 1500 }),
        sampleEvent("PaymentRefunded", { amount: 1500, totalRefunded: 1500 }),
      ]),
    ).toBe("refunded");
  });
});

/** A ZaloPay payment of 100,000 VND waiting for the provider's callback. */
const zaloPayInitiated = (): PaymentEvent[] => [
  {
    type: "PaymentInitiated",
    data: {
      orderId: "ord-vn-1",
      amount: 100_000,
      currency: "vnd",
      paymentMethod: { type: "zalopay" },
      captureMethod: "automatic",
      source: "api",
      provider: "zalopay",
      providerReference: "251204_1",
    },
  },
];
const received = (gatewayPaymentId: string, amount: number): PaymentCommand => ({
  type: "RecordReceivedPayment",
  gateway: "zalopay",
  gatewayPaymentId,
  amount,
});

describe("money a provider reports as received", () => {
  it("keeps a payment short of its amount underpaid, with what arrived as captured", () => {
    given(zaloPayInitiated())
      .when(received("zp_1", 1))
      .then([
        {
          type: "PaymentAuthorized",
          data: { gateway: "zalopay", gatewayPaymentId: "zp_1", amountAuthorized: 1 },
        },
        { type: "PaymentCaptured", data: { amount: 1, totalCaptured: 1, gatewayPaymentId: "zp_1" } },
      ]);
    const state = [...zaloPayInitiated(), ...decideAll(zaloPayInitiated(), [received("zp_1", 1)])].reduce(
      evolvePayment,
      initialPaymentState,
    );
    expect(state).toMatchObject({ status: "underpaid", amountCaptured: 1 });
  });

  it("adds a second notice to the first, and a payment paid in full is captured", () => {
    const history = [...zaloPayInitiated(), ...decideAll(zaloPayInitiated(), [received("zp_1", 40_000)])];
    given(history)
      .when(received("zp_2", 60_000))
      .then([
        {
          type: "PaymentCaptured",
          data: { amount: 60_000, totalCaptured: 100_000, gatewayPaymentId: "zp_2" },
        },
      ]);
    const state = [...history, ...decideAll(history, [received("zp_2", 60_000)])].reduce(
      evolvePayment,
      initialPaymentState,
    );
    expect(state).toMatchObject({ status: "captured", amountCaptured: 100_000, amountAuthorized: 100_000 });
  });

  it("flags amount_mismatch when more arrived than the amount, and appends nothing for the same notice again", () => {
    const history = [...zaloPayInitiated(), ...decideAll(zaloPayInitiated(), [received("zp_1", 90_000)])];
    const events = decideAll(history, [received("zp_2", 20_000)]);
    expect(events.map((e) => e.type)).toEqual(["PaymentCaptured", "PaymentFlagged"]);
    expect(events[1]!.data).toMatchObject({ flag: "amount_mismatch", receivedAmount: 110_000 });
    given([...history, ...events])
      .when(received("zp_2", 20_000))
      .then([]);
  });

  it("refuses money received after the payment was canceled, or after it was paid in full", () => {
    const canceled = [
      ...zaloPayInitiated(),
      { type: "PaymentCanceled" as const, data: { reason: "customer" } },
    ];
    given(canceled).when(received("zp_9", 100_000)).thenThrows(LifecycleRuleError, rule("paid_after_end"));
    const paid = [...zaloPayInitiated(), ...decideAll(zaloPayInitiated(), [received("zp_1", 100_000)])];
    given(paid).when(received("zp_9", 100_000)).thenThrows(LifecycleRuleError, rule("paid_twice"));
  });

  it("refuses to cancel an underpaid payment, and lets it be refunded up to what arrived", () => {
    const underpaid = [...zaloPayInitiated(), ...decideAll(zaloPayInitiated(), [received("zp_1", 30_000)])];
    given(underpaid)
      .when({ type: "CancelPayment", reason: "customer" })
      .thenThrows(LifecycleRuleError, rule("cancel_after_capture"));
    given(underpaid)
      .when({ type: "RefundPayment", refundId: "rf_1", amount: 30_001 })
      .thenThrows(LifecycleRuleError, rule("refund_exceeds_captured"));
    given(underpaid)
      .when({ type: "RefundPayment", refundId: "rf_1" })
      .then([{ type: "PaymentRefunded", data: { refundId: "rf_1", amount: 30_000, totalRefunded: 30_000 } }]);
  });
});

describe("a refund the gateway reports as done", () => {
  const held = (refundId: string, amount: number): PaymentEvent => ({
    type: "PaymentRefundRequested",
    data: { refundId, amount },
  });

  it("records a refund made at the gateway while a hold of ours is pending, when both fit", () => {
    given([...history.captured(), held("rfd_ours", 1000)])
      .when({ type: "RecordGatewayRefund", refundId: "re_dash", amount: 1000 })
      .then([{ type: "PaymentRefunded", data: { refundId: "re_dash", amount: 1000, totalRefunded: 1000 } }]);
  });

  it("records it beyond what our holds leave, and releases the holds that no longer fit, newest first", () => {
    given([...history.captured(), held("rfd_a", 1000), held("rfd_b", 500)])
      .when({ type: "RecordGatewayRefund", refundId: "re_dash", amount: 1500 })
      .then([
        { type: "PaymentRefunded", data: { refundId: "re_dash", amount: 1500, totalRefunded: 1500 } },
        {
          type: "PaymentRefundFailed",
          data: {
            refundId: "rfd_b",
            code: "superseded_by_gateway_refund",
            message:
              "released: a refund of 1500 made at the gateway (re_dash) leaves too little captured for it",
          },
        },
      ]);
  });

  it("completes our own hold when the gateway echoes it, and adds nothing the second time", () => {
    const events = [...history.captured(), held("rfd_ours", 1000)];
    given(events)
      .when({ type: "RecordGatewayRefund", refundId: "rfd_ours", amount: 1000 })
      .then([{ type: "PaymentRefunded", data: { refundId: "rfd_ours", amount: 1000, totalRefunded: 1000 } }]);
    const done = [
      ...events,
      ...decideAll(events, [{ type: "RecordGatewayRefund", refundId: "rfd_ours", amount: 1000 }]),
    ];
    given(done).when({ type: "RecordGatewayRefund", refundId: "rfd_ours", amount: 1000 }).then([]);
  });

  it("refuses a refund beyond what was captured and not refunded, whatever is held", () => {
    given(history.partiallyRefunded())
      .when({ type: "RecordGatewayRefund", refundId: "re_dash", amount: 1600 })
      .thenThrows(LifecycleRuleError, rule("refund_exceeds_captured"));
  });

  it("treats a refund id named like Object.prototype's members as an ordinary id", () => {
    for (const refundId of ["constructor", "__proto__", "toString"]) {
      given(history.captured())
        .when({ type: "RecordGatewayRefund", refundId, amount: 100 })
        .then([{ type: "PaymentRefunded", data: { refundId, amount: 100, totalRefunded: 100 } }]);
      given(history.captured()).when({ type: "FailRefund", refundId, code: "x", message: "y" }).then([]);
    }
  });
});

describe("a provider notice the lifecycle cannot apply", () => {
  const notice: PaymentCommand = {
    type: "RecordUnappliedNotice",
    provider: "zalopay",
    noticeId: "240001",
    noticeType: "payment",
    amount: 100_000,
    currency: "vnd",
    reason: "paid_after_end: money was received for a payment that had already ended",
  };

  it("is recorded once as ProviderNoticeUnapplied, and flags the payment needs_attention", () => {
    const { type: _t, ...data } = notice as Extract<PaymentCommand, { type: "RecordUnappliedNotice" }>;
    given(zaloPayInitiated())
      .when(notice)
      .then([{ type: "ProviderNoticeUnapplied", data }]);
    const events = [...zaloPayInitiated(), ...decideAll(zaloPayInitiated(), [notice])];
    expect(events.reduce(evolvePayment, initialPaymentState)).toMatchObject({ flags: ["needs_attention"] });
    given(events).when(notice).then([]);
  });
});

describe("a drift reconciliation hands to a person, and its resolution", () => {
  const drift: PaymentCommand = {
    type: "RecordDrift",
    driftId: "missing_at_provider:stripe:re_1",
    driftClass: "missing_at_provider",
    provider: "stripe",
    detail: "refund re_1 is recorded, and Stripe holds no such refund",
  };
  const resolve: PaymentCommand = {
    type: "ResolveAttention",
    reason: "checked with the bank",
    by: "ops-alice",
  };

  it("records a drift once, flags needs_attention, and a resolution clears the flag for good", () => {
    const { type: _t, ...data } = drift as Extract<PaymentCommand, { type: "RecordDrift" }>;
    given(history.captured())
      .when(drift)
      .then([{ type: "PaymentDriftFound", data }]);
    const flagged = [...history.captured(), ...decideAll(history.captured(), [drift])];
    expect(flagged.reduce(evolvePayment, initialPaymentState)).toMatchObject({ flags: ["needs_attention"] });
    given(flagged).when(drift).then([]);

    given(flagged)
      .when(resolve)
      .then([
        { type: "PaymentAttentionResolved", data: { reason: "checked with the bank", by: "ops-alice" } },
      ]);
    const resolved = [...flagged, ...decideAll(flagged, [resolve])];
    expect(resolved.reduce(evolvePayment, initialPaymentState)).toMatchObject({ flags: [] });
    // Found again by a later run: it was settled by a person, so it is not raised again.
    given(resolved).when(drift).then([]);
  });

  it("refuses to resolve a payment that needs no attention, naming the rule", () => {
    given(history.captured()).when(resolve).thenThrows(LifecycleRuleError, rule("nothing_needs_attention"));
  });
});
