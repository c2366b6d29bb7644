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
/** Compiled reversed patterns for `%`, keyed by the pattern as written. */
const reversedCache = new Map<string, Pattern>();

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

/** Shared scratch space: matching is synchronous and never nested, so one set of buffers serves all. */
let visitedPool = new Uint32Array(256);
/** The states of the current path, and the pending alternatives as (step, position, path length) triples. */
let pathPool = new Int32Array(64);
let stackPool = new Int32Array(192);

/**
 * Leftmost-first matching of one pattern against one value, in code points, read forwards or (for `%`)
 * backwards. A (step, position) state is visited at most once: the first visit either reaches the end of
 * the pattern or fails, and states on a successful path are released again so that later searches (`//`)
 * may use them.
 */
class Matcher {
  readonly n: number;
  private readonly value: string;
  /** The code points, in matching order; null when the value has no surrogate pair (read units directly). */
  private readonly cps: Int32Array | null;
  /** UTF-16 offset of each code point index (in forward order), and of the end; null with `cps`. */
  private readonly offsets: Int32Array | null;
  private readonly reverse: boolean;
  private readonly steps: Int32Array;
  private readonly greedy: boolean;
  private readonly width: number;
  private readonly visited: Uint32Array;

  constructor(steps: Int32Array, value: string, greedy: boolean, reverse: boolean) {
    this.value = value;
    this.steps = steps;
    this.greedy = greedy;
    this.reverse = reverse;
    let wide = false;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdfff) {
        wide = true;
        break;
      }
    }
    if (wide) {
      const cps: number[] = [];
      const offsets: number[] = [];
      for (let i = 0; i < value.length; ) {
        const cp = value.codePointAt(i)!;
        offsets.push(i);
        cps.push(cp);
        i += cp > 0xffff ? 2 : 1;
      }
      offsets.push(value.length);
      if (reverse) cps.reverse();
      this.cps = Int32Array.from(cps);
      this.offsets = Int32Array.from(offsets);
      this.n = cps.length;
    } else {
      this.cps = null;
      this.offsets = null;
      this.n = value.length;
    }
    this.width = this.n + 1;
    const words = Math.ceil(((steps.length + 1) * this.width) / 32);
    if (visitedPool.length < words) visitedPool = new Uint32Array(Math.max(words, visitedPool.length * 2));
    else visitedPool.fill(0, 0, words);
    this.visited = visitedPool;
    // Every transition advances the step or the position, so a path has at most steps + n + 1 states,
    // and each state pushes at most one alternative.
    const longest = steps.length + this.n + 2;
    if (pathPool.length < longest) pathPool = new Int32Array(longest * 2);
    if (stackPool.length < longest * 3) stackPool = new Int32Array(longest * 6);
  }

  /** UTF-16 offset of code point index `index`, counted from the start of the value. */
  offset(index: number): number {
    return this.offsets === null ? index : this.offsets[index]!;
  }

  private at(p: number): number {
    if (this.cps !== null) return this.cps[p]!;
    return this.value.charCodeAt(this.reverse ? this.n - 1 - p : p);
  }

  /** The end of the highest-priority match that starts at `start`, or -1. */
  matchAt(start: number): number {
    const { steps, n, greedy, width, visited } = this;
    const path = pathPool;
    const stack = stackPool;
    const last = steps.length;
    let pathLen = 0;
    let stackLen = 0;
    let i = 0;
    let p = start;
    for (;;) {
      const state = i * width + p;
      const word = state >>> 5;
      const bit = 1 << (state & 31);
      let alive = (visited[word]! & bit) === 0;
      if (alive) {
        visited[word]! |= bit;
        path[pathLen++] = state;
        if (i === last) {
          for (let k = 0; k < pathLen; k++) {
            const s = path[k]!;
            visited[s >>> 5]! &= ~(1 << (s & 31));
          }
          return p;
        }
        const step = steps[i]!;
        let canTake = false;
        if (p < n) {
          const c = this.at(p);
          canTake = step === STAR || step === ANY ? c !== NEWLINE : c === step;
        }
        if (step === STAR) {
          if (!canTake) i++;
          else if (greedy) {
            stack[stackLen++] = i + 1;
            stack[stackLen++] = p;
            stack[stackLen++] = pathLen;
            p++;
          } else {
            stack[stackLen++] = i;
            stack[stackLen++] = p + 1;
            stack[stackLen++] = pathLen;
            i++;
          }
        } else if (canTake) {
          i++;
          p++;
        } else alive = false;
      }
      if (!alive) {
        if (stackLen === 0) return -1;
        pathLen = stack[--stackLen]!;
        p = stack[--stackLen]!;
        i = stack[--stackLen]!;
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
  if (compiled.literal !== null) {
    return value.startsWith(compiled.literal) ? value.slice(compiled.literal.length) : value;
  }
  const m = new Matcher(compiled.steps, value, greedy, false);
  const end = m.matchAt(0);
  return end < 0 ? value : value.slice(m.offset(end));
}

/**
 * `${v%p}` (shortest) and `${v%%p}` (longest): `value` without the suffix that `pattern` matches.
 * As BuildKit, this matches the reversed pattern from the end of the value backwards.
 */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  let compiled = reversedCache.get(pattern);
  if (compiled === undefined) {
    compiled = compile(reversePattern(pattern));
    if (reversedCache.size >= CACHE_LIMIT) reversedCache.clear();
    reversedCache.set(pattern, compiled);
  }
  if (compiled.literal !== null) {
    const suffix = reverseString(compiled.literal);
    return value.endsWith(suffix) ? value.slice(0, value.length - suffix.length) : value;
  }
  const m = new Matcher(compiled.steps, value, greedy, true);
  const end = m.matchAt(0);
  return end < 0 ? value : value.slice(0, m.offset(m.n - end));
}

/** `${v/p/r}`: replaces the first, longest match; `r` is taken literally. */
export function replaceFirst(value: string, pattern: string, replacement: string): string {
  const compiled = compile(pattern);
  if (compiled.literal !== null) {
    const at = value.indexOf(compiled.literal);
    return at < 0 ? value : value.slice(0, at) + replacement + value.slice(at + compiled.literal.length);
  }
  const m = new Matcher(compiled.steps, value, true, false);
  const found = m.search(0);
  if (found === null) return value;
  return value.slice(0, m.offset(found[0])) + replacement + value.slice(m.offset(found[1]));
}

/**
 * `${v//p/r}`: replaces every match with Go's `Regexp.ReplaceAllString`, so an empty match right after a
 * match is skipped, and `$0`/`${0}` in `r` stand for the match, `$$` for `$`, other `$name`s for nothing.
 */
export function replaceAll(value: string, pattern: string, replacement: string): string {
  const compiled = compile(pattern);
  if (compiled.literal !== null && compiled.literal !== '') {
    // Non-overlapping, left to right: what Go's loop does for a non-empty literal.
    const lit = compiled.literal;
    let at = value.indexOf(lit);
    if (at < 0) return value;
    const expanded = expandTemplate(replacement, lit);
    let out = '';
    let from = 0;
    while (at >= 0) {
      out += value.slice(from, at) + expanded;
      from = at + lit.length;
      at = value.indexOf(lit, from);
    }
    return out + value.slice(from);
  }
  const m = new Matcher(compiled.steps, value, true, false);
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
