import type { OpenPaymentDue, ReadModelStore } from "@payments/adapters/dynamodb";
import type { EventMetadata } from "@payments/events";
import { openPaymentShards, reconcilerDefaults } from "@payments/topology";
import type { Settle } from "./settle";

export interface ReconcilerConfig {
  /** RECONCILE_AFTER: an open payment whose last event is older than this is asked about. */
  readonly afterMs: number;
  /** The most payments one run examines. */
  readonly maxPerRun: number;
  readonly concurrency: number;
  /** The longest pause before a payment still in progress at its provider is asked about again. */
  readonly maxBackoffMs: number;
}

/** What one run did: the line it logs, and its metrics. */
export interface ReconcileRunReport {
  readonly runId: string;
  readonly examined: number;
  readonly settled: number;
  /**
   * Settled payments where the provider had moved money the ledger did not hold (a charge or a
   * refund it made): drift of class `missing_in_ledger`, now recorded.
   */
  readonly drift: number;
  readonly inProgress: number;
  /**
   * Payments another run (or a webhook) settled first: found no longer open when read, or the
   * provider's record already in the stream when decided on, so nothing was appended.
   */
  readonly alreadySettled: number;
  readonly providerErrors: number;
  /** Payments whose look failed for another reason (logged; looked at again on the next run). */
  readonly errors: number;
  /** Events appended, by type. */
  readonly appended: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/** Events that record money a provider moved: found by the reconciler, they were missing from the ledger. */
const MONEY_MOVED = new Set(["PaymentAuthorized", "PaymentCaptured", "PaymentRefunded"]);

/** Reads RECONCILE_AFTER (seconds) and the run's bounds from the environment, with topology's defaults. */
export function reconcilerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ReconcilerConfig {
  const seconds = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === "") return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0)
      throw new Error(`${name} must be a number of seconds, not ${value}`);
    return parsed;
  };
  return {
    afterMs: seconds("RECONCILE_AFTER", reconcilerDefaults.afterSeconds) * 1000,
    maxPerRun: Math.max(1, Math.floor(seconds("RECONCILE_MAX_PER_RUN", reconcilerDefaults.maxPerRun))),
    concurrency: reconcilerDefaults.concurrency,
    maxBackoffMs: reconcilerDefaults.maxBackoffSeconds * 1000,
  };
}

/**
 * The reconciler's run (SPEC §6.1): reads the payments due from the open-payments index (shard by
 * shard, oldest first, at most `maxPerRun`), asks each one's provider, and appends what it holds.
 * A payment still in progress is deferred with a growing pause; one whose provider did not answer
 * goes to the back of the queue, due again on the next run. Nothing else is written, so a run that
 * stops halfway loses nothing and the next one carries on; two runs at once are safe, because
 * appends are conditional and decided on the stream as it is.
 */
export function createReconciler(deps: {
  readModels: ReadModelStore;
  settle: Settle;
  config: ReconcilerConfig;
  now?: () => Date;
  newRunId: () => string;
  onError?: (paymentId: string, error: Error) => void;
}) {
  const now = deps.now ?? (() => new Date());

  async function due(before: string): Promise<OpenPaymentDue[]> {
    const perShard = Math.ceil(deps.config.maxPerRun / openPaymentShards);
    const shards = await Promise.all(
      Array.from({ length: openPaymentShards }, (_, shard) =>
        deps.readModels.openPaymentsDue({ shard, before, limit: perShard }),
      ),
    );
    return shards
      .flat()
      .sort((a, b) => a.dueFrom.localeCompare(b.dueFrom))
      .slice(0, deps.config.maxPerRun);
  }

  return async function run(): Promise<ReconcileRunReport> {
    const started = now();
    const runId = deps.newRunId();
    const metadata: EventMetadata = {
      correlationId: `reconcile:${runId}`,
      causationId: `reconcile:${runId}`,
      source: "reconciler",
    };
    const cutoff = new Date(started.getTime() - deps.config.afterMs).toISOString();
    const payments = await due(cutoff);
    const counts = { settled: 0, drift: 0, inProgress: 0, alreadySettled: 0, providerErrors: 0, errors: 0 };
    const appended: Record<string, number> = {};

    async function one(entry: OpenPaymentDue) {
      try {
        const outcome = await deps.settle(entry.paymentId, metadata);
        if (outcome.kind === "not_open" || (outcome.kind === "settled" && outcome.appended.length === 0)) {
          counts.alreadySettled += 1;
          return;
        }
        if (outcome.kind === "settled") {
          counts.settled += 1;
          if (outcome.appended.some((type) => MONEY_MOVED.has(type))) counts.drift += 1;
          for (const type of outcome.appended) appended[type] = (appended[type] ?? 0) + 1;
          return;
        }
        if (outcome.kind === "provider_error") counts.providerErrors += 1;
        else counts.inProgress += 1;
        // Still open: due again on the next run after a provider error, later while in progress.
        const attempts = outcome.kind === "in_progress" ? entry.attempts + 1 : entry.attempts;
        const pause =
          outcome.kind === "in_progress"
            ? Math.min(deps.config.afterMs * (2 ** attempts - 1), deps.config.maxBackoffMs)
            : 0;
        const from = new Date(now().getTime() - deps.config.afterMs + pause).toISOString();
        await deps.readModels.deferOpenPayment({
          paymentId: entry.paymentId,
          version: entry.version,
          from,
          attempts,
        });
      } catch (error) {
        counts.errors += 1;
        deps.onError?.(entry.paymentId, error as Error);
      }
    }

    let next = 0;
    const worker = async () => {
      while (next < payments.length) await one(payments[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(deps.config.concurrency, payments.length) }, worker));
    return {
      runId,
      examined: payments.length,
      ...counts,
      appended,
      seconds: (now().getTime() - started.getTime()) / 1000,
    };
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
