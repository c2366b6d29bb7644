/**
 * BuildKit's shell patterns for `${v#p} ${v##p} ${v%p} ${v%%p} ${v/p/r} ${v//p/r}`.
 *
 * BuildKit turns a pattern into a Go regular expression: `*` is any run of characters (lazy for the
 * shortest forms, greedy for the longest and for `/`), `?` is one character, and `\` escapes only `*`, `?`
 * and `\` (before `}` or `/` it is dropped). Bracket expressions are not supported: `[` and `]` are literal.
 * Go's `.` does not match a newline, so neither do `*` and `?`. `%` matches against the reversed value
 * with the reversed pattern, so the shortest/longest suffix is found with a leftmost match.
 *
 * Matching here is our own backtracking search with a visited set over (pattern step, value position), so
 * it finds the match a leftmost-first regular expression engine finds (the same as Go's) in
 * O(pattern × value) time, with no catastrophic backtracking on patterns such as `*a*a*a*b`.
 */
import { Fault } from './fault.js';

const CACHE_LIMIT = 512;
const GO_NAME_CHAR = /[\p{L}\p{Nd}_]/u;
const NEWLINE = 0x0a;

/** Go's `%c` of `scanner.EOF`, as BuildKit prints it for a pattern that ends in a lone backslash. */
const GO_EOF_RUNE = '%!c(int32=-1)';

/** A compiled pattern: one step per literal code point, `?` (ANY) or `*` (STAR). */
interface Pattern {
  /** The code point of a literal step, or ANY / STAR. */
  readonly steps: Int32Array;
  /** True when every step is a literal (no wildcard). */
  readonly literal: string | null;
}

const ANY = -1;
const STAR = -2;

const cache = new Map<string, Pattern>();

function compile(pattern: string): Pattern {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const steps: number[] = [];
  let literal = true;
  let text = '';
  const n = pattern.length;
  let i = 0;
  while (i < n) {
    const c = pattern.codePointAt(i)!;
    const width = c > 0xffff ? 2 : 1;
    if (c === 0x2a || c === 0x3f) {
      steps.push(c === 0x2a ? STAR : ANY);
      literal = false;
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
      steps.push(next);
      text += pattern[i + 1];
      i += 2;
    } else {
      steps.push(c);
      text += pattern.slice(i, i + width);
      i += width;
    }
  }
  const compiled: Pattern = { steps: Int32Array.from(steps), literal: literal ? text : null };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

/**
 * Leftmost-first matching of one pattern against one value, in code points. A (step, position) state
 * is visited at most once: the first visit either reaches the end of the pattern or fails, and states
 * on a successful path are released again so that later searches (`//`) may use them.
 */
class Matcher {
  readonly n: number;
  private readonly cps: Int32Array;
  /** UTF-16 offset of each code point index, and of the end. */
  private readonly offsets: Int32Array;
  private readonly steps: Int32Array;
  private readonly greedy: boolean;
  private readonly width: number;
  private readonly visited: Uint32Array;
  private readonly path: number[] = [];
  private readonly stack: number[] = [];

  constructor(pattern: Pattern, value: string, greedy: boolean) {
    const cps: number[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < value.length; ) {
      const cp = value.codePointAt(i)!;
      offsets.push(i);
      cps.push(cp);
      i += cp > 0xffff ? 2 : 1;
    }
    offsets.push(value.length);
    this.n = cps.length;
    this.cps = Int32Array.from(cps);
    this.offsets = Int32Array.from(offsets);
    this.steps = pattern.steps;
    this.greedy = greedy;
    this.width = this.n + 1;
    this.visited = new Uint32Array(Math.ceil(((this.steps.length + 1) * this.width) / 32));
  }

  offset(index: number): number {
    return this.offsets[index]!;
  }

  /** The end of the highest-priority match that starts at `start`, or -1. */
  matchAt(start: number): number {
    const { steps, cps, n, greedy, width, visited, path, stack } = this;
    const last = steps.length;
    path.length = 0;
    stack.length = 0;
    let i = 0;
    let p = start;
    for (;;) {
      const state = i * width + p;
      const word = state >>> 5;
      const bit = 1 << (state & 31);
      let alive = (visited[word]! & bit) === 0;
      if (alive) {
        visited[word]! |= bit;
        path.push(state);
        if (i === last) {
          for (const s of path) visited[s >>> 5]! &= ~(1 << (s & 31));
          return p;
        }
        const step = steps[i]!;
        const canTake = p < n && (step === STAR || step === ANY ? cps[p] !== NEWLINE : cps[p] === step);
        if (step === STAR) {
          if (!canTake) i++;
          else if (greedy) {
            stack.push(i + 1, p, path.length);
            p++;
          } else {
            stack.push(i, p + 1, path.length);
            i++;
          }
        } else if (canTake) {
          i++;
          p++;
        } else alive = false;
      }
      if (!alive) {
        if (stack.length === 0) return -1;
        path.length = stack.pop()!;
        p = stack.pop()!;
        i = stack.pop()!;
      }
    }
  }

  /** The leftmost match at or after `from`, as [start, end] code point indexes, or null. */
  search(from: number): [number, number] | null {
    for (let s = from; s <= this.n; s++) {
      const end = this.matchAt(s);
      if (end >= 0) return [s, end];
    }
    return null;
  }
}

/** `${v#p}` (shortest) and `${v##p}` (longest): `value` without the prefix that `pattern` matches. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const compiled = compile(pattern);
  if (compiled.literal !== null)
    return value.startsWith(compiled.literal) ? value.slice(compiled.literal.length) : value;
  const m = new Matcher(compiled, value, greedy);
  const end = m.matchAt(0);
  return end < 0 ? value : value.slice(m.offset(end));
}

/** `${v%p}` (shortest) and `${v%%p}` (longest): `value` without the suffix that `pattern` matches. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** `${v/p/r}`: replaces the first, longest match; `r` is taken literally. */
export function replaceFirst(value: string, pattern: string, replacement: string): string {
  const compiled = compile(pattern);
  if (compiled.literal !== null) {
    const at = value.indexOf(compiled.literal);
    return at < 0 ? value : value.slice(0, at) + replacement + value.slice(at + compiled.literal.length);
  }
  const m = new Matcher(compiled, value, true);
  const found = m.search(0);
  if (found === null) return value;
  return value.slice(0, m.offset(found[0])) + replacement + value.slice(m.offset(found[1]));
}

/**
 * `${v//p/r}`: replaces every match with Go's `Regexp.ReplaceAllString`, so an empty match right after a
 * match is skipped, and `$0`/`${0}` in `r` stand for the match, `$$` for `$`, other `$name`s for nothing.
 */
export function replaceAll(value: string, pattern: string, replacement: string): string {
  const m = new Matcher(compile(pattern), value, true);
  const n = m.n;
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= n) {
    const found = m.search(searchPos);
    if (found === null) break;
    const [start, end] = found;
    out += value.slice(m.offset(lastMatchEnd), m.offset(start));
    if (end > lastMatchEnd || start === 0) {
      out += expandTemplate(replacement, value.slice(m.offset(start), m.offset(end)));
    }
    lastMatchEnd = end;
    // Advance past this match, always by at least one character (Go's rule).
    searchPos = Math.max(searchPos + 1, end);
  }
  return out + value.slice(m.offset(lastMatchEnd));
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
