import type { PutCommandInput } from "@aws-sdk/lib-dynamodb";

/** What every conditional create of one entity shares: all of ElectroDB's params but the item's own values. */
export interface CreateTemplate {
  readonly TableName: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  /** ElectroDB's identity attributes (entity name and version), the same on every item. */
  readonly identity: Readonly<Record<string, string>>;
}

/**
 * ElectroDB builds a fresh chain of clause objects for every `create().params()`: on this
 * machine 80–150 µs of CPU per write under load, which is what stood between the store and the
 * raw SDK (SPEC §9). The parameters of a conditional create differ between items only in the
 * item itself, so ElectroDB generates them once, here, from a sample item, and the writers fill
 * in each item. The keys the writers compute are checked against ElectroDB's for the sample here,
 * and `compiled-put.test.ts` holds whole params equal to ElectroDB's own, item by item.
 */
export function electroCreateTemplate<Item extends Record<string, unknown>>(
  generate: (item: Item) => PutCommandInput,
  sample: Item,
  keys: (item: Item) => Record<string, string>,
): CreateTemplate {
  const params = generate(sample);
  const generated = params.Item ?? {};
  const sampleKeys = keys(sample);
  for (const [name, value] of Object.entries(sampleKeys)) {
    if (generated[name] !== value) {
      throw new Error(
        `ElectroDB's key ${name} is ${JSON.stringify(generated[name])}, not ${JSON.stringify(value)}`,
      );
    }
  }
  const identity = Object.fromEntries(
    Object.entries(generated).filter(([name]) => !(name in sample) && !(name in sampleKeys)),
  ) as Record<string, string>;
  if (!params.TableName || !params.ConditionExpression || !params.ExpressionAttributeNames) {
    throw new Error("ElectroDB's create params have no table, condition or names: its output changed");
  }
  return {
    TableName: params.TableName,
    ConditionExpression: params.ConditionExpression,
    ExpressionAttributeNames: params.ExpressionAttributeNames,
    identity,
  };
}
