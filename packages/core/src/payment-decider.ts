import type { PaymentEvent } from "@payments/events";
import { LifecycleRuleError, PaymentNotFoundError } from "./errors";
import { scoreFraud } from "./fraud";
import { type PaymentCommand, validatePaymentCommand } from "./payment-commands";
import {
  evolvePayment,
  initialPaymentState,
  isPayment,
  type Payment,
  type PaymentState,
  refundableAmount,
} from "./payment-state";

/** What decide may know besides the command and the state: which stream it is deciding for. */
export interface DecideContext {
  readonly paymentId: string;
}

const CLOSED = new Set(["failed", "canceled", "rejected"]);
const CAPTURED = new Set(["captured", "partially_refunded", "refunded"]);

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
      if (payment.refundIds.includes(command.refundId) || command.refundId in payment.pendingRefunds)
        return [];
      const amount = refundAmount(payment, command.amount);
      return [
        {
          type: "PaymentRefundRequested",
          data: stripUndefined({ refundId: command.refundId, amount, reason: command.reason }),
        },
      ];
    }

    case "RefundPayment": {
      const payment = requirePayment(state, ctx);
      if (payment.refundIds.includes(command.refundId)) return [];
      const requested = payment.pendingRefunds[command.refundId];
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
          }),
        },
      ];
    }

    case "FailRefund": {
      const payment = requirePayment(state, ctx);
      if (!(command.refundId in payment.pendingRefunds)) return [];
      const { type: _type, ...data } = command;
      return [{ type: "PaymentRefundFailed", data }];
    }

    case "RecordReceivedPayment": {
      const payment = requirePayment(state, ctx);
      if (payment.gatewayPaymentId === command.gatewayPaymentId && CAPTURED.has(payment.status)) return [];
      if (payment.status !== "initiated") {
        refuse("authorization_requires_initiated", "only a payment awaiting the provider can be paid");
      }
      const paid: PaymentEvent[] = [
        {
          type: "PaymentAuthorized",
          data: {
            gateway: command.gateway,
            gatewayPaymentId: command.gatewayPaymentId,
            amountAuthorized: command.amount,
          },
        },
        {
          type: "PaymentCaptured",
          data: {
            amount: command.amount,
            totalCaptured: command.amount,
            gatewayPaymentId: command.gatewayPaymentId,
          },
        },
      ];
      if (command.amount === payment.amount) return paid;
      // Recorded as received, never taken as paid in full (SPEC §4.3).
      return [
        ...paid,
        {
          type: "PaymentFlagged",
          data: {
            flag: "amount_mismatch",
            detail: `${command.gateway} notified ${command.amount} ${payment.currency} for a payment of ${payment.amount} ${payment.currency}`,
            receivedAmount: command.amount,
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

    case "CancelPayment": {
      const payment = requirePayment(state, ctx);
      if (CAPTURED.has(payment.status))
        refuse("cancel_after_capture", "a captured payment is refunded, not canceled");
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
