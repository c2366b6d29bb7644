/**
 * Character classes with Go's definitions, because BuildKit's lexer uses Go's `unicode` package:
 * names take any letter or decimal digit, and words split on Go's `unicode.IsSpace`.
 */

const LETTER = /\p{L}/u;
const DECIMAL_DIGIT = /\p{Nd}/u;
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

/** Go's `unicode.IsSpace` for one UTF-16 unit (every white-space character is in the BMP). */
export function isSpaceUnit(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Go's `unicode.IsDigit` (category Nd) for a code point. */
export function isDigitCodePoint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return DECIMAL_DIGIT.test(String.fromCodePoint(cp));
}

/** A character that may continue a variable name: Go's `unicode.IsLetter || unicode.IsDigit || '_'`. */
export function isNameCodePoint(cp: number): boolean {
  if (cp < 0x80) {
    return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x30 && cp <= 0x39) || cp === 0x5f;
  }
  const s = String.fromCodePoint(cp);
  return LETTER.test(s) || DECIMAL_DIGIT.test(s);
}

/** POSIX special parameters, which BuildKit reads as one-character names: `$@ $* $# $? $- $$ $! $0`. */
export function isSpecialParam(c: number): boolean {
  return c === 0x40 || c === 0x2a || c === 0x23 || c === 0x3f || c === 0x2d || c === 0x24 || c === 0x21 || c === 0x30;
}

/** Go's `strconv.IsPrint` for a code point. */
function isPrintable(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

const GO_ESCAPES: Record<number, string> = {
  7: '\\a',
  8: '\\b',
  12: '\\f',
  10: '\\n',
  13: '\\r',
  9: '\\t',
  11: '\\v',
};

/** Go's `%q` (strconv.Quote), so that messages quote the word exactly as BuildKit's do. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x22 || cp === 0x5c) out += '\\' + ch;
    else if (isPrintable(cp)) out += ch;
    else if (GO_ESCAPES[cp] !== undefined) out += GO_ESCAPES[cp];
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}
