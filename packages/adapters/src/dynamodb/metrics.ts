import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { addFigure, type Figures } from "@payments/core";
import { metricShards, metricsRetentionDays, readModelTable } from "@payments/topology";

/**
 * The metrics read model (the console's overview) in the read-model table: per minute and per hour,
 * items of figures that the projector adds to in the same transaction as it writes a payment's view
 * and tally, so that each payment's part is counted exactly once.
 *
 * - a minute: `metrics#minute#<YYYY-MM-DD>` / `<HH:MM>#<shard>`
 * - an hour: `metrics#hour#<YYYY-MM>` / `<DD>T<HH>#<shard>`
 *
 * An interval is spread over {@link metricShards} items (by payment), read and summed together.
 * Every item expires {@link metricsRetentionDays} days after its interval; readers skip expired ones
 * (DynamoDB's TTL deletes them when it gets to it).
 */
export type Resolution = "minute" | "hour";

/** One interval's figures: `at` is its start, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH`. */
export interface MetricsInterval {
  readonly at: string;
  readonly figures: Readonly<Record<string, number>>;
}

const PK = readModelTable.partitionKey;
const SK = readModelTable.sortKey;
const TTL = readModelTable.ttlAttribute;
/** The attributes of a bucket item that are not figures. */
const NOT_FIGURES = new Set<string>([PK, SK, TTL]);
const RETENTION_MS = metricsRetentionDays * 86_400_000;

/** The figures of `changes` by hour (`YYYY-MM-DDTHH`): what the hour items get. */
export function byHour(changes: Figures): Figures {
  const hours: Figures = {};
  for (const [minute, figures] of Object.entries(changes))
    for (const [figure, n] of Object.entries(figures)) addFigure(hours, minute.slice(0, 13), figure, n);
  for (const [hour, figures] of Object.entries(hours)) {
    for (const [figure, n] of Object.entries(figures)) if (n === 0) delete figures[figure];
    if (Object.keys(figures).length === 0) delete hours[hour];
  }
  return hours;
}

/** The key of the item that holds an interval's figures for one shard. */
export function bucketKey(resolution: Resolution, at: string, shard: number): Record<string, string> {
  return resolution === "minute"
    ? { [PK]: `metrics#minute#${at.slice(0, 10)}`, [SK]: `${at.slice(11, 16)}#${shard}` }
    : { [PK]: `metrics#hour#${at.slice(0, 7)}`, [SK]: `${at.slice(8, 13)}#${shard}` };
}

/** When an interval's item expires, in epoch seconds. */
const expiryOf = (resolution: Resolution, at: string) =>
  Math.floor((Date.parse(`${at}${resolution === "minute" ? "" : ":00"}:00Z`) + RETENTION_MS) / 1000);

/** An update that adds `figures` to one interval's item (an ADD per figure: two such updates commute). */
export function bucketUpdate(
  tableName: string,
  resolution: Resolution,
  at: string,
  shard: number,
  figures: Readonly<Record<string, number>>,
) {
  const entries = Object.entries(figures).filter(([, n]) => n !== 0);
  return {
    TableName: tableName,
    Key: bucketKey(resolution, at, shard),
    UpdateExpression: `ADD ${entries.map((_, i) => `#f${i} :f${i}`).join(", ")} SET #ttl = :ttl`,
    ExpressionAttributeNames: {
      "#ttl": TTL,
      ...Object.fromEntries(entries.map(([figure], i) => [`#f${i}`, figure])),
    } as Record<string, string>,
    ExpressionAttributeValues: {
      ":ttl": expiryOf(resolution, at),
      ...Object.fromEntries(entries.map(([, n], i) => [`:f${i}`, n])),
    } as Record<string, number>,
  };
}

/**
 * The updates that add a payment's figure changes to the buckets: one per minute and one per hour
 * it touches, in the payment's shard.
 */
export function bucketUpdates(tableName: string, shard: number, changes: Figures) {
  const nonZero = (figures: Record<string, number>) => Object.values(figures).some((n) => n !== 0);
  return [
    ...Object.entries(changes)
      .filter(([, figures]) => nonZero(figures))
      .map(([at, figures]) => bucketUpdate(tableName, "minute", at, shard, figures)),
    ...Object.entries(byHour(changes)).map(([at, figures]) =>
      bucketUpdate(tableName, "hour", at, shard, figures),
    ),
  ];
}

/** The shard of the metrics buckets a payment adds to: a stable hash of its id. */
export function metricShardOf(paymentId: string): number {
  let hash = 0;
  for (const char of paymentId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % metricShards;
}

/**
 * The figures of every interval in [from, until) at a resolution, oldest first, shards summed.
 * Intervals with no item are left out (a reader draws them as zero).
 */
export async function readFigures(
  doc: DynamoDBDocumentClient,
  tableName: string,
  {
    from,
    until,
    resolution,
    now = new Date(),
  }: { from: Date; until: Date; resolution: Resolution; now?: Date },
): Promise<MetricsInterval[]> {
  const width = resolution === "minute" ? 16 : 13;
  const first = from.toISOString().slice(0, width);
  const last = new Date(until.getTime() - 1).toISOString().slice(0, width);
  const partitions = new Set<string>();
  for (let t = from.getTime(); t < until.getTime(); t += 3_600_000)
    partitions.add(bucketKey(resolution, new Date(t).toISOString().slice(0, width), 0)[PK]!);
  partitions.add(bucketKey(resolution, last, 0)[PK]!);
  // Only the first and the last partition are cut by the window: "HH:MM" sorts before "HH:MM#0".
  const firstKey = bucketKey(resolution, first, 0);
  const lastKey = bucketKey(resolution, last, 0);
  const interval = (sk: string) => sk.slice(0, sk.indexOf("#"));
  const sums = new Map<string, Record<string, number>>();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  await Promise.all(
    [...partitions].map(async (partition) => {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :lo AND :hi",
            ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
            ExpressionAttributeValues: {
              ":pk": partition,
              ":lo": partition === firstKey[PK] ? interval(firstKey[SK]!) : "0",
              ":hi": partition === lastKey[PK] ? `${interval(lastKey[SK]!)}#~` : "~",
            },
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) {
          if (Number(item[TTL] ?? Number.POSITIVE_INFINITY) < nowSeconds) continue;
          const at = intervalOf(resolution, String(item[PK]), String(item[SK]));
          if (at < first || at > last) continue;
          const figures = sums.get(at) ?? {};
          for (const [name, value] of Object.entries(item))
            if (!NOT_FIGURES.has(name) && typeof value === "number")
              figures[name] = (figures[name] ?? 0) + value;
          sums.set(at, figures);
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }),
  );
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([at, figures]) => ({ at, figures }));
}

/** The interval an item holds, from its keys. */
function intervalOf(resolution: Resolution, pk: string, sk: string): string {
  const partition = pk.slice(pk.lastIndexOf("#") + 1);
  return resolution === "minute" ? `${partition}T${sk.slice(0, 5)}` : `${partition}-${sk.slice(0, 5)}`;
}
