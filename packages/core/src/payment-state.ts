import type {
  BillingAddress,
  CaptureMethod,
  CommandSource,
  FraudDecision,
  PaymentEvent,
  PaymentMethod,
  Provider,
} from "@payments/events";

export type PaymentStatus =
  | "initiated"
  | "authorized"
  | "captured"
  | "partially_refunded"
  | "refunded"
  | "failed"
  | "canceled"
  | "rejected";

export interface Payment {
  readonly status: PaymentStatus;
  readonly orderId: string;
  readonly customerId?: string;
  readonly amount: number;
  readonly currency: string;
  readonly captureMethod: CaptureMethod;
  readonly paymentMethod: PaymentMethod;
  readonly source: CommandSource;
  readonly provider: Provider;
  readonly providerReference?: string;
  readonly billingAddress?: BillingAddress;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly fraud?: {
    readonly score: number;
    readonly decision: FraudDecision;
    readonly reasons: readonly string[];
  };
  readonly gatewayPaymentId?: string;
  readonly authorizationCode?: string;
  readonly amountAuthorized: number;
  readonly amountCaptured: number;
  readonly amountRefunded: number;
  readonly refundIds: readonly string[];
  /** Refunds asked of the gateway and not answered yet, by refund id: their amounts are held back. */
  readonly pendingRefunds: Readonly<Record<string, number>>;
  /** `unmatched`, `amount_mismatch`: what a person must look at. */
  readonly flags: readonly string[];
  readonly failure?: { readonly code: string; readonly message: string; readonly retryable: boolean };
  readonly cancelReason?: string;
}

/**
 * `refunded` once everything captured went back, else `partially_refunded`: the one rule, shared
 * by the payment's state and its view.
 */
export function statusAfterRefund(totalRefunded: number, amountCaptured: number): PaymentStatus {
  return totalRefunded >= amountCaptured ? "refunded" : "partially_refunded";
}

/** What can still be refunded: captured, less refunded, less refunds asked for and not answered. */
export function refundableAmount(payment: Payment): number {
  const pending = Object.values(payment.pendingRefunds).reduce((sum, amount) => sum + amount, 0);
  return payment.amountCaptured - payment.amountRefunded - pending;
}

function without(record: Readonly<Record<string, number>>, key: string): Readonly<Record<string, number>> {
  if (!(key in record)) return record;
  const { [key]: _gone, ...rest } = record;
  return rest;
}

/** The fold of a stream: nothing yet, or a payment. */
export type PaymentState = { readonly status: "none" } | Payment;

export const initialPaymentState: PaymentState = { status: "none" };

export function isPayment(state: PaymentState): state is Payment {
  return state.status !== "none";
}

/**
 * Applies one event to the state. Pure; unknown shapes cannot reach it (events are parsed on read).
 * @example evolvePayment(initialPaymentState, initiated).status // "initiated"
 */
export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  if (event.type === "PaymentInitiated") {
    const d = event.data;
    return {
      status: "initiated",
      orderId: d.orderId,
      customerId: d.customerId,
      amount: d.amount,
      currency: d.currency,
      captureMethod: d.captureMethod,
      paymentMethod: d.paymentMethod,
      source: d.source,
      provider: d.provider,
      providerReference: d.providerReference,
      billingAddress: d.billingAddress,
      metadata: d.metadata,
      amountAuthorized: 0,
      amountCaptured: 0,
      amountRefunded: 0,
      refundIds: [],
      pendingRefunds: {},
      flags: [],
    };
  }
  if (!isPayment(state)) return state;
  switch (event.type) {
    case "PaymentScreened":
      return { ...state, fraud: { ...event.data } };
    case "PaymentIntentCreated":
      return { ...state, gatewayPaymentId: event.data.gatewayPaymentId };
    case "PaymentAuthorized":
      return {
        ...state,
        status: "authorized",
        gatewayPaymentId: event.data.gatewayPaymentId,
        amountAuthorized: event.data.amountAuthorized,
        authorizationCode: event.data.authorizationCode,
      };
    case "PaymentCaptured":
      return {
        ...state,
        status: "captured",
        amountCaptured: event.data.totalCaptured,
        gatewayPaymentId: event.data.gatewayPaymentId ?? state.gatewayPaymentId,
      };
    case "PaymentRefunded":
      return {
        ...state,
        status: statusAfterRefund(event.data.totalRefunded, state.amountCaptured),
        amountRefunded: event.data.totalRefunded,
        refundIds: [...state.refundIds, event.data.refundId],
        pendingRefunds: without(state.pendingRefunds, event.data.refundId),
      };
    case "PaymentRefundRequested":
      return {
        ...state,
        pendingRefunds: { ...state.pendingRefunds, [event.data.refundId]: event.data.amount },
      };
    case "PaymentRefundFailed":
      return { ...state, pendingRefunds: without(state.pendingRefunds, event.data.refundId) };
    case "PaymentFlagged":
      return state.flags.includes(event.data.flag)
        ? state
        : { ...state, flags: [...state.flags, event.data.flag] };
    case "PaymentCanceled":
      return { ...state, status: "canceled", cancelReason: event.data.reason };
    case "PaymentFailed":
      return { ...state, status: "failed", failure: { ...event.data } };
    case "PaymentRejected":
      return { ...state, status: "rejected" };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
