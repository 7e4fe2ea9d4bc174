import { isDeepStrictEqual } from "node:util";
import type { PutCommandInput } from "@aws-sdk/lib-dynamodb";
import { electro } from "@payments/topology";

/** ElectroDB's identity attributes, the same on every item of one entity. */
export interface EntityIdentity {
  /** `__edb_e__`: the entity's name. */
  readonly entity: unknown;
  /** `__edb_v__`: the entity's model version. */
  readonly entityVersion: unknown;
}

/**
 * A conditional create with ElectroDB's params, built without ElectroDB on each write.
 *
 * ElectroDB builds a fresh chain of clause objects for every `create().params()`: on this
 * machine 80–150 µs of CPU per write under load, which is what stood between the store and the
 * raw SDK (SPEC §9). The params of a conditional create differ between items only in the item
 * itself, so ElectroDB generates them once, here, from a sample item, and `itemOf` writes each item
 * as one object literal. The result for the sample must equal ElectroDB's params exactly, or this
 * throws; `compiled-put.test.ts` holds them equal item by item too.
 *
 * Write the item's attribute names out in `itemOf`: an object literal with computed names
 * (`[table.partitionKey]: …`) or a spread cost ten times as much to build (a tight loop here: 0.95 µs
 * against 0.09 µs), and the SDK then marshals the slower object.
 */
export function compileCreate<Item>(
  generate: (item: Item) => PutCommandInput,
  sample: Item,
  itemOf: (identity: EntityIdentity) => (item: Item) => Record<string, unknown>,
): (item: Item) => PutCommandInput {
  const params = generate(sample);
  const { TableName, ConditionExpression, ExpressionAttributeNames, Item: generated } = params;
  if (!TableName || !ConditionExpression || !ExpressionAttributeNames || !generated) {
    throw new Error("ElectroDB's create params have no table, condition, names or item: its output changed");
  }
  const build = itemOf({ entity: generated[electro.entityAttribute], entityVersion: generated.__edb_v__ });
  const put = (item: Item): PutCommandInput => ({
    TableName,
    ConditionExpression,
    ExpressionAttributeNames,
    Item: build(item),
  });
  const compiled = put(sample);
  if (!isDeepStrictEqual(compiled, params)) {
    throw new Error(
      `the compiled create differs from ElectroDB's: ${JSON.stringify(compiled)} against ${JSON.stringify(params)}`,
    );
  }
  return put;
}
