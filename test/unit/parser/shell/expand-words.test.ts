// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the rows are Dockerfile words, not templates
import { describe, expect, it } from 'vitest';
import { expandWord, expandWords } from '../../../../parser/index.js';

/**
 * Rows are `[word, words, docker]`. `docker` rows were built with `DOCKER_BUILDKIT=1 /usr/bin/docker build`
 * as `EXPOSE <word>` after `ARG x="80 81"`, `ARG w="83 84"`, `ARG t="86\t 87 "`, `ARG one=85`, and
 * `.Config.ExposedPorts` read back (BuildKit's EXPOSE uses ProcessWords). `"$x"` failed there with
 * `Invalid containerPort: 80 81`, which shows it stayed one word.
 */
const DOCKER = true;
const SOURCE = false;

const ENV: Record<string, string> = { x: '80 81', w: '83 84', t: '86\t 87 ', one: '85', e: '', sp: ' lead trail ' };

type Row = [word: string, words: string[], docker: boolean];

const ROWS: Row[] = [
  ['$x', ['80', '81'], DOCKER],
  ['"$x"', ['80 81'], DOCKER],
  ['${x}/udp', ['80', '81/udp'], DOCKER],
  ['8""0', ['80'], DOCKER],
  ["'8'0", ['80'], DOCKER],
  ['""', [], DOCKER],
  ['${u:-$w}', ['83', '84'], DOCKER],
  ['$t', ['86', '87'], DOCKER],
  ['"$one"', ['85'], DOCKER],
  ['9${x}9', ['980', '819'], DOCKER],
  ["'$x'", ['$x'], DOCKER],
  ['8\\0', ['80'], DOCKER],
  ['a b  c', ['a', 'b', 'c'], SOURCE],
  ['  a  ', ['a'], SOURCE],
  ['"a b" c', ['a b', 'c'], SOURCE],
  ["'a  b'c d", ['a  bc', 'd'], SOURCE],
  ['a\\ b', ['a b'], SOURCE],
  ["'' x", ['x'], SOURCE],
  ['"" ""', [], SOURCE],
  ['a"" b', ['a', 'b'], SOURCE],
  ['$e', [], SOURCE],
  ['$sp', ['lead', 'trail'], SOURCE],
  ['"$sp"', [' lead trail '], SOURCE],
  // Quotes inside a modifier's word are removed before the value is split.
  ['${u:-"a b"}', ['a', 'b'], SOURCE],
  ['"${u:-a b}"', ['a b'], SOURCE],
  ['a\tb\nc\rd\ve\ff', ['a', 'b', 'c', 'd', 'e', 'f'], SOURCE],
  // Go's unicode.IsSpace: NEL, NO-BREAK SPACE and the Z categories split; ZERO WIDTH SPACE and BOM do not.
  ['a\u0085b\u00a0c\u3000d\u2028e', ['a', 'b', 'c', 'd', 'e'], SOURCE],
  ['a\u200bb\ufeffc', ['a\u200bb\ufeffc'], SOURCE],
  ['', [], SOURCE],
];

describe('expandWords', () => {
  it.each(ROWS)('splits %j into %j (docker: %s)', (word, words) => {
    expect(expandWords(word, ENV).values).toEqual(words);
  });

  it.each(ROWS)('gives %j the same value as expandWord', (word) => {
    expect(expandWords(word, ENV).value).toBe(expandWord(word, ENV).value);
  });

  it('splits with the backtick escape character', () => {
    expect(expandWords('a` b c\\ d', {}, { escape: '`' }).values).toEqual(['a b', 'c\\', 'd']);
  });

  it('reports matched and unmatched names', () => {
    const r = expandWords('$x ${u:-$one}', ENV);
    expect(r.values).toEqual(['80', '81', '85']);
    expect([...r.matched].sort()).toEqual(['one', 'x']);
    expect([...r.unmatched]).toEqual(['u']);
  });
});
