import type { EventMetadata, PaymentEvent } from "@payments/events";
import { ConcurrencyError } from "./errors";
import type { RecordedEvent } from "./event-envelope";
import type { EventStore, UniqueClaim } from "./event-store";
import { decidePayment, type PaymentCommand } from "./payment-decider";
import { evolvePayment, initialPaymentState, type PaymentState } from "./payment-state";

export interface HandleCommandInput {
  readonly paymentId: string;
  readonly command: PaymentCommand;
  readonly metadata: EventMetadata;
  /** Values the new events must hold alone, such as the orderId of a new payment. */
  readonly unique?: (events: readonly PaymentEvent[], state: PaymentState) => readonly UniqueClaim[];
}

export interface HandleCommandResult {
  readonly state: PaymentState;
  readonly version: number;
  /** What this command appended; empty when it was already done. */
  readonly appended: readonly RecordedEvent[];
}

export interface CommandHandlerOptions {
  readonly now?: () => Date;
  readonly newId: () => string;
  /** How many load → decide → append rounds before a lost race is reported. */
  readonly maxAttempts?: number;
  /** Pause before retrying a lost race; jittered so racing writers spread out. */
  readonly backoff?: (attempt: number) => Promise<void>;
}

const jitteredBackoff = (attempt: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));

/** Folds a stream into the payment's state. */
export function foldPayment(events: readonly RecordedEvent[]): { state: PaymentState; version: number } {
  let state = initialPaymentState;
  for (const event of events) state = evolvePayment(state, event);
  return { state, version: events.at(-1)?.version ?? 0 };
}

/**
 * Runs a command against a payment: load → decide → append. A lost race is retried from a fresh
 * read up to `maxAttempts` times, then reported as a {@link ConcurrencyError}. Rule violations are
 * thrown by decide and never retried.
 *
 * @example
 * const handle = createCommandHandler(store, { newId: ulid });
 * await handle({ paymentId, command: { type: "CancelPayment", reason: "customer" }, metadata });
 */
export function createCommandHandler(store: EventStore, options: CommandHandlerOptions) {
  const { now = () => new Date(), newId, maxAttempts = 5, backoff = jitteredBackoff } = options;
  return async function handleCommand(input: HandleCommandInput): Promise<HandleCommandResult> {
    let lastVersion = 0;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const { state, version } = foldPayment(await store.load(input.paymentId));
      lastVersion = version;
      const events = decidePayment(input.command, state, { paymentId: input.paymentId });
      if (events.length === 0) return { state, version, appended: [] };
      try {
        const appended = await store.append({
          paymentId: input.paymentId,
          expectedVersion: version,
          events,
          metadata: input.metadata,
          unique: input.unique?.(events, state),
          now: now(),
          newId,
        });
        let next = state;
        for (const event of appended) next = evolvePayment(next, event);
        return { state: next, version: version + appended.length, appended };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt === maxAttempts) {
          if (error instanceof ConcurrencyError)
            throw new ConcurrencyError(input.paymentId, version, attempt);
          throw error;
        }
        await backoff(attempt);
      }
    }
    throw new ConcurrencyError(input.paymentId, lastVersion, maxAttempts);
  };
}

export type CommandHandler = ReturnType<typeof createCommandHandler>;
