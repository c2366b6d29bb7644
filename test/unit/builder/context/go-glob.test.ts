import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePoints, type GlobToken, tokenizeGlob } from '../../../../builder/context/go-glob.js';
import { GlobPatternError, hasWildcards, matchGlob } from '../../../../builder/index.js';

// [pattern, name, expected]; `error` means filepath.ErrBadPattern. Rows follow Go's path/filepath Match.
const rows: Array<[string, string, boolean | 'error']> = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['a[^x]b', 'a/b', true],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'a', false],
  ['[z-a]', 'q', false],
  ['[*]', '*', true],
  ['*x', 'xxx', true],
  // Go takes the leftmost match of each chunk: the class after the first star takes '*', so the last star meets '/'.
  ['[^a]*[^a]*', '/*/', false],
  ['', '', true],
  ['', 'a', false],
  ['*.go', 'main.go', true],
  ['*.go', 'cmd/main.go', false],
  ['*/x', 'a/x', true],
  ['[]a]', ']', 'error'],
  ['[-]', '-', 'error'],
  ['[x-]', 'x', 'error'],
  ['[-x]', 'x', 'error'],
  ['\\', 'a', 'error'],
  ['[a-b-c]', 'a', 'error'],
  ['[', 'a', 'error'],
  ['[^', 'a', 'error'],
  ['[^bc', 'a', 'error'],
  ['a[', 'a', 'error'],
  ['a[', 'ab', 'error'],
  ['a[', 'x', 'error'],
  ['a/b[', 'a/b', 'error'],
  ['*x[', 'xxx', 'error'],
  ['[\\', 'a', 'error'],
];

describe('Go filepath.Match semantics for COPY sources', () => {
  it.each(rows)('Match(%j, %j) is %s', (pattern, name, expected) => {
    if (expected === 'error') {
      expect(() => matchGlob(pattern, name)).toThrow(GlobPatternError);
      try {
        matchGlob(pattern, name);
      } catch (err) {
        expect((err as GlobPatternError).code).toBe('TSB_BAD_PATTERN');
        expect((err as GlobPatternError).message).toBe(`syntax error in pattern ${JSON.stringify(pattern)}`);
      }
    } else {
      expect(matchGlob(pattern, name)).toBe(expected);
    }
  });

  it('has at least 30 rows, errors included', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(rows.filter((r) => r[2] === 'error').length).toBeGreaterThanOrEqual(10);
  });

  it('finds wildcards in a path element as BuildKit does (an escaped one does not count)', () => {
    expect(hasWildcards('a*')).toBe(true);
    expect(hasWildcards('a?')).toBe(true);
    expect(hasWildcards('[ab]')).toBe(true);
    expect(hasWildcards('a\\*')).toBe(false);
    expect(hasWildcards('plain.txt')).toBe(false);
  });
});

/**
 * Full backtracking over the tokens. Go commits to the leftmost match of each
 * chunk; that equals full backtracking as long as no class can match `/`
 * (see the '[^a]*[^a]*' row for where Go and backtracking part).
 */
function reference(tokens: GlobToken[], name: number[], i = 0, j = 0): boolean {
  if (i === tokens.length) return j === name.length;
  const t = tokens[i] as GlobToken;
  if (t.kind === 'star') {
    for (let k = j; k <= name.length; k++) {
      if (k > j && name[k - 1] === 0x2f) break;
      if (reference(tokens, name, i + 1, k)) return true;
    }
    return false;
  }
  if (j >= name.length) return false;
  const c = name[j] as number;
  const ok =
    t.kind === 'literal'
      ? t.char === c
      : t.kind === 'any'
        ? c !== 0x2f
        : t.ranges.some(([lo, hi]) => lo <= c && c <= hi) !== t.negated;
  return ok && reference(tokens, name, i + 1, j + 1);
}

describe('the single-pass glob matcher', () => {
  it('agrees with full backtracking when no class can match /', () => {
    const piece = fc.constantFrom('a', 'b', '/', '*', '?', '[ab]', '[^a/]', '**', '\\*');
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 7 }),
        fc.array(fc.constantFrom('a', 'b', '/', '*'), { maxLength: 9 }),
        (ps, ns) => {
          const pattern = ps.join('');
          const name = ns.join('');
          const tokens = tokenizeGlob(pattern);
          expect(matchGlob(pattern, name)).toBe(reference(tokens, codePoints(name)));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
