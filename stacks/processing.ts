/** Queue subscribers (process-payment) arrive with the order-queue processor. */
export const subscribers: unknown[] = [];
