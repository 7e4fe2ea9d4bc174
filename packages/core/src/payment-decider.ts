import type { PaymentEvent } from "@payments/events";
import { LifecycleRuleError, PaymentNotFoundError } from "./errors";
import { scoreFraud } from "./fraud";
import { type PaymentCommand, validatePaymentCommand } from "./payment-commands";
import {
  evolvePayment,
  initialPaymentState,
  isPayment,
  isPendingRefund,
  type Payment,
  type PaymentState,
  pendingRefundTotal,
  refundableAmount,
} from "./payment-state";

/** What decide may know besides the command and the state: which stream it is deciding for. */
export interface DecideContext {
  readonly paymentId: string;
}

const CLOSED = new Set(["failed", "canceled", "rejected"]);
/** Money was collected: refunds may follow, a cancel may not. `underpaid` too (SPEC §2). */
const CAPTURED = new Set(["captured", "underpaid", "partially_refunded", "refunded"]);

function requirePayment(state: PaymentState, ctx: DecideContext): Payment {
  if (!isPayment(state)) throw new PaymentNotFoundError(ctx.paymentId);
  return state;
}

/**
 * Decides which events a command produces, or refuses it: an {@link InvalidCommandError} for a
 * command that is malformed in itself (checked first, see payment-commands.ts), a
 * {@link LifecycleRuleError} for one that breaks a rule of the lifecycle. Pure and synchronous. An
 * empty list means the command is already done (idempotent repeat).
 *
 * @example
 * decidePayment({ type: "CancelPayment", reason: "customer" }, authorized, { paymentId: "pay_1" })
 * // [{ type: "PaymentCanceled", data: { reason: "customer" } }]
 */
export function decidePayment(
  command: PaymentCommand,
  state: PaymentState,
  ctx: DecideContext,
): PaymentEvent[] {
  return decideValidated(validatePaymentCommand(command), state, ctx);
}

