/** A `cursor` that this API did not hand out. */
export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
  constructor() {
    super("cursor is not one this API returned; start again without it");
  }
}

/** A query's LastEvaluatedKey as text for a caller to send back (base64url JSON). */
export const pageKeyText = (key: Record<string, unknown>) =>
  Buffer.from(JSON.stringify(key)).toString("base64url");

/**
 * A page's start key from the text {@link pageKeyText} made, or {@link InvalidCursorError}: exactly
 * the attributes `names`, each a string of a sane length, and `fits` the listing it claims to
 * continue. Anything else (base64 of any JSON) never reaches DynamoDB as a start key.
 */
export function pageKeyFrom(
  text: string,
  names: readonly string[],
  fits: (key: Record<string, string>) => boolean,
): Record<string, string> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(text, "base64url").toString());
  } catch {
    throw new InvalidCursorError();
  }
  const fields =
    key && typeof key === "object" && !Array.isArray(key) ? (key as Record<string, unknown>) : {};
  const shaped =
    Object.keys(fields).length === names.length &&
    names.every((name) => typeof fields[name] === "string" && (fields[name] as string).length <= 512);
  if (!shaped || !fits(fields as Record<string, string>)) throw new InvalidCursorError();
  return fields as Record<string, string>;
}
