import type { EventMetadata, PaymentEvent } from "@payments/events";
import { ConcurrencyError } from "./errors";
import type { RecordedEvent } from "./event-envelope";
import type { AppendInput, EventStore, UniqueClaim } from "./event-store";
import { type PaymentCommand, validatePaymentCommand } from "./payment-commands";
import { decideValidated } from "./payment-decider";
import { evolvePayment, initialPaymentState, type PaymentState } from "./payment-state";

export interface HandleCommandInput {
  readonly paymentId: string;
  readonly command: PaymentCommand;
  readonly metadata: EventMetadata;
  /** Values the new events must hold alone, such as the orderId of a new payment. */
  readonly unique?: (events: readonly PaymentEvent[], state: PaymentState) => readonly UniqueClaim[];
  /** Counts the payment in its customer's activity with the append (see {@link AppendInput}). */
  readonly countPayment?: AppendInput["countPayment"];
  /**
   * The state and version the caller already holds from its previous command, to decide on
   * without reading the stream again. If it is stale, the append loses the race and the next
   * attempt reads the stream afresh, so correctness never depends on it.
   */
  readonly known?: { readonly state: PaymentState; readonly version: number };
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
 * Runs a command against a payment: validate → load → decide → append. A lost race is retried from a fresh
 * read up to `maxAttempts` times, then reported as a {@link ConcurrencyError}. Rule violations are
 * thrown by decide and never retried, once judged on the stream as it is. With `known`, the first
 * decision uses the state the caller holds and skips the read; staleness only costs a fresh read.
 *
 * @example
 * const handle = createCommandHandler(store, { newId: ulid });
 * await handle({ paymentId, command: { type: "CancelPayment", reason: "customer" }, metadata });
 */
export function createCommandHandler(store: EventStore, options: CommandHandlerOptions) {
  const { now = () => new Date(), newId, maxAttempts = 5, backoff = jitteredBackoff } = options;
  return async function handleCommand(input: HandleCommandInput): Promise<HandleCommandResult> {
    // Checked once, before any read: a malformed command costs no round trip and is never retried.
    const command = validatePaymentCommand(input.command);
    let lastVersion = 0;
    let known = input.known;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const fromKnown = known !== undefined;
      const { state, version } = known ?? foldPayment(await store.load(input.paymentId));
      known = undefined;
      lastVersion = version;
      let events: PaymentEvent[];
      try {
        events = decideValidated(command, state, { paymentId: input.paymentId });
      } catch (error) {
        // A refusal is only reported when judged on the stream as it is: a held state may be stale.
        if (!fromKnown) throw error;
        attempt--;
        continue;
      }
      if (events.length === 0) return { state, version, appended: [] };
      try {
        const appended = await store.append({
          paymentId: input.paymentId,
          expectedVersion: version,
          events,
          metadata: input.metadata,
          unique: input.unique?.(events, state),
          ...(input.countPayment ? { countPayment: input.countPayment } : {}),
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
        // A held state that lost the race is simply stale: read afresh at once, no back-off.
        if (!fromKnown) await backoff(attempt);
      }
    }
    throw new ConcurrencyError(input.paymentId, lastVersion, maxAttempts);
  };
}

export type CommandHandler = ReturnType<typeof createCommandHandler>;
