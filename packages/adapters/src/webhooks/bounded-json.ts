/**
 * JSON of a webhook body, parsed only when it is bounded: no deeper than `maxDepth` objects and
 * arrays, no longer than `maxBytes`. A provider's notice is a few levels deep; a body nested
 * thousands of levels deep is hostile, and would make the recursive steps after the parse (sorting
 * keys for PayOS's signature, validation) throw a RangeError. Returns undefined for anything else.
 *
 * @example parseBoundedJson('{"a":[1]}') // { a: [1] }
 * @example parseBoundedJson("[".repeat(5000)) // undefined
 */
export function parseBoundedJson(raw: string, { maxDepth = 16, maxBytes = 64 * 1024 } = {}): unknown {
  if (raw.length > maxBytes) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // a backslash escapes the next character
      else if (ch === 0x22) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > maxDepth) return undefined;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
