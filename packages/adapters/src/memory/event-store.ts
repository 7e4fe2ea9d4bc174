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

/**
 * An in-memory event store for fast unit tests. It keeps the DynamoDB store's contract (the same
 * suite runs against both), but CI trusts the DynamoDB one.
 */
export function createMemoryEventStore(): EventStore & {
  readonly streams: ReadonlyMap<string, RecordedEvent[]>;
} {
  const streams = new Map<string, RecordedEvent[]>();
  const claims = new Map<string, string>();
  const claimKey = (claim: UniqueClaim) => `${claim.kind}#${claim.value}`;

  async function append(input: AppendInput): Promise<RecordedEvent[]> {
    if (input.countPayment)
      throw new Error("the in-memory event store keeps no customer activity: countPayment needs DynamoDB's");
    const recorded = envelopesFor(input);
    await Promise.resolve(); // yield, as a real store would, so that races can happen in tests
    const stream = streams.get(input.paymentId) ?? [];
    if (stream.length !== input.expectedVersion)
      throw new ConcurrencyError(input.paymentId, input.expectedVersion);
    for (const claim of input.unique ?? []) {
      const owner = claims.get(claimKey(claim));
      if (owner !== undefined) throw new UniquenessConflictError(claim.kind, claim.value, owner);
    }
    for (const claim of input.unique ?? []) claims.set(claimKey(claim), input.paymentId);
    streams.set(input.paymentId, [...stream, ...recorded.map((event) => structuredClone(event))]);
    return recorded;
  }

  async function load(paymentId: string, options: { afterVersion?: number } = {}): Promise<RecordedEvent[]> {
    const stream = streams.get(paymentId) ?? [];
    return stream.slice(options.afterVersion ?? 0).map((event) => parseRecordedEvent(structuredClone(event)));
  }

  async function findOwner(claim: UniqueClaim): Promise<string | undefined> {
    return claims.get(claimKey(claim));
  }

  const findClaim = async (claim: UniqueClaim) => {
    const paymentId = await findOwner(claim);
    return paymentId === undefined ? undefined : { paymentId };
  };

  return { append, load, findOwner, findClaim, streams };
}
