import type { OutboxDeliveries } from "@payments/adapters/dynamodb";

const DAY_MS = 86_400_000;

/**
 * The cleanup job (daily, SPEC §5): deletes failure records resolved more than OUTBOX_RETENTION_DAYS
 * ago and reports its counts. Open failures are never deleted.
 */
export async function cleanupResolvedFailures(deps: {
  deliveries: OutboxDeliveries;
  retentionDays: number;
  now?: Date;
}): Promise<{ resolvedOlder: number; deleted: number; open: number; cutoff: string }> {
  const cutoff = new Date((deps.now ?? new Date()).getTime() - deps.retentionDays * DAY_MS).toISOString();
  const old = await deps.deliveries.listFailures("resolved", { before: cutoff });
  const deleted = await deps.deliveries.deleteFailures(old);
  const open = (await deps.deliveries.listFailures("open")).length;
  return { resolvedOlder: old.length, deleted, open, cutoff };
}
