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
  | "underpaid"
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
  /** `unmatched`, `amount_mismatch`, `needs_attention`: what a person must look at. */
  readonly flags: readonly string[];
  /** The provider transaction ids of money a provider notified as received (ZaloPay, PayOS). */
  readonly receivedIds: readonly string[];
  /** The notices recorded as unapplied, by the provider's notice id. */
  readonly unappliedNotices: readonly string[];
  /** The drifts reconciliation recorded for a person, by drift id (SPEC §6.1). */
  readonly drifts: readonly string[];
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

/**
 * `underpaid` while a provider's notices (ZaloPay, PayOS) add up to less than the payment's amount,
 * else `captured` (SPEC §2). A Stripe capture of part of a hold is `captured`: the rest is released.
 */
export function statusAfterCapture(totalCaptured: number, amount: number, provider: Provider): PaymentStatus {
  return provider !== "stripe" && totalCaptured < amount ? "underpaid" : "captured";
}

/** What is held back by refunds asked for and not answered yet. */
export function pendingRefundTotal(payment: Payment): number {
  return Object.values(payment.pendingRefunds).reduce((sum, amount) => sum + amount, 0);
}

/** What can still be refunded: captured, less refunded, less refunds asked for and not answered. */
export function refundableAmount(payment: Payment): number {
  return payment.amountCaptured - payment.amountRefunded - pendingRefundTotal(payment);
}

/** Whether `refundId` is a refund of ours held back and not answered yet (own keys only). */
export function isPendingRefund(payment: Payment, refundId: string): boolean {
  return Object.hasOwn(payment.pendingRefunds, refundId);
}

function without(record: Readonly<Record<string, number>>, key: string): Readonly<Record<string, number>> {
  if (!Object.hasOwn(record, key)) return record;
  const { [key]: _gone, ...rest } = record;
  return rest;
}

function withFlag(state: Payment, flag: string): Payment {
  return state.flags.includes(flag) ? state : { ...state, flags: [...state.flags, flag] };
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
      receivedIds: [],
      unappliedNotices: [],
      drifts: [],
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
    case "PaymentCaptured": {
      // A provider's notices may add up to more than was first authorized (SPEC §2): the hold
      // follows what was received, so captured never exceeds authorized.
      const received = state.provider !== "stripe" && event.data.gatewayPaymentId;
      return {
        ...state,
        status: statusAfterCapture(event.data.totalCaptured, state.amount, state.provider),
        amountAuthorized: Math.max(state.amountAuthorized, event.data.totalCaptured),
        amountCaptured: event.data.totalCaptured,
        gatewayPaymentId: event.data.gatewayPaymentId ?? state.gatewayPaymentId,
        receivedIds: received ? [...state.receivedIds, received] : state.receivedIds,
      };
    }
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
      return withFlag(state, event.data.flag);
    case "ProviderNoticeUnapplied":
      return {
        ...withFlag(state, "needs_attention"),
        unappliedNotices: [...state.unappliedNotices, event.data.noticeId],
      };
    case "PaymentDriftFound":
      return { ...withFlag(state, "needs_attention"), drifts: [...state.drifts, event.data.driftId] };
    case "PaymentAttentionResolved":
      return { ...state, flags: state.flags.filter((f) => f !== "needs_attention") };
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
