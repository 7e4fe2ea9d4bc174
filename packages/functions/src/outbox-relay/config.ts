import { eventBus, outboxDefaults } from "@payments/topology";

/** A whole number from the environment, or the default. @throws Error for anything else */
export function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${raw}: a whole number of 1 or more`);
  return value;
}

/** The outbox's knobs (SPEC §5), checked at cold start. */
export function outboxConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    batchSize: positiveInteger(env, "OUTBOX_BATCH_SIZE", outboxDefaults.batchSize),
    maxRetries: positiveInteger(env, "OUTBOX_MAX_RETRIES", outboxDefaults.maxRetries),
    retentionDays: positiveInteger(env, "OUTBOX_RETENTION_DAYS", outboxDefaults.retentionDays),
    source: env.EVENT_SOURCE || eventBus.source,
  };
}
