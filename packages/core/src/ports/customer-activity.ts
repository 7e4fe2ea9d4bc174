import type { CustomerActivity } from "../fraud";

/**
 * Counts a customer's payments and declines in the write path, so that velocity does not lag
 * during a burst (SPEC §2). Counting happens when a payment is initiated, not in a projection.
 */
export interface CustomerActivityPort {
  /** Counts a new payment and returns the activity before it. */
  recordPayment(customerId: string, at: Date): Promise<CustomerActivity>;
  /** The activity as it stands, counting nothing (a retry of a payment already counted). */
  read(customerId: string, at: Date): Promise<CustomerActivity>;
  recordDecline(customerId: string, at: Date): Promise<void>;
}
