import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, type PutCommandInput } from "@aws-sdk/lib-dynamodb";
import {
  type AppendInput,
  ConcurrencyError,
  type EventStore,
  envelopesFor,
  parseRecordedEvent,
  type RecordedEvent,
  type UniqueClaim,
  UniquenessConflictError,
} from "@payments/core";
import { compileCreate } from "./compiled-put";
import { COUNT_CONFLICT_ATTEMPTS, customerActivityWrites } from "./customer-activity";
import { eventEntity, uniqueEntity, VERSION_PAD } from "./entities";
import { transactRetryingConflicts } from "./transactions";

export interface DynamoEventStoreOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * The table of the customers' activity (the read models'), for an append that counts its payment
   * (`countPayment`): read when such an append is made, so a function that never makes one needs no
   * link to it.
   */
  readonly activityTableName?: () => string;
}

/** DynamoDB's limit of items in one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;

/**
 * The event store on DynamoDB, modelled with ElectroDB. ElectroDB builds every request; writes are
 * sent with the bare document client, so an append costs one round trip and nothing more:
 * one event alone is one conditional PutItem, anything more is one TransactWriteItems.
 *
 * @example
 * const store = createDynamoEventStore({ client: new DynamoDBClient({}), tableName: Resource.EventStore.name });
 * await store.append({ paymentId, expectedVersion: 0, events, metadata, now: new Date(), newId: ulid });
 */
export function createDynamoEventStore({
  client,
  tableName,
  activityTableName,
}: DynamoEventStoreOptions): EventStore {
  const doc =
    client instanceof DynamoDBDocumentClient
      ? client
      : DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const events = eventEntity(doc, tableName);
  const uniques = uniqueEntity(doc, tableName);

  const eventPut = compileEventPut(events);
  const claimPut = compileClaimPut(uniques);
  let activityWrites: ReturnType<typeof customerActivityWrites> | undefined;
  const countWrites = (input: AppendInput, atMs: number) => {
    if (!input.countPayment) return [];
    if (!activityTableName)
      throw new Error("this event store was given no activity table: an append cannot count its payment");
    activityWrites ??= customerActivityWrites(doc, activityTableName());
    return activityWrites.paymentCounters(input.countPayment.customerId, atMs);
  };

  async function append(input: AppendInput): Promise<RecordedEvent[]> {
    const recorded = envelopesFor(input);
    const claims = input.unique ?? [];
    if (recorded.length === 0) return recorded;

    if (recorded.length === 1 && claims.length === 0 && !input.countPayment) {
      try {
        await doc.send(new PutCommand(eventPut(eventItem(recorded[0]!))));
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          throw new ConcurrencyError(input.paymentId, input.expectedVersion);
        }
        throw error;
      }
      return recorded;
    }

    const items = [
      ...recorded.map((event) => ({ kind: "event" as const, put: eventPut(eventItem(event)) })),
      ...claims.map((claim) => ({
        kind: "claim" as const,
        claim,
        put: claimPut({
          kind: claim.kind,
          value: claim.value,
          paymentId: input.paymentId,
          createdAt: recorded[0]!.occurredAt,
          // A redelivery reads it to know the payment was counted with its initiation.
          ...(input.countPayment ? { countedFor: input.countPayment.customerId } : {}),
        }),
      })),
    ];
    // The payment's count in the same transaction (the read-model table's counters); its claims say so.
    const counts = countWrites(input, Date.parse(recorded[0]!.occurredAt));
    const sent = [...items.map(({ put }) => ({ Put: put })), ...counts];
    if (sent.length > MAX_TRANSACTION_ITEMS) {
      throw new RangeError(`an append writes at most ${MAX_TRANSACTION_ITEMS} items, not ${sent.length}`);
    }
    try {
      // Another payment of the customer may meet this one on a counter: only that is tried again.
      await transactRetryingConflicts(doc, sent, {
        attempts: COUNT_CONFLICT_ATTEMPTS,
        retryable: (index) => index >= items.length,
      });
      return recorded;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      return explain(error, items, input);
    }
  }

  /** Throws what a canceled append means: a taken version, a taken claim (with its holder), or the error. */
  async function explain(
    error: TransactionCanceledException,
    items: ReadonlyArray<TransactionItem>,
    input: AppendInput,
  ): Promise<never> {
    const explained = cancellationError(error, items, input);
    if (explained instanceof UniquenessConflictError) {
      // Read the holder only on a clash, so that a successful append costs nothing extra.
      throw new UniquenessConflictError(
        explained.kind,
        explained.value,
        await findOwner({ kind: explained.kind as UniqueClaim["kind"], value: explained.value }),
      );
    }
    throw explained;
  }

  async function load(paymentId: string, options: { afterVersion?: number } = {}): Promise<RecordedEvent[]> {
    const query = events.query.stream({ paymentId });
    const { data } = await (options.afterVersion ? query.gt({ version: options.afterVersion }) : query).go({
      pages: "all",
      consistent: true,
      ignoreOwnership: true,
    });
    return data.map(parseRecordedEvent);
  }

  async function findClaim(claim: Pick<UniqueClaim, "kind" | "value">) {
    const { data } = await uniques.get({ kind: claim.kind, value: claim.value }).go({ consistent: true });
    return data
      ? { paymentId: data.paymentId, ...(data.countedFor ? { countedFor: data.countedFor } : {}) }
      : undefined;
  }
  const findOwner = async (claim: Pick<UniqueClaim, "kind" | "value">) => (await findClaim(claim))?.paymentId;

  return { append, load, findOwner, findClaim };
}

