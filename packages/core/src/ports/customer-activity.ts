import type { CustomerActivity } from "../fraud";

/**
 * Counts a customer's payments and declines in the write path, so that velocity does not lag
 * during a burst (SPEC §2). A payment is counted with its initiation (the event store's
 * `countPayment`, in the same transaction) or, for one initiated without, before it is screened;
 * never in a projection.
 *
 * Each count is idempotent per payment: counting the same payment (or the same payment's decline)
 * again changes nothing, so a retried message never counts twice, and a crash before a count is
 * made good by the retry, which counts it then.
 */
export interface CustomerActivityPort {
  /**
   * Counts a payment once, at `at` (its initiation), and returns the activity before it: this
   * payment is never among the counts returned, whether it was counted now or by an earlier attempt.
   */
  recordPayment(customerId: string, paymentId: string, at: Date): Promise<CustomerActivity>;
  /**
   * The activity before a payment that was counted with its initiation at `at` (the event store's
   * `countPayment`): read, with this payment taken off it.
   */
  before(customerId: string, paymentId: string, at: Date): Promise<CustomerActivity>;
  /** The activity as it stands, counting nothing. */
  read(customerId: string, at: Date): Promise<CustomerActivity>;
  /** Counts a payment's decline once, at `at`. */
  recordDecline(customerId: string, paymentId: string, at: Date): Promise<void>;
}
