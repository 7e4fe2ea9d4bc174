import type { ReadModelStore } from "@payments/adapters/dynamodb";
import type { StripeCustomers } from "@payments/adapters/stripe";
import { monotonicFactory } from "ulid";

const ulid = monotonicFactory();

/** A customer's payment method as saved at Stripe, and whether it is the one charged by default. */
export interface SavedMethod {
  readonly customerId: string;
  readonly gatewayCustomerId: string;
  readonly paymentMethodId: string;
  readonly default: boolean;
}

/**
 * Saved payment methods (SPEC §4.1, format B): one Stripe Customer per customer id of ours, found
 * through an item of the read-model table (written once; two racers get the same customer, since
 * its creation's idempotency key is the customer id), its attached methods, and its default one,
 * which an order message without a card token charges off session.
 */
export function createSavedMethods(deps: {
  customers: () => StripeCustomers;
  mapping: () => Pick<ReadModelStore, "stripeCustomer" | "putStripeCustomer">;
}) {
  async function gatewayCustomer(customerId: string): Promise<string> {
    const kept = await deps.mapping().stripeCustomer(customerId);
    if (kept) return kept;
    const created = await deps.customers().create({ customerId, idempotencyKey: `customer:${customerId}` });
    return deps.mapping().putStripeCustomer(customerId, created);
  }

  return {
    /** Attaches a method; it becomes the default when asked to, or when the customer has none. */
    async attach(customerId: string, paymentMethodId: string, makeDefault?: boolean): Promise<SavedMethod> {
      const gatewayCustomerId = await gatewayCustomer(customerId);
      const customers = deps.customers();
      await customers.attach({
        stripeCustomerId: gatewayCustomerId,
        paymentMethodId,
        idempotencyKey: `attach:${gatewayCustomerId}:${paymentMethodId}`,
      });
      const current = await customers.defaultPaymentMethod(gatewayCustomerId);
      const isDefault =
        makeDefault === true || (makeDefault === undefined && !current) || current === paymentMethodId;
      if (isDefault && current !== paymentMethodId) {
        await customers.setDefault({
          stripeCustomerId: gatewayCustomerId,
          paymentMethodId,
          idempotencyKey: `default:${gatewayCustomerId}:${ulid()}`,
        });
      }
      return { customerId, gatewayCustomerId, paymentMethodId, default: isDefault };
    },
    /** The method an order without a card token charges: the customer's default, if any. */
    async defaultFor(customerId: string) {
      const gatewayCustomerId = await deps.mapping().stripeCustomer(customerId);
      if (!gatewayCustomerId) return undefined;
      const paymentMethodId = await deps.customers().defaultPaymentMethod(gatewayCustomerId);
      return paymentMethodId ? { gatewayCustomerId, paymentMethodId } : undefined;
    },
  };
}

export type SavedMethods = ReturnType<typeof createSavedMethods>;
