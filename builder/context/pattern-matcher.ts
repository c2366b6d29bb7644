import { cleanPath, trimSpace } from './clean-path.js';
import { GlobPatternError } from './errors.js';
import { type GlobToken, tokenizeGlob } from './go-glob.js';

/**
 * Path patterns with the semantics of moby/patternmatcher, which Docker uses
 * for `.dockerignore` and BuildKit for `COPY --exclude`:
 *
 * - a pattern is cleaned (`path.Clean`); a leading `!` makes it an exception;
 * - `*` and `?` do not cross `/`, `**` crosses any number of directories
 *   (`**` at the start matches any suffix, at the end any prefix);
 * - the last pattern that matches a path decides, and a pattern that matches
 *   a parent directory matches the path too.
 */

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** The parent directory's per-pattern results, carried down a walk (patternmatcher's `MatchInfo`). */
export interface MatchInfo {
  readonly parentMatched: readonly boolean[];
}

export const NO_MATCH_INFO: MatchInfo = { parentMatched: [] };

function escapeCodePoint(c: number): string {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
    return String.fromCodePoint(c);
  }
  return `\\u{${c.toString(16)}}`;
}

function classSource(token: Extract<GlobToken, { kind: 'class' }>): string {
  const body = token.ranges
    .filter(([lo, hi]) => lo <= hi)
    .map(([lo, hi]) => (lo === hi ? escapeCodePoint(lo) : `${escapeCodePoint(lo)}-${escapeCodePoint(hi)}`))
    .join('');
  return `[${token.negated ? '^' : ''}${body}]`;
}

/** One compiled pattern. */
export class PathPattern {
  /** The cleaned pattern, without its `!`. */
  readonly text: string;
  /** True for an exception (`!pattern`). */
  readonly exclusion: boolean;
  private readonly type: MatchType;
  private readonly regexp: RegExp | undefined;

  /** Compiles one pattern; throws `GlobPatternError` for a malformed one, or for a lone `!`. */
  constructor(raw: string) {
    let p = cleanPath(trimSpace(raw));
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) {
        throw new GlobPatternError(raw, { message: 'illegal exclusion pattern: "!"' });
      }
      exclusion = true;
      p = p.slice(1);
    }
    this.text = p;
    this.exclusion = exclusion;
    const tokens = tokenizeGlob(p);
    let type: MatchType = 'exact';
    let source = '^';
    for (let idx = 0; idx < tokens.length; idx++) {
      const t = tokens[idx] as GlobToken;
      switch (t.kind) {
        case 'star': {
          let n = t.count;
          let first = idx === 0;
          while (n > 0) {
            if (n === 1) {
              source += '[^/]*';
              type = 'regexp';
              n = 0;
              break;
            }
            n -= 2;
            const next = tokens[idx + 1];
            if (n === 0 && next?.kind === 'literal' && next.char === 0x2f && !next.escaped) idx++;
            if (n === 0 && idx === tokens.length - 1) {
              if (type === 'exact') type = 'prefix';
              else {
                source += '.*';
                type = 'regexp';
              }
            } else {
              source += '(.*/)?';
              type = 'regexp';
            }
            if (first) type = 'suffix';
            first = false;
          }
          break;
        }
        case 'any':
          source += '[^/]';
          type = 'regexp';
          break;
        case 'class':
          source += classSource(t);
          type = 'regexp';
          break;
        case 'literal':
          source += escapeCodePoint(t.char);
          if (t.escaped || t.char === 0x5d) type = 'regexp';
          break;
      }
    }
    this.type = type;
    this.regexp = type === 'regexp' ? new RegExp(`${source}$`, 'u') : undefined;
  }

  /** Whether the pattern matches this slash-separated, context-relative path (parents not considered). */
  match(path: string): boolean {
    switch (this.type) {
      case 'exact':
        return path === this.text;
      case 'prefix':
        return path.startsWith(this.text.slice(0, -2));
      case 'suffix': {
        const suffix = this.text.slice(2);
        if (path.endsWith(suffix)) return true;
        return suffix.startsWith('/') && path === suffix.slice(1);
      }
      default:
        return (this.regexp as RegExp).test(path);
    }
  }

  /** The pattern without a trailing `/**` or `/*` (what fsutil compares with directory prefixes). */
  get withoutTrailingGlob(): string {
    let s = this.text;
    if (s.endsWith('/**')) s = s.slice(0, -3);
    if (s.endsWith('/*')) s = s.slice(0, -2);
    return s;
  }
}

/** An ordered list of patterns; the last one that matches decides. */
export class PatternMatcher {
  readonly patterns: PathPattern[];
  /** True when some pattern is an exception (`!`). */
  readonly exclusions: boolean;

  constructor(patterns: Iterable<string | PathPattern>) {
    this.patterns = [];
    for (const p of patterns) {
      if (typeof p === 'string') {
        if (trimSpace(p) === '') continue;
        this.patterns.push(new PathPattern(p));
      } else this.patterns.push(p);
    }
    this.exclusions = this.patterns.some((p) => p.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /**
   * Whether `path` is matched, given the results of its parent directory
   * (patternmatcher's `MatchesUsingParentResults`). With no parent results,
   * each pattern is also tried against every ancestor of `path`.
   */
  matchWithParent(path: string, parent: MatchInfo = NO_MATCH_INFO): { matched: boolean; info: MatchInfo } {
    const parentMatched = parent.parentMatched;
    const known = parentMatched.length !== 0;
    const results: boolean[] = new Array(this.patterns.length).fill(false);
    let matched = false;
    for (let i = 0; i < this.patterns.length; i++) {
      const pattern = this.patterns[i] as PathPattern;
      let match = known ? (parentMatched[i] as boolean) : false;
      if (!match) {
        if (pattern.exclusion !== matched) continue;
        match = pattern.match(path);
        if (!match && !known) match = matchesAncestor(pattern, path);
      }
      results[i] = match;
      if (match) matched = !pattern.exclusion;
    }
    return { matched, info: { parentMatched: results } };
  }

  /** Whether `path` or one of its parent directories is matched (patternmatcher's `MatchesOrParentMatches`). */
  matches(path: string): boolean {
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      if (pattern.match(path) || matchesAncestor(pattern, path)) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * True when every exception is a plain path (after dropping a trailing
   * `/**` or `/*`): then an excluded directory whose path no exception starts
   * with can be skipped whole, as fsutil does.
   */
  get onlyPrefixExceptions(): boolean {
    return this.patterns.every((p) => !p.exclusion || !/[*[\]?^\\]/.test(p.withoutTrailingGlob));
  }

  /** Whether some exception could re-include a path inside directory `dir` (only meaningful with prefix exceptions). */
  exceptionUnder(dir: string): boolean {
    const dirSlash = `${dir}/`;
    return this.patterns.some((p) => p.exclusion && `${p.withoutTrailingGlob}/`.startsWith(dirSlash));
  }
}

function matchesAncestor(pattern: PathPattern, path: string): boolean {
  let at = path.indexOf('/');
  while (at > 0) {
    if (pattern.match(path.slice(0, at))) return true;
    at = path.indexOf('/', at + 1);
  }
  return false;
}
