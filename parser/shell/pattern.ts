/**
 * BuildKit's shell patterns for `${v#p} ${v##p} ${v%p} ${v%%p} ${v/p/r} ${v//p/r}`.
 *
 * BuildKit turns a pattern into a Go regular expression: `*` is any run of characters (lazy for the
 * shortest forms, greedy for the longest and for `/`), `?` is one character, and `\` escapes only `*`, `?`
 * and `\` (before `}` or `/` it is dropped). Bracket expressions are not supported: `[` and `]` are literal.
 * Go's `.` does not match a newline, so neither do `*` and `?`. `%` matches against the reversed value
 * with the reversed pattern, so the shortest/longest suffix is found with a leftmost match.
 */
import { Fault } from './fault.js';

const CACHE_LIMIT = 512;
const GO_NAME_CHAR = /[\p{L}\p{Nd}_]/u;
const cache = new Map<string, RegExp>();

/** Go's `%c` of `scanner.EOF`, as BuildKit prints it for a pattern that ends in a lone backslash. */
const GO_EOF_RUNE = '%!c(int32=-1)';

function compile(pattern: string, greedy: boolean, anchored: boolean, global: boolean): RegExp {
  const key = (greedy ? 'g' : 'l') + (anchored ? 'a' : 'u') + (global ? 'G' : 'O') + pattern;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let source = anchored ? '^' : '';
  const star = greedy ? '[^\\n]*' : '[^\\n]*?';
  const n = pattern.length;
  let i = 0;
  while (i < n) {
    const c = pattern.charCodeAt(i);
    if (c === 0x2a) {
      source += star;
      i++;
    } else if (c === 0x3f) {
      source += '[^\\n]';
      i++;
    } else if (c === 0x5c) {
      const next = i + 1 < n ? pattern.charCodeAt(i + 1) : -1;
      if (next === 0x7d || next === 0x2f) {
        i++;
        continue;
      }
      if (next !== 0x2a && next !== 0x3f && next !== 0x5c) {
        const shown = next === -1 ? GO_EOF_RUNE : String.fromCodePoint(pattern.codePointAt(i + 1)!);
        throw new Fault('pattern', `invalid pattern (${pattern}) in substitution: invalid escape '\\${shown}'`);
      }
      source += '\\' + pattern[i + 1];
      i += 2;
    } else if (isRegExpSyntax(c)) {
      source += '\\' + pattern[i];
      i++;
    } else {
      // Copy a run of literal characters at once.
      let j = i + 1;
      while (j < n && !isPatternSpecial(pattern.charCodeAt(j))) j++;
      source += pattern.slice(i, j);
      i = j;
    }
  }
  const re = new RegExp(source, global ? 'gu' : 'u');
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, re);
  return re;
}

/** The characters Go's converter escapes, plus `/` which is harmless but kept literal the same way. */
function isRegExpSyntax(c: number): boolean {
  return (
    c === 0x5b ||
    c === 0x5d ||
    c === 0x7b ||
    c === 0x7d ||
    c === 0x2e ||
    c === 0x2b ||
    c === 0x28 ||
    c === 0x29 ||
    c === 0x7c ||
    c === 0x5e ||
    c === 0x24
  );
}

function isPatternSpecial(c: number): boolean {
  return c === 0x2a || c === 0x3f || c === 0x5c || isRegExpSyntax(c);
}

/** `${v#p}` (shortest) and `${v##p}` (longest): `value` without the prefix that `pattern` matches. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = compile(pattern, greedy, true, false).exec(value);
  return m === null ? value : value.slice(m[0].length);
}

/** `${v%p}` (shortest) and `${v%%p}` (longest): `value` without the suffix that `pattern` matches. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** `${v/p/r}`: replaces the first, longest match; `r` is taken literally. */
export function replaceFirst(value: string, pattern: string, replacement: string): string {
  const m = compile(pattern, true, false, false).exec(value);
  if (m === null) return value;
  return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
}

/**
 * `${v//p/r}`: replaces every match with Go's `Regexp.ReplaceAllString`, so an empty match right after a
 * match is skipped, and `$0`/`${0}` in `r` stand for the match, `$$` for `$`, other `$name`s for nothing.
 */
export function replaceAll(value: string, pattern: string, replacement: string): string {
  const re = compile(pattern, true, false, true);
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  const n = value.length;
  while (searchPos <= n) {
    re.lastIndex = searchPos;
    const m = re.exec(value);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    out += value.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandTemplate(replacement, m[0]);
    lastMatchEnd = end;
    const width = searchPos >= n ? 0 : value.codePointAt(searchPos)! > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + value.slice(lastMatchEnd);
}

/** Go's `Regexp.ExpandString` for a regular expression with only group 0 and no named groups. */
function expandTemplate(template: string, match: string): string {
  let dollar = template.indexOf('$');
  if (dollar < 0) return template;
  let out = '';
  let i = 0;
  while (dollar >= 0) {
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template.charCodeAt(i) === 0x24) {
      out += '$';
      i++;
    } else {
      const ref = extractReference(template, i);
      if (ref === null) out += '$';
      else {
        if (ref.name === '0') out += match;
        i = ref.rest;
      }
    }
    dollar = template.indexOf('$', i);
  }
  return out + template.slice(i);
}

function extractReference(t: string, start: number): { name: string; rest: number } | null {
  let i = start;
  const brace = t.charCodeAt(i) === 0x7b;
  if (brace) i++;
  const nameStart = i;
  while (i < t.length) {
    const cp = t.codePointAt(i)!;
    if (!GO_NAME_CHAR.test(String.fromCodePoint(cp))) break;
    i += cp > 0xffff ? 2 : 1;
  }
  if (i === nameStart) return null;
  const name = t.slice(nameStart, i);
  if (brace) {
    if (t.charCodeAt(i) !== 0x7d) return null;
    i++;
  }
  return { name, rest: i };
}

function reverseString(s: string): string {
  if (s.length < 2) return s;
  return Array.from(s).reverse().join('');
}

/** Reverses a pattern, keeping each `\x` escape pair in order (`a\*c` → `c\*a`). */
function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const last = runes.length - 1;
  const out = new Array<string>(runes.length);
  for (let i = 0; i <= last; ) {
    const tok = runes[i]!;
    const at = last - i;
    if (tok === '\\' && i !== last) {
      out[at - 1] = tok;
      out[at] = runes[i + 1]!;
      i += 2;
    } else {
      out[at] = tok;
      i++;
    }
  }
  return out.join('');
}
