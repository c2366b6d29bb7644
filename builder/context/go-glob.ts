import { GlobPatternError } from './errors.js';

/**
 * Go's `filepath.Match` on Linux, the glob syntax of COPY and ADD sources:
 *
 * - `*` matches any run of characters except `/`;
 * - `?` matches one character except `/`;
 * - `[abc]`, `[a-z]`, `[^a-z]` match one character of a class (a class may match `/`);
 * - `\c` matches `c` literally, also inside a class.
 *
 * A malformed pattern (an unterminated class, an empty class, a dangling `\`,
 * a `-` without both ends) is a `GlobPatternError` (`filepath.ErrBadPattern`),
 * whatever the name it is matched against.
 */

/** One element of a compiled glob: every element but `star` consumes exactly one character. */
export type GlobToken =
  | { kind: 'literal'; char: number; escaped?: boolean }
  | { kind: 'any' }
  | { kind: 'star'; count: number }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

const STAR = 0x2a;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const SLASH = 0x2f;

/** The code points of a string (Go matches runes; JavaScript strings are UTF-16). */
export function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out.push(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
        i++;
        continue;
      }
    }
    out.push(c);
  }
  return out;
}

/** Splits a pattern into tokens, throwing `GlobPatternError` where Go returns `ErrBadPattern`. */
export function tokenizeGlob(pattern: string): GlobToken[] {
  const cps = codePoints(pattern);
  const tokens: GlobToken[] = [];
  const bad = (): never => {
    throw new GlobPatternError(pattern);
  };
  // One class item: a character, possibly escaped; `-` and `]` must be escaped and the class must go on after it.
  const item = (at: number): [number, number] => {
    let i = at;
    if (i >= cps.length || cps[i] === DASH || cps[i] === CLOSE) bad();
    if (cps[i] === BACKSLASH) {
      i++;
      if (i >= cps.length) bad();
    }
    const c = cps[i] as number;
    i++;
    if (i >= cps.length) bad();
    return [c, i];
  };
  let i = 0;
  while (i < cps.length) {
    const c = cps[i] as number;
    if (c === STAR) {
      const last = tokens[tokens.length - 1];
      if (last?.kind === 'star') last.count++;
      else tokens.push({ kind: 'star', count: 1 });
      i++;
    } else if (c === QUESTION) {
      tokens.push({ kind: 'any' });
      i++;
    } else if (c === BACKSLASH) {
      if (i + 1 >= cps.length) bad();
      tokens.push({ kind: 'literal', char: cps[i + 1] as number, escaped: true });
      i += 2;
    } else if (c === OPEN) {
      i++;
      let negated = false;
      if (cps[i] === CARET) {
        negated = true;
        i++;
      }
      const ranges: Array<[number, number]> = [];
      for (;;) {
        if (cps[i] === CLOSE && ranges.length > 0) {
          i++;
          break;
        }
        const [lo, afterLo] = item(i);
        i = afterLo;
        let hi = lo;
        if (cps[i] === DASH) {
          const [h, afterHi] = item(i + 1);
          hi = h;
          i = afterHi;
        }
        ranges.push([lo, hi]);
      }
      tokens.push({ kind: 'class', negated, ranges });
    } else {
      tokens.push({ kind: 'literal', char: c });
      i++;
    }
  }
  return tokens;
}

function matchOne(token: GlobToken, c: number): boolean {
  switch (token.kind) {
    case 'literal':
      return token.char === c;
    case 'any':
      return c !== SLASH;
    case 'class': {
      let hit = false;
      for (const [lo, hi] of token.ranges) {
        if (lo <= c && c <= hi) {
          hit = true;
          break;
        }
      }
      return hit !== token.negated;
    }
    default:
      return false;
  }
}

/** Whether a run of fixed-width tokens matches `name` at `at`. */
function matchRun(run: GlobToken[], name: number[], at: number): boolean {
  if (at + run.length > name.length) return false;
  for (let k = 0; k < run.length; k++) {
    if (!matchOne(run[k] as GlobToken, name[at + k] as number)) return false;
  }
  return true;
}

/** A compiled `filepath.Match` pattern. */
export class GoGlob {
  readonly pattern: string;
  readonly tokens: GlobToken[];
  /** Fixed-width runs between stars; `trailing` says whether a star ends the pattern. */
  private readonly runs: GlobToken[][];
  private readonly trailing: boolean;

  constructor(pattern: string) {
    this.pattern = pattern;
    this.tokens = tokenizeGlob(pattern);
    const runs: GlobToken[][] = [[]];
    for (const t of this.tokens) {
      if (t.kind === 'star') runs.push([]);
      else (runs[runs.length - 1] as GlobToken[]).push(t);
    }
    this.trailing = this.tokens[this.tokens.length - 1]?.kind === 'star';
    // Stars split the pattern, so runs[0] precedes the first star (empty when the pattern starts with one).
    this.runs = runs;
  }

  /** True when the pattern has any of `*`, `?` or `[` (so it is not a plain path). */
  get isLiteral(): boolean {
    return this.tokens.every((t) => t.kind === 'literal');
  }

  /**
   * The `/` characters of the pattern itself: how deep below its base a COPY
   * wildcard looks. Like BuildKit, selection compares paths element by
   * element, so a class that could match `/` never spans two elements.
   */
  get depth(): number {
    return this.tokens.filter((t) => t.kind === 'literal' && t.char === SLASH).length;
  }

  /**
   * Matches a whole name. Each star takes the fewest characters that let the
   * next run match (stars never take `/`); the runs are fixed-width, so this
   * leftmost choice never misses a match that another choice would find.
   */
  match(name: string): boolean {
    const cps = codePoints(name);
    const runs = this.runs;
    const first = runs[0] as GlobToken[];
    if (!matchRun(first, cps, 0)) return false;
    let pos = first.length;
    if (runs.length === 1) return pos === cps.length;
    for (let r = 1; r < runs.length; r++) {
      const run = runs[r] as GlobToken[];
      const last = r === runs.length - 1;
      if (last && !this.trailing) {
        // The final run is anchored at the end; the star before it must not cross a `/`.
        const at = cps.length - run.length;
        if (at < pos) return false;
        for (let k = pos; k < at; k++) if (cps[k] === SLASH) return false;
        return matchRun(run, cps, at);
      }
      let at = pos;
      for (;;) {
        if (matchRun(run, cps, at)) break;
        if (at >= cps.length || cps[at] === SLASH) return false;
        at++;
      }
      pos = at + run.length;
    }
    // Only a trailing star gets here: it takes the rest, unless the rest holds a `/`.
    for (let k = pos; k < cps.length; k++) if (cps[k] === SLASH) return false;
    return true;
  }
}

const compiled = new Map<string, GoGlob>();

/** Compiles (and caches) a glob; throws `GlobPatternError` for a malformed one. */
export function compileGlob(pattern: string): GoGlob {
  let g = compiled.get(pattern);
  if (!g) {
    g = new GoGlob(pattern);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, g);
  }
  return g;
}

/** Go's `filepath.Match(pattern, name)`; throws `GlobPatternError` for a malformed pattern. */
export function matchGlob(pattern: string, name: string): boolean {
  return compileGlob(pattern).match(name);
}

/**
 * Whether a path element has glob characters, as BuildKit's copy decides it:
 * an unescaped `*`, `?` or `[`.
 */
export function hasWildcards(element: string): boolean {
  for (let i = 0; i < element.length; i++) {
    const ch = element[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}
