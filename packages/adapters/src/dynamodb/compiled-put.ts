import { isDeepStrictEqual } from "node:util";
import type { PutCommandInput } from "@aws-sdk/lib-dynamodb";

/** What every conditional create of one entity shares: all of ElectroDB's params but the item's own values. */
export interface CreateTemplate {
  readonly TableName: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  /** ElectroDB's item for the sample, whose identity attributes (entity name and version) every item shares. */
  readonly sampleItem: Readonly<Record<string, unknown>>;
}

/**
 * A conditional create with ElectroDB's params, built without ElectroDB on each write.
 *
 * ElectroDB builds a fresh chain of clause objects for every `create().params()`: on this
 * machine 80–150 µs of CPU per write under load, which is what stood between the store and the
 * raw SDK (SPEC §9). The params of a conditional create differ between items only in the item
 * itself, so ElectroDB generates them once, here, from a sample item, and `fill` writes each item
 * as one object literal. `fill`'s result for the sample must equal ElectroDB's params exactly, or
 * this throws; `compiled-put.test.ts` holds them equal item by item too.
 *
 * Write the item's attribute names out in `fill`: an object literal with computed names
 * (`[table.partitionKey]: …`) or a spread cost ten times as much to build (a tight loop here: 0.95 µs
 * against 0.09 µs), and the SDK then marshals the slower object.
 */
export function compileCreate<Item>(
  generate: (item: Item) => PutCommandInput,
  sample: Item,
  fill: (template: CreateTemplate) => (item: Item) => PutCommandInput,
): (item: Item) => PutCommandInput {
  const params = generate(sample);
  if (!params.TableName || !params.ConditionExpression || !params.ExpressionAttributeNames || !params.Item) {
    throw new Error("ElectroDB's create params have no table, condition, names or item: its output changed");
  }
  const put = fill({
    TableName: params.TableName,
    ConditionExpression: params.ConditionExpression,
    ExpressionAttributeNames: params.ExpressionAttributeNames,
    sampleItem: params.Item,
  });
  const compiled = put(sample);
  if (!isDeepStrictEqual(compiled, params)) {
    throw new Error(
      `the compiled create differs from ElectroDB's: ${JSON.stringify(compiled)} against ${JSON.stringify(params)}`,
    );
  }
  return put;
}
