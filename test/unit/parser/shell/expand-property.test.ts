import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandWord, expandWords, WordExpansionError } from '../../../../parser/index.js';

const ENV = { a: 'x y', b: '', c: '*.?', d: '$0\\' };

/** Words made of the characters that matter to the lexer, so that random words hit every branch. */
const word = fc
  .array(
    fc.constantFrom(
      '$',
      '{',
      '}',
      ':',
      '-',
      '+',
      '?',
      '#',
      '%',
      '/',
      '*',
      '\\',
      '`',
      "'",
      '"',
      ' ',
      'a',
      'b',
      'c',
      'd',
      'u',
      '0',
      '1',
      '@',
      '[',
      '\n',
      '\u00e9',
      '\u{1f47d}',
    ),
    { maxLength: 24 },
  )
  .map((chars) => chars.join(''));

const escapeChar = fc.constantFrom<'\\' | '`'>('\\', '`');

describe('word expansion on random words', () => {
  it('returns a value or throws a WordExpansionError, nothing else', () => {
    fc.assert(
      fc.property(word, escapeChar, fc.boolean(), (w, esc, skipUnset) => {
        try {
          const r = expandWord(w, ENV, { escape: esc, skipUnset });
          expect(typeof r.value).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(WordExpansionError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('gives expandWords the value of expandWord and words without white space', () => {
    fc.assert(
      fc.property(word, escapeChar, (w, esc) => {
        let single: string | undefined;
        try {
          single = expandWord(w, ENV, { escape: esc }).value;
        } catch {
          expect(() => expandWords(w, ENV, { escape: esc })).toThrow(WordExpansionError);
          return;
        }
        const r = expandWords(w, ENV, { escape: esc });
        expect(r.value).toBe(single);
        for (const v of r.values) expect(v.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves a word without $, quotes or the escape character unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const w = s.replace(/[$'"\\]/g, '');
        expect(expandWord(w, ENV).value).toBe(w);
      }),
    );
  });

  it('is pure: the same word and lookup give the same result', () => {
    fc.assert(
      fc.property(word, (w) => {
        const run = () => {
          try {
            const r = expandWords(w, ENV);
            return { value: r.value, values: r.values, m: [...r.matched], u: [...r.unmatched] };
          } catch (err) {
            return (err as Error).message;
          }
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 500 },
    );
  });
});
