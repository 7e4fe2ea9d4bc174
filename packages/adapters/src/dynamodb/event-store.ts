import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type AppendInput,
  assertPublishable,
  ConcurrencyError,
  type EventStore,
  parseRecordedEvent,
  type RecordedEvent,
  toRecordedEvent,
  type UniqueClaim,
  UniquenessConflictError,
} from "@payments/core";
import { eventEntity, uniqueEntity } from "./entities";

export interface DynamoEventStoreOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
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
export function createDynamoEventStore({ client, tableName }: DynamoEventStoreOptions): EventStore {
  const doc =
    client instanceof DynamoDBDocumentClient
      ? client
      : DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const events = eventEntity(doc, tableName);
  const uniques = uniqueEntity(doc, tableName);

  // ElectroDB types its params loosely; they are a complete conditional Put.
  const eventPut = (event: RecordedEvent): PutCommandInput =>
    events
      .create({
        paymentId: event.paymentId,
        version: event.version,
        id: event.id,
        type: event.type,
        schemaVersion: event.schemaVersion,
        occurredAt: event.occurredAt,
        data: event.data,
        metadata: event.metadata,
      })
      .params<PutCommandInput>();

  const claimPut = (claim: UniqueClaim, paymentId: string, createdAt: string): PutCommandInput =>
    uniques.create({ kind: claim.kind, value: claim.value, paymentId, createdAt }).params<PutCommandInput>();

  async function append(input: AppendInput): Promise<RecordedEvent[]> {
    const occurredAt = input.now.toISOString();
    const recorded = input.events.map((event, i) =>
      toRecordedEvent(event, {
        paymentId: input.paymentId,
        version: input.expectedVersion + i + 1,
        id: input.newId(),
        occurredAt,
        metadata: input.metadata,
      }),
    );
    for (const event of recorded) assertPublishable(event);
    const claims = input.unique ?? [];
    if (recorded.length === 0) return recorded;

    if (recorded.length === 1 && claims.length === 0) {
      try {
        await doc.send(new PutCommand(eventPut(recorded[0]!)));
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          throw new ConcurrencyError(input.paymentId, input.expectedVersion);
        }
        throw error;
      }
      return recorded;
    }

    const items = [
      ...recorded.map((event) => ({ kind: "event" as const, put: eventPut(event) })),
      ...claims.map((claim) => ({
        kind: "claim" as const,
        claim,
        put: claimPut(claim, input.paymentId, occurredAt),
      })),
    ];
    if (items.length > MAX_TRANSACTION_ITEMS) {
      throw new RangeError(`an append writes at most ${MAX_TRANSACTION_ITEMS} items, not ${items.length}`);
    }
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: items.map(({ put }) => ({
            Put: { ...put, ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const },
          })),
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw cancellationError(error, items, input);
      throw error;
    }
    return recorded;
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

  async function findOwner(claim: UniqueClaim): Promise<string | undefined> {
    const { data } = await uniques.get({ kind: claim.kind, value: claim.value }).go({ consistent: true });
    return data?.paymentId;
  }

  return { append, load, findOwner };
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
