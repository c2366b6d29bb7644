/**
 * JSON text as Go's encoding/json writes it, which is how BuildKit writes image configs:
 * `<`, `>` and `&` escaped as `\u003c`, `\u003e`, `\u0026`, U+2028 and U+2029 escaped, a lone
 * surrogate written as U+FFFD, map keys in byte order (a `Map` is a Go map; a plain object is a
 * struct and keeps its field order), no white space.
 */
export type GoJsonValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly GoJsonValue[]
  | ReadonlyMap<string, GoJsonValue>
  | { readonly [key: string]: GoJsonValue };

const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

/** A Go map's JSON keys are sorted by their UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A JSON string literal as Go writes it. */
export function goJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else {
        out += '\\ufffd';
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += '\\ufffd';
    } else {
      out += s[i];
    }
  }
  return `${out}"`;
}

/**
 * Serialises a value as Go's json.Marshal would: `undefined` members are left out (the
 * caller applies `omitempty`), `Map`s are maps (sorted keys), objects are structs.
 */
export function goJson(value: GoJsonValue): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${(value as readonly GoJsonValue[]).map(goJson).join(',')}]`;
  if (value instanceof Map) {
    const keys = [...(value as ReadonlyMap<string, GoJsonValue>).keys()].sort(byteOrder);
    return `{${keys.map((k) => `${goJsonString(k)}:${goJson(value.get(k))}`).join(',')}}`;
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as { readonly [key: string]: GoJsonValue })) {
    if (v !== undefined) parts.push(`${goJsonString(k)}:${goJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}