/** {@link decidePayment} for a command that {@link validatePaymentCommand} has already accepted. */
export function decideValidated(
  command: PaymentCommand,
  state: PaymentState,
  ctx: DecideContext,
): PaymentEvent[] {
  const refuse = (rule: ConstructorParameters<typeof LifecycleRuleError>[0], detail: string): never => {
    throw new LifecycleRuleError(rule, ctx.paymentId, state.status, detail);
  };
  /** A refund's amount (all that is still refundable when none is given), or the rule it breaks. */
  const refundAmount = (payment: Payment, requested: number | undefined): number => {
    if (!CAPTURED.has(payment.status))
      refuse("refund_requires_capture", "only captured money can be refunded");
    const refundable = refundableAmount(payment);
    const amount = requested ?? refundable;
    if (amount > refundable || amount === 0) {
      refuse(
        "refund_exceeds_captured",
        `refund of ${amount} is more than the ${refundable} still refundable`,
      );
    }
    return amount;
  };

  switch (command.type) {
    case "InitiatePayment": {
      if (isPayment(state)) refuse("payment_already_exists", "the payment was already initiated");
      const { type: _type, ...data } = command;
      return [{ type: "PaymentInitiated", data: stripUndefined(data) }];
    }

    case "ScreenPayment": {
      const payment = requirePayment(state, ctx);
      if (payment.status !== "initiated")
        refuse("screening_requires_initiated", "only a new payment is screened");
      if (payment.fraud) refuse("already_screened", "the payment was already screened");
      const assessment = scoreFraud(
        {
          amount: payment.amount,
          currency: payment.currency,
          customerId: payment.customerId,
          billingAddress: payment.billingAddress,
          activity: command.activity,
        },
        command.thresholds,
      );
      const screened: PaymentEvent = { type: "PaymentScreened", data: assessment };
      if (assessment.decision !== "reject") return [screened];
      return [
        screened,
        { type: "PaymentRejected", data: { score: assessment.score, reasons: assessment.reasons } },
      ];
    }

    case "RecordPaymentIntent": {
      const payment = requirePayment(state, ctx);
      if (payment.gatewayPaymentId === command.gatewayPaymentId) return [];
      if (payment.status !== "initiated")
        refuse("intent_requires_initiated", "a gateway intent starts a new payment");
      if (payment.gatewayPaymentId) {
        refuse("intent_already_recorded", `gateway payment ${payment.gatewayPaymentId} is already recorded`);
      }
      return [
        {
          type: "PaymentIntentCreated",
          data: { gateway: command.gateway, gatewayPaymentId: command.gatewayPaymentId },
        },
      ];
    }

    case "AuthorizePayment": {
      const payment = requirePayment(state, ctx);
      if (payment.status !== "initiated") {
        refuse("authorization_requires_initiated", "only a payment awaiting the gateway can be authorized");
      }
      if (command.amountAuthorized > payment.amount) {
        refuse(
          "authorization_exceeds_amount",
          `authorized ${command.amountAuthorized} is more than the payment's ${payment.amount}`,
        );
      }
      if (command.captured && (payment.fraud?.decision === "review" || payment.captureMethod === "manual")) {
        refuse(
          "review_requires_manual_capture",
          "a payment held for review or pre-authorization is captured by hand",
        );
      }
      const authorized: PaymentEvent = {
        type: "PaymentAuthorized",
        data: stripUndefined({
          gateway: command.gateway,
          gatewayPaymentId: command.gatewayPaymentId,
          amountAuthorized: command.amountAuthorized,
          authorizationCode: command.authorizationCode,
        }),
      };
      if (!command.captured) return [authorized];
      return [
        authorized,
        {
          type: "PaymentCaptured",
          data: {
            amount: command.amountAuthorized,
            totalCaptured: command.amountAuthorized,
            gatewayPaymentId: command.gatewayPaymentId,
          },
        },
      ];
    }

    case "CapturePayment": {
      const payment = requirePayment(state, ctx);
      if (payment.status !== "authorized")
        refuse("capture_requires_authorized", "only an authorized hold is captured");
      const amount = command.amount ?? payment.amountAuthorized;
      if (amount > payment.amountAuthorized) {
        refuse(
          "capture_exceeds_authorized",
          `capture of ${amount} is more than the ${payment.amountAuthorized} held`,
        );
      }
      return [
        {
          type: "PaymentCaptured",
          data: stripUndefined({ amount, totalCaptured: amount, gatewayPaymentId: payment.gatewayPaymentId }),
        },
      ];
    }

    case "RequestRefund": {
      const payment = requirePayment(state, ctx);
      // The same refund asked again: already held back, or already done.
      if (payment.refundIds.includes(command.refundId) || isPendingRefund(payment, command.refundId))
        return [];
      // PayOS has no refund API: its payments are refunded by hand, recorded as manual refunds.
      if (payment.provider === "payos")
        refuse(
          "provider_cannot_refund",
          "PayOS has no refund API: refund by hand, then record it as a manual refund",
        );
      const amount = refundAmount(payment, command.amount);
      return [
        {
          type: "PaymentRefundRequested",
          data: stripUndefined({
            refundId: command.refundId,
            amount,
            reason: command.reason,
            gatewayRefundId: command.gatewayRefundId,
          }),
        },
      ];
    }

    case "RefundPayment": {
      const payment = requirePayment(state, ctx);
      if (payment.refundIds.includes(command.refundId)) return [];
      const requested = isPendingRefund(payment, command.refundId)
        ? payment.pendingRefunds[command.refundId]
        : undefined;
      if (requested !== undefined) {
        // Completes a refund that was held back: its amount is the one asked for.
        if (command.amount !== undefined && command.amount !== requested) {
          refuse(
            "refund_amount_differs",
            `refund ${command.refundId} was asked for ${requested}, not ${command.amount}`,
          );
        }
        return [
          {
            type: "PaymentRefunded",
            data: stripUndefined({
              refundId: command.refundId,
              amount: requested,
              totalRefunded: payment.amountRefunded + requested,
              reason: command.reason,
            }),
          },
        ];
      }
      const amount = refundAmount(payment, command.amount);
      return [
        {
          type: "PaymentRefunded",
          data: stripUndefined({
            refundId: command.refundId,
            amount,
            totalRefunded: payment.amountRefunded + amount,
            reason: command.reason,
            method: command.method === "manual" ? ("manual" as const) : undefined,
            reference: command.method === "manual" ? command.reference : undefined,
          }),
        },
      ];
    }

    case "RecordGatewayRefund": {
      const payment = requirePayment(state, ctx);
      if (payment.refundIds.includes(command.refundId)) return [];
      if (isPendingRefund(payment, command.refundId)) {
        // Ours, echoed back by the gateway: completes the hold, for the amount held.
        return decideValidated(
          stripUndefined({
            type: "RefundPayment" as const,
            refundId: command.refundId,
            amount: command.amount,
            reason: command.reason,
          }),
          state,
          ctx,
        );
      }
      if (!CAPTURED.has(payment.status))
        refuse(
          "refund_requires_capture",
          "the gateway reports a refund of money this payment never captured",
        );
      // A fact: it fits if it stays within what was captured, whatever is held back for refunds of ours.
      const unrefunded = payment.amountCaptured - payment.amountRefunded;
      if (command.amount > unrefunded) {
        refuse(
          "refund_exceeds_captured",
          `the gateway reports a refund of ${command.amount}, more than the ${unrefunded} captured and not refunded`,
        );
      }
      const totalRefunded = payment.amountRefunded + command.amount;
      const refunded: PaymentEvent = {
        type: "PaymentRefunded",
        data: stripUndefined({
          refundId: command.refundId,
          amount: command.amount,
          totalRefunded,
          reason: command.reason,
        }),
      };
      // Holds of ours that no longer fit are released, newest first: the gateway would refuse them.
      const released: PaymentEvent[] = [];
      let held = pendingRefundTotal(payment);
      for (const refundId of Object.keys(payment.pendingRefunds).reverse()) {
        if (held <= payment.amountCaptured - totalRefunded) break;
        held -= payment.pendingRefunds[refundId]!;
        released.push({
          type: "PaymentRefundFailed",
          data: {
            refundId,
            code: "superseded_by_gateway_refund",
            message: `released: a refund of ${command.amount} made at the gateway (${command.refundId}) leaves too little captured for it`,
          },
        });
      }
      return [refunded, ...released];
    }

    case "RecordUnappliedNotice": {
      const payment = requirePayment(state, ctx);
      if (payment.unappliedNotices.includes(command.noticeId)) return [];
      const { type: _type, ...data } = command;
      return [{ type: "ProviderNoticeUnapplied", data: stripUndefined(data) }];
    }

    case "FailRefund": {
      const payment = requirePayment(state, ctx);
      if (!isPendingRefund(payment, command.refundId)) return [];
      const { type: _type, ...data } = command;
      return [{ type: "PaymentRefundFailed", data }];
    }

    case "RecordReceivedPayment": {
      const payment = requirePayment(state, ctx);
      if (payment.receivedIds.includes(command.gatewayPaymentId)) return [];
      if (CLOSED.has(payment.status))
        refuse(
          "paid_after_end",
          `money was received for a payment that had already ended (${payment.status})`,
        );
      if (payment.status !== "initiated" && payment.status !== "underpaid") {
        refuse(
          payment.status === "authorized" ? "authorization_requires_initiated" : "paid_twice",
          `money was received again for a payment already ${payment.status}`,
        );
      }
      const totalCaptured = payment.amountCaptured + command.amount;
      const paid: PaymentEvent[] = [
        ...(payment.status === "initiated"
          ? [
              {
                type: "PaymentAuthorized" as const,
                data: {
                  gateway: command.gateway,
                  gatewayPaymentId: command.gatewayPaymentId,
                  amountAuthorized: command.amount,
                },
              },
            ]
          : []),
        {
          type: "PaymentCaptured",
          data: { amount: command.amount, totalCaptured, gatewayPaymentId: command.gatewayPaymentId },
        },
      ];
      if (totalCaptured <= payment.amount) return paid;
      // More than the amount: recorded as received, and flagged (SPEC §2); short of it is `underpaid`.
      return [
        ...paid,
        {
          type: "PaymentFlagged",
          data: {
            flag: "amount_mismatch",
            detail: `${command.gateway} notified ${totalCaptured} ${payment.currency} in all for a payment of ${payment.amount} ${payment.currency}`,
            receivedAmount: totalCaptured,
            receivedCurrency: payment.currency,
          },
        },
      ];
    }

    case "FlagPayment": {
      requirePayment(state, ctx);
      const { type: _type, ...data } = command;
      return [{ type: "PaymentFlagged", data: stripUndefined(data) }];
    }

    case "RecordDrift": {
      const payment = requirePayment(state, ctx);
      // The same drift found again adds nothing: it waits for a person, or a person settled it.
      if (payment.drifts.includes(command.driftId)) return [];
      const { type: _type, ...data } = command;
      return [{ type: "PaymentDriftFound", data: stripUndefined(data) }];
    }

    case "ResolveAttention": {
      const payment = requirePayment(state, ctx);
      if (!payment.flags.includes("needs_attention"))
        refuse("nothing_needs_attention", "the payment is not flagged needs_attention");
      return [{ type: "PaymentAttentionResolved", data: { reason: command.reason, by: command.by } }];
    }

    case "CancelPayment": {
      const payment = requirePayment(state, ctx);
      if (CAPTURED.has(payment.status))
        refuse("cancel_after_capture", "money was collected: it is refunded, not canceled");
      if (CLOSED.has(payment.status)) refuse("payment_closed", "the payment has already ended");
      return [{ type: "PaymentCanceled", data: { reason: command.reason } }];
    }

    case "FailPayment": {
      const payment = requirePayment(state, ctx);
      if (payment.status !== "initiated" && payment.status !== "authorized") {
        refuse("failure_requires_pending", "only a payment still in flight can fail");
      }
      const { type: _type, ...data } = command;
      return [{ type: "PaymentFailed", data }];
    }

    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The payment aggregate as a decider: decide, evolve and the initial state, in one value. */
export const paymentDecider = {
  decide: decidePayment,
  evolve: evolvePayment,
  initialState: initialPaymentState,
} as const;
