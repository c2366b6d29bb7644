// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the rows are Dockerfile words, not templates
import { describe, expect, it } from 'vitest';
import { TsbuildError, withLocation } from '../../../../errors.js';
import {
  EXPANSION_ERROR_CODES,
  ExpansionError,
  expandWord,
  expandWords,
  WordExpansionError,
} from '../../../../parser/index.js';

const ENV = { v: '1.2.3', e: '' };
const { syntax: SYNTAX, required: REQUIRED, pattern: PATTERN } = EXPANSION_ERROR_CODES;

/**
 * Rows are `[word, code, reason, docker]`; the message is `failed to process <%q of word>: <reason>`.
 * `docker` rows gave this exact message with `DOCKER_BUILDKIT=1 /usr/bin/docker build` (Docker 20.10.24,
 * `LABEL a=<word>` after `ARG v=1.2.3` and `ARG e=`). The others follow BuildKit's current lex.go, which
 * words some of them differently from that older Docker (noted on the row).
 */
type Row = [word: string, code: string, reason: string, docker: boolean];

const ROWS: Row[] = [
  ['${u:?}', REQUIRED, 'u: is not allowed to be unset', true],
  ['${e:?}', REQUIRED, 'e: is not allowed to be empty', true],
  ['${e:?msg$v}', REQUIRED, 'e: msg1.2.3', true],
  ['${u:?boom}', REQUIRED, 'u: boom', true],
  ['${u:?"${v}"}', REQUIRED, 'u: 1.2.3', true],
  // The word after `:+` is expanded first, so its error wins even though `u` is unset.
  ['${u:+${u2:?inner}}', REQUIRED, 'u2: inner', true],
  ['${u?}', REQUIRED, 'u: is not allowed to be unset', false],
  ['${u?no u here}', REQUIRED, 'u: no u here', false],
  ['${', SYNTAX, "syntax error: missing '}'", true],
  ['${}', SYNTAX, 'syntax error: bad substitution', true],
  ['${:}', SYNTAX, 'syntax error: bad substitution', true],
  ['${{a}}', SYNTAX, 'syntax error: bad substitution', true],
  ['${v:-a', SYNTAX, "syntax error: missing '}'", true],
  ['${v:-x"y}', SYNTAX, "syntax error: missing '}'", true],
  ['"abc', SYNTAX, 'unexpected end of statement while looking for matching double-quote', true],
  ["'abc", SYNTAX, 'unexpected end of statement while looking for matching single-quote', true],
  ['"abc\\', SYNTAX, 'unexpected end of statement while looking for matching double-quote', false],
  // Docker 20.10 says "missing ':' in substitution" for these three; BuildKit now names the modifier.
  ['${a!}', SYNTAX, 'unsupported modifier (!) in substitution', false],
  ['${a=x}', SYNTAX, 'unsupported modifier (=) in substitution', false],
  ['${#v}', SYNTAX, 'unsupported modifier (v) in substitution', false],
  // Docker 20.10 says "unsupported modifier (=)"; BuildKit now includes the colon.
  ['${a:=x}', SYNTAX, 'unsupported modifier (:=) in substitution', false],
  ['${v:}x}', SYNTAX, 'unsupported modifier (:}) in substitution', false],
  // BuildKit reports "unsupported modifier (\uFFFD)" for a name that runs to the end; tsbuild names the brace.
  ['${a', SYNTAX, "syntax error: missing '}'", false],
  ['${v:}', SYNTAX, "syntax error: missing '}'", false],
  ['${v/a}', SYNTAX, "syntax error: missing '/' in ${}", false],
  ['${v//ww}', SYNTAX, "syntax error: missing '/' in ${}", false],
  ['${v/a/b', SYNTAX, "syntax error: missing '}'", false],
  ['${v#\\x}', PATTERN, "invalid pattern (\\x) in substitution: invalid escape '\\x'", false],
  // `%` reverses the pattern before converting it, and the message shows the reversed pattern.
  ['${v%ab\\x}', PATTERN, "invalid pattern (\\xba) in substitution: invalid escape '\\x'", false],
  ['${v/\\a/b}', PATTERN, "invalid pattern (\\a) in substitution: invalid escape '\\a'", false],
];

describe('expansion errors', () => {
  it.each(ROWS)('rejects %j with %s: %s (docker: %s)', (word, code, reason) => {
    let caught: unknown;
    try {
      expandWord(word, ENV);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WordExpansionError);
    const err = caught as WordExpansionError;
    expect(err.code).toBe(code);
    expect(err.reason).toBe(reason);
    expect(err.message).toBe(`failed to process ${JSON.stringify(word)}: ${reason}`);
    expect(err.word).toBe(word);
  });

  it.each(ROWS)('expandWords rejects %j the same way', (word, code) => {
    expect(() => expandWords(word, ENV)).toThrow(expect.objectContaining({ code }));
  });

  it('is an ExpansionError and a TsbuildError, and names the variable of a required error', () => {
    const err = catchError(() => expandWord('${NAME:?set NAME}', {}));
    expect(err).toBeInstanceOf(ExpansionError);
    expect(err).toBeInstanceOf(TsbuildError);
    expect(err.variable).toBe('NAME');
    expect(err.name).toBe('WordExpansionError');
  });

  it('quotes the word in the message as Go %q does', () => {
    expect(catchError(() => expandWord('\t"${u:?}\u0001\u00e9', {})).message).toBe(
      'failed to process "\\t\\"${u:?}\\x01\u00e9": u: is not allowed to be unset',
    );
    expect(catchError(() => expandWord('${u:?}\u2028\u{1f47d}', {})).message).toBe(
      'failed to process "${u:?}\\u2028\u{1f47d}": u: is not allowed to be unset',
    );
  });

  it('prints a pattern ending in a lone backslash as BuildKit does', () => {
    expect(catchError(() => expandWord('${v#a\\}', ENV, { escape: '`' })).reason).toBe(
      "invalid pattern (a\\) in substitution: invalid escape '\\%!c(int32=-1)'",
    );
  });

  it('takes a source range with withLocation', () => {
    const range = { start: { line: 3, column: 1 }, end: { line: 3, column: 20 } };
    const err = withLocation(
      catchError(() => expandWord('${u:?}', {})),
      range,
      'Dockerfile',
    );
    expect(err).toBeInstanceOf(WordExpansionError);
    expect(err.ranges).toEqual([range]);
    expect(err.file).toBe('Dockerfile');
  });
});

function catchError(fn: () => unknown): WordExpansionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WordExpansionError) return err;
    throw err;
  }
  throw new Error('expected a WordExpansionError');
}
