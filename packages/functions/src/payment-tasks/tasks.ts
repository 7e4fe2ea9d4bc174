import { createHash } from "node:crypto";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  ConcurrencyError,
  InvalidAmountError,
  InvalidCommandError,
  LifecycleRuleError,
  PaymentNotFoundError,
  type PaymentView,
} from "@payments/core";
import { PaymentId } from "@payments/events";
import * as z from "zod";
import { GatewayRefusedError, type PaymentService } from "../payments/payment-service";

/** The task's input does not fit the payment (an amount too large, a state that does not allow it). */
export class InvalidPaymentRequestError extends Error {
  override readonly name = "InvalidPaymentRequestError";
}

/** The gateway refused: a declined capture or refund. */
export class PaymentDeclinedError extends Error {
  override readonly name = "PaymentDeclinedError";
}

/** The statuses in which money was collected: a collect is done. */
const CAPTURED = new Set(["captured", "partially_refunded", "refunded"]);

const amount = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional();
export const CollectInput = z.strictObject({ paymentId: PaymentId, amount });
export const RefundInput = z.strictObject({
  paymentId: PaymentId,
  amount,
  reason: z.string().max(500).optional(),
  /** Tells two intended refunds of the same amount apart; a retried task with the same input is one refund. */
  refundId: z.string().min(1).max(64).optional(),
});

/**
 * The Step Functions tasks of SPEC §4.4, invoked directly: each returns the payment view or throws
 * an error whose `name` a state machine can Catch: PaymentNotFoundError, InvalidPaymentRequestError,
 * PaymentDeclinedError, ConcurrencyError. An outage (GatewayUnavailableError) is thrown as it is, for
 * the state machine's Retry.
 */
export function createPaymentTasks(deps: { payments: () => PaymentService; metrics: Metrics }) {
  const ctx = (paymentId: string) => ({
    correlationId: paymentId,
    causationId: `step-functions:${paymentId}`,
    source: "step-functions" as const,
  });

  async function run(
    parse: () => { paymentId: string },
    work: () => Promise<PaymentView>,
  ): Promise<PaymentView> {
    try {
      parse();
      const view = await work();
      deps.metrics.addMetric("SuccessfulPayment", MetricUnit.Count, 1);
      return view;
    } catch (error) {
      throw classify(error, deps.metrics);
    } finally {
      deps.metrics.publishStoredMetrics();
    }
  }

  return {
    /**
     * `collect {paymentId, amount?}`: captures a held payment, in full or in part. A retry of a
     * collect that already captured (the same amount, or none given) returns the view (SPEC §4.4);
     * another amount on a captured payment is still InvalidPaymentRequestError.
     */
    collect: (input: unknown) => {
      let parsed: z.infer<typeof CollectInput>;
      return run(
        () => (parsed = CollectInput.parse(input)),
        async () => {
          const payments = deps.payments();
          const current = await payments.view(parsed.paymentId);
          const sameCapture = parsed.amount === undefined || parsed.amount === current.amountCaptured;
          if (CAPTURED.has(current.status) && current.amountCaptured > 0 && sameCapture) return current;
          return payments.capture(parsed.paymentId, parsed.amount, ctx(parsed.paymentId));
        },
      );
    },
    /**
     * `refund {paymentId, amount?, reason?}`: refunds captured money; on a hold that was never
     * captured, releases it (status `canceled`).
     */
    refund: (input: unknown) => {
      let parsed: z.infer<typeof RefundInput>;
      return run(
        () => (parsed = RefundInput.parse(input)),
        async () => {
          const payments = deps.payments();
          const current = await payments.view(parsed.paymentId);
          // A retry after the hold was released: released it stays (SPEC §4.4).
          if (current.status === "canceled") return current;
          if (current.status === "authorized") {
            return payments.cancel(
              parsed.paymentId,
              parsed.reason ?? "refunded before capture",
              ctx(parsed.paymentId),
            );
          }
          const refundId = `rfd_sfn_${createHash("sha256")
            .update(JSON.stringify([parsed.paymentId, parsed.amount ?? null, parsed.refundId ?? null]))
            .digest("hex")
            .slice(0, 24)}`;
          return payments.refund(
            parsed.paymentId,
            { amount: parsed.amount, reason: parsed.reason, refundId },
            ctx(parsed.paymentId),
          );
        },
      );
    },
  };
}

/** Maps an error onto the names a state machine catches, counting it in the task's metrics. */
function classify(error: unknown, metrics: Metrics): Error {
  if (
    error instanceof z.ZodError ||
    error instanceof InvalidCommandError ||
    error instanceof InvalidAmountError ||
    error instanceof LifecycleRuleError
  ) {
    metrics.addMetric("InvalidPaymentRequest", MetricUnit.Count, 1);
    const detail =
      error instanceof z.ZodError
        ? error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
        : error.message;
    return new InvalidPaymentRequestError(detail);
  }
  if (error instanceof GatewayRefusedError) {
    metrics.addMetric("FailedPayment", MetricUnit.Count, 1);
    return new PaymentDeclinedError(error.message);
  }
  if (error instanceof PaymentNotFoundError || error instanceof ConcurrencyError) {
    metrics.addMetric("FailedPayment", MetricUnit.Count, 1);
    return error;
  }
  metrics.addMetric("FailedPayment", MetricUnit.Count, 1);
  return error as Error;
}