/** The attributes of an event item, as the event entity models them. */
export function eventItem(event: RecordedEvent) {
  return {
    paymentId: event.paymentId,
    version: event.version,
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    data: event.data as Record<string, unknown>,
    metadata: event.metadata as Record<string, unknown>,
  };
}

type EventItem = ReturnType<typeof eventItem>;
type ClaimItem = { kind: string; value: string; paymentId: string; createdAt: string; countedFor?: string };

const sampleEvent: EventItem = {
  paymentId: "pay_sample",
  version: 1,
  id: "sample",
  type: "PaymentInitiated",
  schemaVersion: 1,
  occurredAt: "",
  data: {},
  metadata: {},
};

/**
 * ElectroDB's conditional create of an event item, generated once (see compiled-put.ts); the
 * item is one literal with its names written out, as this is the store's hottest path.
 */
export function compileEventPut(
  events: ReturnType<typeof eventEntity>,
): (item: EventItem) => PutCommandInput {
  return compileCreate<EventItem>(
    (item) => events.create(item).params<PutCommandInput>(),
    sampleEvent,
    ({ entity, entityVersion }) =>
      (item) => ({
        paymentId: item.paymentId,
        version: item.version,
        id: item.id,
        type: item.type,
        schemaVersion: item.schemaVersion,
        occurredAt: item.occurredAt,
        data: item.data,
        metadata: item.metadata,
        pk: item.paymentId,
        sk: String(item.version).padStart(VERSION_PAD, "0"),
        __edb_e__: entity,
        __edb_v__: entityVersion,
      }),
  );
}

/** ElectroDB's conditional create of a uniqueness row, generated once (see compiled-put.ts). */
export function compileClaimPut(
  uniques: ReturnType<typeof uniqueEntity>,
): (item: ClaimItem) => PutCommandInput {
  return compileCreate<ClaimItem>(
    (item) => uniques.create(item).params<PutCommandInput>(),
    { kind: "orderId", value: "sample", paymentId: "pay_sample", createdAt: "" },
    ({ entity, entityVersion }) =>
      (item) =>
        item.countedFor === undefined
          ? {
              kind: item.kind,
              value: item.value,
              paymentId: item.paymentId,
              createdAt: item.createdAt,
              pk: `unique#${item.kind}#${item.value}`,
              sk: "unique",
              __edb_e__: entity,
              __edb_v__: entityVersion,
            }
          : {
              kind: item.kind,
              value: item.value,
              paymentId: item.paymentId,
              createdAt: item.createdAt,
              countedFor: item.countedFor,
              pk: `unique#${item.kind}#${item.value}`,
              sk: "unique",
              __edb_e__: entity,
              __edb_v__: entityVersion,
            },
  );
}

type TransactionItem = { kind: "event" } | { kind: "claim"; claim: UniqueClaim };

/**
 * Explains a canceled transaction. A taken version wins over a taken claim: the caller retries from
 * a fresh read, and the claim is then judged against the stream as it really is.
 */
function cancellationError(
  error: TransactionCanceledException,
  items: readonly TransactionItem[],
  input: AppendInput,
): Error {
  const reasons = error.CancellationReasons ?? [];
  const failed = (i: number) => reasons[i]?.Code && reasons[i]?.Code !== "None";
  if (items.some((item, i) => item.kind === "event" && failed(i))) {
    return new ConcurrencyError(input.paymentId, input.expectedVersion);
  }
  for (const [i, item] of items.entries()) {
    if (item.kind !== "claim" || !failed(i)) continue;
    if (reasons[i]?.Code === "TransactionConflict")
      return new ConcurrencyError(input.paymentId, input.expectedVersion);
    const owner = reasons[i]?.Item?.paymentId?.S;
    return new UniquenessConflictError(item.claim.kind, item.claim.value, owner);
  }
  return error;
}
