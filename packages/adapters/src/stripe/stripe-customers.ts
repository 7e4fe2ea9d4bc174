import { call, type StripeGatewayOptions, stripeClient } from "./stripe-gateway";

/**
 * Saved payment methods at Stripe (SPEC §4.1, format B): a Stripe Customer per customer id of ours,
 * the methods attached to it, and its `invoice_settings.default_payment_method`, which is what an
 * order message without a card token charges, off session. Every write carries an idempotency key.
 */
export interface StripeCustomers {
  create(input: { customerId: string; idempotencyKey: string }): Promise<string>;
  attach(input: { stripeCustomerId: string; paymentMethodId: string; idempotencyKey: string }): Promise<void>;
  setDefault(input: {
    stripeCustomerId: string;
    paymentMethodId: string;
    idempotencyKey: string;
  }): Promise<void>;
  /** The customer's default payment method, if it has one. */
  defaultPaymentMethod(stripeCustomerId: string): Promise<string | undefined>;
}

export function createStripeCustomers(options: StripeGatewayOptions): StripeCustomers {
  const stripe = stripeClient(options);
  return {
    create: ({ customerId, idempotencyKey }) =>
      call(async () => (await stripe.customers.create({ metadata: { customerId } }, { idempotencyKey })).id),
    attach: ({ stripeCustomerId, paymentMethodId, idempotencyKey }) =>
      call(async () => {
        await stripe.paymentMethods.attach(
          paymentMethodId,
          { customer: stripeCustomerId },
          { idempotencyKey },
        );
      }),
    setDefault: ({ stripeCustomerId, paymentMethodId, idempotencyKey }) =>
      call(async () => {
        await stripe.customers.update(
          stripeCustomerId,
          { invoice_settings: { default_payment_method: paymentMethodId } },
          { idempotencyKey },
        );
      }),
    defaultPaymentMethod: (stripeCustomerId) =>
      call(async () => {
        const customer = await stripe.customers.retrieve(stripeCustomerId);
        if ("deleted" in customer && customer.deleted) return undefined;
        const pm = (customer as { invoice_settings?: { default_payment_method?: unknown } }).invoice_settings
          ?.default_payment_method;
        return typeof pm === "string"
          ? pm
          : pm && typeof pm === "object" && "id" in pm
            ? String(pm.id)
            : undefined;
      }),
  };
}
