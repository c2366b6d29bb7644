// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the words are Dockerfile words, not templates
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandWord } from '../../../../parser/index.js';

/**
 * BuildKit matches `#`, `%` and `/` patterns with Go regular expressions (leftmost-first, like a
 * backtracking engine). tsbuild uses its own linear-memory matcher; these properties check it against a
 * JavaScript RegExp built the way BuildKit builds its Go one (`*` → `.*?` or `.*`, `?` → `.`, where `.`
 * excludes only `\n`), on random patterns and values.
 */
function toRegExp(pattern: string, greedy: boolean, anchored: boolean, flags: string): RegExp {
  let source = anchored ? '^' : '';
  for (const ch of pattern) {
    if (ch === '*') source += greedy ? '[^\\n]*' : '[^\\n]*?';
    else if (ch === '?') source += '[^\\n]';
    else source += ch.replace(/[.^$()[\]{}|+\\/*?-]/g, '\\$&');
  }
  return new RegExp(source, flags);
}

function refTrimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = toRegExp(pattern, greedy, true, 'u').exec(value);
  return m === null ? value : value.slice(m[0].length);
}

function reverse(s: string): string {
  return Array.from(s).reverse().join('');
}

function refTrimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(refTrimPrefix(reverse(pattern), reverse(value), greedy));
}

function refReplaceFirst(value: string, pattern: string, replacement: string): string {
  const m = toRegExp(pattern, true, false, 'u').exec(value);
  return m === null ? value : value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
}

/** Go's ReplaceAllString loop over a JavaScript RegExp (ASCII values here, so units are characters). */
function refReplaceAll(value: string, pattern: string, replacement: string): string {
  const re = toRegExp(pattern, true, false, 'gu');
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    re.lastIndex = searchPos;
    const m = re.exec(value);
    if (m === null) break;
    const end = m.index + m[0].length;
    out += value.slice(lastMatchEnd, m.index);
    if (end > lastMatchEnd || m.index === 0) out += replacement;
    lastMatchEnd = end;
    searchPos = Math.max(searchPos + 1, end);
  }
  return out + value.slice(lastMatchEnd);
}

const patternArb = fc.array(fc.constantFrom('a', 'b', '.', '*', '?', '\n'), { maxLength: 7 }).map((a) => a.join(''));
const valueArb = fc.array(fc.constantFrom('a', 'b', '.', '\n'), { maxLength: 12 }).map((a) => a.join(''));
/** With a character outside the BMP, which must count as one character for `?`. */
const widePatternArb = fc
  .array(fc.constantFrom('a', '\u{1f47d}', '*', '?', '\n'), { maxLength: 6 })
  .map((a) => a.join(''));
const wideValueArb = fc.array(fc.constantFrom('a', '\u{1f47d}', '\n'), { maxLength: 10 }).map((a) => a.join(''));

/** Writes a pattern into a word: single quotes keep `\n` and `.` as they are and do not make `*` literal. */
function quoted(pattern: string): string {
  return `'${pattern}'`;
}

describe('pattern matching agrees with a leftmost-first regular expression engine', () => {
  it('for ${v#p} and ${v##p}', () => {
    fc.assert(
      fc.property(patternArb, valueArb, (pattern, value) => {
        const env = { v: value };
        expect(expandWord('${v#' + quoted(pattern) + '}', env).value).toBe(refTrimPrefix(pattern, value, false));
        expect(expandWord('${v##' + quoted(pattern) + '}', env).value).toBe(refTrimPrefix(pattern, value, true));
      }),
      { numRuns: 3000 },
    );
  });

  it('for ${v%p} and ${v%%p}', () => {
    fc.assert(
      fc.property(patternArb, valueArb, (pattern, value) => {
        const env = { v: value };
        expect(expandWord('${v%' + quoted(pattern) + '}', env).value).toBe(refTrimSuffix(pattern, value, false));
        expect(expandWord('${v%%' + quoted(pattern) + '}', env).value).toBe(refTrimSuffix(pattern, value, true));
      }),
      { numRuns: 3000 },
    );
  });

  it('for ${v/p/r} and ${v//p/r}', () => {
    fc.assert(
      fc.property(patternArb, valueArb, (pattern, value) => {
        const env = { v: value };
        expect(expandWord('${v/' + quoted(pattern) + '/R}', env).value).toBe(refReplaceFirst(value, pattern, 'R'));
        expect(expandWord('${v//' + quoted(pattern) + '/R}', env).value).toBe(refReplaceAll(value, pattern, 'R'));
      }),
      { numRuns: 3000 },
    );
  });

  it('counts a character outside the BMP as one character', () => {
    fc.assert(
      fc.property(widePatternArb, wideValueArb, (pattern, value) => {
        const env = { v: value };
        expect(expandWord('${v#' + quoted(pattern) + '}', env).value).toBe(refTrimPrefix(pattern, value, false));
        expect(expandWord('${v##' + quoted(pattern) + '}', env).value).toBe(refTrimPrefix(pattern, value, true));
        expect(expandWord('${v%' + quoted(pattern) + '}', env).value).toBe(refTrimSuffix(pattern, value, false));
        expect(expandWord('${v%%' + quoted(pattern) + '}', env).value).toBe(refTrimSuffix(pattern, value, true));
        expect(expandWord('${v/' + quoted(pattern) + '/R}', env).value).toBe(refReplaceFirst(value, pattern, 'R'));
      }),
      { numRuns: 3000 },
    );
  });

  it('handles a pattern that makes a backtracking engine explode, on a long value', () => {
    const value = 'a'.repeat(3000);
    const word = '${v#*a*a*a*a*a*a*a*a*b}';
    expect(expandWord(word, { v: value }).value).toBe(value);
    expect(expandWord('${v//*a*a*a*a*a*b/x}', { v: value }).value).toBe(value);
  });
});
