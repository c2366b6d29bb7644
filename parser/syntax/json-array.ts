import type { Span } from './words.js';

export type JsonArrayResult =
  | { kind: 'exec'; values: Span[] }
  /** Not a JSON array: the shell form. */
  | { kind: 'shell' }
  /** A valid JSON array holding something other than strings: an error in BuildKit. */
  | { kind: 'not-strings' };

/**
 * The exec form: `[from, to)` (already trimmed) is exactly one JSON array of
 * strings. Anything that is not valid JSON falls back to the shell form, as
 * BuildKit's `parseMaybeJSON` does. Each value comes with the span of its
 * string literal.
 */
export function parseJsonArray(text: string, from: number, to: number): JsonArrayResult {
  if (from >= to || text.charCodeAt(from) !== 91) return { kind: 'shell' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(from, to));
  } catch {
    return { kind: 'shell' };
  }
  if (!Array.isArray(parsed)) return { kind: 'shell' };
  if (!parsed.every((v) => typeof v === 'string')) return { kind: 'not-strings' };
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
    values.push({ value, start, end: i });
  }
  return { kind: 'exec', values };
}
