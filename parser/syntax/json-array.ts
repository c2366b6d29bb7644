import type { Span } from './words.js';

export type JsonArrayResult =
  | { kind: 'exec'; values: Span[] }
  /** Not a JSON array: the shell form. */
  | { kind: 'shell' }
  /** A valid JSON array holding something other than strings: an error in BuildKit. */
  | { kind: 'not-strings' };

/** The results without values, shared (read-only). */
const SHELL: JsonArrayResult = Object.freeze({ kind: 'shell' });
const NOT_STRINGS: JsonArrayResult = Object.freeze({ kind: 'not-strings' });
/** A UTF-16 surrogate without its pair (from a `\ud800` escape), which Go's JSON decoder reads as U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The exec form: `[from, to)` (already trimmed) is exactly one JSON array of
 * strings. Anything that is not valid JSON falls back to the shell form, as
 * BuildKit's `parseMaybeJSON` does. Each value comes with the span of its
 * string literal.
 */
export function parseJsonArray(text: string, from: number, to: number): JsonArrayResult {
  if (from >= to || text.charCodeAt(from) !== 91) return SHELL;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(from, to));
  } catch {
    return SHELL;
  }
  if (!Array.isArray(parsed)) return SHELL;
  if (!parsed.every((v) => typeof v === 'string')) return NOT_STRINGS;
  const values: Span[] = [];
  let i = from + 1;
  for (const value of parsed as string[]) {
    while (i < to && text.charCodeAt(i) !== 34) i++;
    const start = i;
    i++;
    while (i < to) {
      const c = text.charCodeAt(i);
      if (c === 92) i += 2;
      else if (c === 34) break;
      else i++;
    }
    i++;
    values.push({ value: value.replace(LONE_SURROGATE, '\uFFFD'), start, end: i });
  }
  return { kind: 'exec', values };
}
