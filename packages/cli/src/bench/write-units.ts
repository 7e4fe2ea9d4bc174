import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/**
 * An item's size by DynamoDB's published rules: each attribute's name plus its value (strings
 * and binaries by their bytes, numbers by about one byte per two significant digits plus one,
 * maps and lists 3 bytes plus one per element plus their contents).
 */
export function itemSizeBytes(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|^0+/g, "").length / 2) + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemSizeBytes(value.M);
  if (value.L !== undefined) return 3 + value.L.length + value.L.reduce((s, v) => s + valueSize(v), 0);
  if (value.SS !== undefined) return value.SS.reduce((s, v) => s + Buffer.byteLength(v), 0);
  if (value.NS !== undefined) return value.NS.reduce((s, v) => s + Math.ceil(v.length / 2) + 1, 0);
  return 0;
}

/** Write units of a standard write: one per started KB. A transactional write costs twice that. */
export function writeUnits(item: Record<string, AttributeValue>, { transactional = false } = {}): number {
  return Math.ceil(itemSizeBytes(item) / 1024) * (transactional ? 2 : 1);
}
