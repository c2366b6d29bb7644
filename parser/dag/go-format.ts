/**
 * Go's `%q` and `time.Duration` formatting, which BuildKit's history strings
 * (`CMD ["sh" "-c" "x"]`, `HEALTHCHECK &{…}`) are made of.
 */

/** Go's `strconv.Quote`: double-quoted, with Go escapes for control and non-printable characters. */
export function goQuote(s: string): string {
  if (isPlainPrintable(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) out += escapeRune(ch, '"');
  return `${out}"`;
}

/** Printable ASCII without `"` or a backslash: quoted as it is. */
function isPlainPrintable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Go's `strconv.QuoteRune` of an integer (what `%q` prints for an int field). */
export function goQuoteRune(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return "'\\ufffd'";
  return `'${escapeRune(String.fromCodePoint(n), "'")}'`;
}

function escapeRune(ch: string, quote: string): string {
  const c = ch.codePointAt(0)!;
  if (ch === quote || ch === '\\') return `\\${ch}`;
  if (isPrint(c)) return ch;
  switch (c) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (c < 0x80 || c === 0xfffd) return c < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;
  if (c < 0x10000) return `\\u${hex(c, 4)}`;
  return `\\U${hex(c, 8)}`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

const NON_PRINT = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(c: number): boolean {
  if (c >= 0x20 && c < 0x7f) return true;
  if (c < 0xa1) return false;
  return !NON_PRINT.test(String.fromCodePoint(c));
}

/** Durations already formatted: Dockerfiles repeat a few (`30s`, `5s`), and the formatting works in BigInt. */
const durations = new Map<number, string>();

/** Go's `time.Duration.String`: `0s`, `500ms`, `1m30s`, `1h0m0s`, `1.5s`. */
export function goDuration(ns: number): string {
  let out = durations.get(ns);
  if (out === undefined) {
    out = formatDuration(ns);
    if (durations.size >= 256) durations.clear();
    durations.set(ns, out);
  }
  return out;
}

function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = BigInt(Math.abs(Math.trunc(ns)));
  let out: string;
  if (u < 1_000_000_000n) {
    let unit: string;
    let scale: bigint;
    if (u < 1000n) return `${neg ? '-' : ''}${u}ns`;
    if (u < 1_000_000n) {
      unit = 'µs';
      scale = 1000n;
    } else {
      unit = 'ms';
      scale = 1_000_000n;
    }
    out = fraction(u, scale) + unit;
  } else {
    const secs = fraction(u % 60_000_000_000n, 1_000_000_000n);
    u /= 60_000_000_000n;
    if (u === 0n) out = `${secs}s`;
    else {
      const mins = u % 60n;
      const hours = u / 60n;
      out = hours > 0n ? `${hours}h${mins}m${secs}s` : `${mins}m${secs}s`;
    }
  }
  return (neg ? '-' : '') + out;
}

function fraction(v: bigint, scale: bigint): string {
  const whole = v / scale;
  let frac = (v % scale)
    .toString()
    .padStart(scale.toString().length - 1, '0')
    .replace(/0+$/, '');
  if (frac !== '') frac = `.${frac}`;
  return `${whole}${frac}`;
}
