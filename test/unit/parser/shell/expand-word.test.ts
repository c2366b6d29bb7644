// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the rows are Dockerfile words, not templates
import { describe, expect, it } from 'vitest';
import { expandWord } from '../../../../parser/index.js';

/**
 * Rows are `[word, expected, docker]`. `docker` is true when the row was built with the real
 * `DOCKER_BUILDKIT=1 /usr/bin/docker build` (Docker 20.10.24 here) as `LABEL k=<word>` after
 * `ARG v=1.2.3`, `ARG e=`, `ARG sp="a b"`, `ARG star="*"`, `ARG bs="a\\b"`, and the label read back
 * with `docker inspect`. That Docker's built-in frontend predates the `-`, `+`, `?` (without colon) and
 * pattern forms, so those rows follow BuildKit's current `shell/lex.go` instead (docker false).
 */
const DOCKER = true;
const SOURCE = false;

const ENV: Record<string, string> = {
  v: '1.2.3',
  e: '',
  sp: 'a b',
  star: '*',
  bs: 'a\\b',
  file: 'archive.tar.gz',
  p: '/tmp/tmp/bar.txt',
  url: 'http://example.com/a/b',
  path: '/usr/local/bin:/usr/bin',
  st: 'a*b',
  q: '?x',
  br: '[ab]c',
  re: '(a.b)+c',
  nl: 'a\nb',
  u8: 'h\u00e9llo\u{1f47d}x',
  dollar0: '$0',
  sq: "'a b'",
  dq: 'x"y',
};

type Row = [word: string, expected: string, docker: boolean];

const QUOTING_AND_SIMPLE: Row[] = [
  ['${e:-d}', 'd', DOCKER],
  ['${e:+y}', '', DOCKER],
  ['${u:+y}', '', DOCKER],
  ['${u:-${v}}', '1.2.3', DOCKER],
  ['${u:-${u2:-deep}}', 'deep', DOCKER],
  ['${v:+${u:-in}}', 'in', DOCKER],
  ["'$v'", '$v', DOCKER],
  ['"\\$v"', '$v', DOCKER],
  ['a\\$b', 'a$b', DOCKER],
  ['$1x', 'x', DOCKER],
  ['$@x', 'x', DOCKER],
  ['$#x', 'x', DOCKER],
  ['$$x', 'x', DOCKER],
  ['$?x', 'x', DOCKER],
  ['$!x', 'x', DOCKER],
  ['$-x', 'x', DOCKER],
  ['$*x', 'x', DOCKER],
  ['$0x', 'x', DOCKER],
  ['$', '$', DOCKER],
  ['a$', 'a$', DOCKER],
  ['$/x', '$/x', DOCKER],
  ['$.', '$.', DOCKER],
  ['"a\\nb"', 'a\\nb', DOCKER],
  ['"a\\\\b"', 'a\\b', DOCKER],
  ['a\\\\b', 'a\\b', DOCKER],
  ['\\a', 'a', DOCKER],
  ['"\\\'"', "\\'", DOCKER],
  ["'a\\b'", 'a\\b', DOCKER],
  ['"\'$v\'"', "'1.2.3'", DOCKER],
  ['\'"$v"\'', '"$v"', DOCKER],
  ['$v_x', '', DOCKER],
  ['${v}_x', '1.2.3_x', DOCKER],
  ['$10', '', DOCKER],
  ['${10}', '', DOCKER],
  ['"${u:-a b}"', 'a b', DOCKER],
  ['"${u:-\'q\'}"', 'q', DOCKER],
  ['${u:-"q"}', 'q', DOCKER],
  ['${u:-\\}}', '}', DOCKER],
  ['${u:-a\\b}', 'ab', DOCKER],
  ['"${u:-\\"}"', '"', DOCKER],
  ['"${sp}"', 'a b', DOCKER],
  ['$sp', 'a b', DOCKER],
  ['${bs}', 'a\\b', DOCKER],
  ['"${bs}"', 'a\\b', DOCKER],
  ['$star', '*', DOCKER],
  ['a"b"c\'d\'e', 'abcde', DOCKER],
  ['""', '', DOCKER],
  ["''", '', DOCKER],
  ['$é', '', DOCKER],
  ['${v}${e}${v}', '1.2.31.2.3', DOCKER],
  ['"\\\\$v"', '\\1.2.3', DOCKER],
  ['\\\\$v', '\\1.2.3', DOCKER],
  ['$V', '', DOCKER],
  ['"$"', '$', DOCKER],
  ['"a$"', 'a$', DOCKER],
  ["'${v'", '${v', DOCKER],
  ['"${v:-}"', '1.2.3', DOCKER],
  ['${e:-}', '', DOCKER],
  ['${u:+}', '', DOCKER],
  ['$v$', '1.2.3$', DOCKER],
  ['$v-x', '1.2.3-x', DOCKER],
  ['${v}-x', '1.2.3-x', DOCKER],
];

const BACKTICK_ESCAPE: Row[] = [
  ['`$v', '$v', DOCKER],
  ['\\$v', '\\1.2.3', DOCKER],
  ['"a`"b"', 'a"b', DOCKER],
  ['"a\\b"', 'a\\b', DOCKER],
  ['"a`b"', 'a`b', DOCKER],
  ['"a``b"', 'a`b', DOCKER],
  ['"`$v"', '$v', DOCKER],
  ['a``b', 'a`b', DOCKER],
  ['`a', 'a', DOCKER],
  ['C:\\path\\$v', 'C:\\path\\1.2.3', DOCKER],
  ['"C:\\dir\\"', 'C:\\dir\\', DOCKER],
  ['${u:-`}}', '}', DOCKER],
  ["'a`b'", 'a`b', DOCKER],
  ['"\\$v"', '\\1.2.3', DOCKER],
];

// An expanded value is never lexed again: its quotes and `$` stay (docker: `ARG q="'a b'"`, `ARG dq="x\\"y"`).
const VALUES_NOT_RELEXED: Row[] = [
  ['$sq', "'a b'", DOCKER],
  ['"$sq"', "'a b'", DOCKER],
  ['$dq', 'x"y', DOCKER],
  ['$dollar0', '$0', SOURCE],
];

const FORMS: Row[] = [
  ['$v', '1.2.3', DOCKER],
  ['${v}', '1.2.3', DOCKER],
  ['${v:-d}', '1.2.3', DOCKER],
  ['${u:-d}', 'd', DOCKER],
  ['${v:+y}', 'y', DOCKER],
  ['${v-d}', '1.2.3', SOURCE],
  ['${e-d}', '', SOURCE],
  ['${u-d}', 'd', SOURCE],
  ['${u-}', '', SOURCE],
  ['${v+y}', 'y', SOURCE],
  ['${e+y}', 'y', SOURCE],
  ['${u+y}', '', SOURCE],
  ['${v:?msg}', '1.2.3', DOCKER],
  ['${v?msg}', '1.2.3', SOURCE],
  ['${e?msg}', '', SOURCE],
  ['${u-${v:+set}}', 'set', SOURCE],
  ['${u:-${u2-$v}}', '1.2.3', SOURCE],
  ['${@:-at}', 'at', DOCKER],
  ['${1:-one}', 'one', SOURCE],
  ['${10:-x}', 'x', DOCKER],
  ['${#:-h}', 'h', DOCKER],
  ['${v:+"$v"}', '1.2.3', DOCKER],
  // Single quotes inside a modifier's word still quote, even within double quotes.
  ['"${v:+\'$v\'}"', '$v', DOCKER],
  ['x${v:-a}y${u:-b}z', 'x1.2.3ybz', DOCKER],
];

const PATTERNS: Row[] = [
  ['${v#*.}', '2.3', SOURCE],
  ['${v##*.}', '3', SOURCE],
  ['${v%.*}', '1.2', SOURCE],
  ['${v%%.*}', '1', SOURCE],
  ['${file%.gz}', 'archive.tar', SOURCE],
  ['${file%%.*}', 'archive', SOURCE],
  ['${file#*.}', 'tar.gz', SOURCE],
  ['${file##*.}', 'gz', SOURCE],
  ['${file#archive}', '.tar.gz', SOURCE],
  ['${file#nomatch}', 'archive.tar.gz', SOURCE],
  ['${file%?z}', 'archive.tar.', SOURCE],
  ['${file#??}', 'chive.tar.gz', SOURCE],
  ['${file#*}', 'archive.tar.gz', SOURCE],
  ['${file##*}', '', SOURCE],
  ['${file%*}', 'archive.tar.gz', SOURCE],
  ['${file%%*}', '', SOURCE],
  ['${file#*.*}', 'tar.gz', SOURCE],
  ['${file##*.*}', '', SOURCE],
  ['${file%.*.*}', 'archive', SOURCE],
  ['${v#}', '1.2.3', SOURCE],
  ['${v##}', '1.2.3', SOURCE],
  ['${v%}', '1.2.3', SOURCE],
  ['${u#*}', '', SOURCE],
  ['${e%%*}', '', SOURCE],
  ['${path%%:*}', '/usr/local/bin', SOURCE],
  ['${path#*:}', '/usr/bin', SOURCE],
  ['${url#*://}', 'example.com/a/b', SOURCE],
  ['${url%/*}', 'http://example.com/a', SOURCE],
  ['${url##*/}', 'b', SOURCE],
  // The colon is accepted and means nothing for the pattern forms.
  ['${v:#1.}', '2.3', SOURCE],
  ['${v:%%.*}', '1', SOURCE],
  // BuildKit has no bracket expressions: `[` and `]` are literal.
  ['${br#[ab]}', 'c', SOURCE],
  ['${file#[a]}', 'archive.tar.gz', SOURCE],
  ['${file#[!x]}', 'archive.tar.gz', SOURCE],
  // Escapes in a pattern: `\*`, `\?`, `\\` are literal characters.
  ['${st#a\\*}', 'b', SOURCE],
  ['${st#*\\*}', 'b', SOURCE],
  ['${st%\\*b}', 'a', SOURCE],
  ['${q#\\?}', 'x', SOURCE],
  ['${bs#a\\\\}', 'b', SOURCE],
  ['${re#(a.b)}', '+c', SOURCE],
  ['${v#1?2}', '.3', SOURCE],
  ['${v#1.2}', '.3', SOURCE],
  // The pattern word is expanded first, and quotes are removed without making `*` literal.
  ['${v#$star}', '1.2.3', SOURCE],
  ['${v##$star}', '', SOURCE],
  ['${v##"*"}', '', SOURCE],
  ["${v#'1.'}", '2.3', SOURCE],
  // `*` and `?` do not match a newline (Go's `.`).
  ['${nl##*}', '\nb', SOURCE],
  ['${nl%%*}', 'a\n', SOURCE],
  // Code points, not UTF-16 units.
  ['${u8#h?}', 'llo\u{1f47d}x', SOURCE],
  ['${u8%?x}', 'h\u00e9llo', SOURCE],
  ['${u8%??}', 'h\u00e9llo', SOURCE],
];

const REPLACE: Row[] = [
  ['${v/./-}', '1-2.3', SOURCE],
  ['${v//./-}', '1-2-3', SOURCE],
  ['${p/\\/tmp/}', '/tmp/bar.txt', SOURCE],
  ['${p//\\/tmp/}', '/bar.txt', SOURCE],
  ['${url/*:/https:}', 'https://example.com/a/b', SOURCE],
  ['${v//?/x}', 'xxxxx', SOURCE],
  // Go's ReplaceAll skips the empty match right after a match.
  ['${v//*/r}', 'r', SOURCE],
  ['${v/$e/ww}', 'ww1.2.3', SOURCE],
  ['${v//$e/-}', '-1-.-2-.-3-', SOURCE],
  ['${v///}', '1.2.3', SOURCE],
  ['${e//a/b}', '', SOURCE],
  ['${u//a/b}', '', SOURCE],
  // `#` and `%` do not anchor in BuildKit's `/` form; brackets are literal.
  ['${v/#1/x}', '1.2.3', SOURCE],
  ['${v//[0-9]/x}', '1.2.3', SOURCE],
  // The replacement keeps its escape characters (BuildKit reads it raw).
  ['${p//\\//\\/}', '\\/tmp\\/tmp\\/bar.txt', SOURCE],
  ['${v/./\\}}', '1\\}2.3', SOURCE],
  // `//` expands Go's `$0` (the match) and `$$` in the replacement; `/` takes it literally.
  ["${v//./'<$0>'}", '1<.>2<.>3', SOURCE],
  ['${v//./\\$0}', '1\\.2\\.3', SOURCE],
  ["${v//./'$$'}", '1$2$3', SOURCE],
  ["${v//./'$1'}", '123', SOURCE],
  ["${v//./'${0}'}", '1.2.3', SOURCE],
  ["${v//./'$'}", '1$2$3', SOURCE],
  ["${v/./'$0'}", '1$02.3', SOURCE],
  ["${v//?/'<$0>'}", '<1><.><2><.><3>', SOURCE],
  ["${v//*/'[${0}]'}", '[1.2.3]', SOURCE],
  ['${v//./$dollar0}', '1.2.3', SOURCE],
  // A `$` reference in the replacement is expanded by the lexer first.
  ['${v//./$$}', '123', SOURCE],
  ['${u8//\u{1f47d}/-}', 'h\u00e9llo-x', SOURCE],
];

// Docker rows here used `ENV \u00e9=accent \u00e9t\u00e9_1=summer \u65e5\u672c=nihon _=underscore`.
const NAMES: Row[] = [
  ['$\u00e9', 'accent', DOCKER],
  ['$\u00e9t\u00e9_1', 'summer', DOCKER],
  ['$\u65e5\u672c', 'nihon', DOCKER],
  ['${\u00e9:-x}', 'accent', DOCKER],
  // A name that starts with a digit is the run of digits (Unicode decimal digits too).
  ['$1a', 'onea', SOURCE],
  ['$12', 'twelve', SOURCE],
  ['$\u0663x', 'arabic3x', SOURCE],
  ['$_', 'underscore', DOCKER],
  ['$_1-', 'u1-', SOURCE],
];

const NAMES_ENV: Record<string, string> = {
  '\u00e9': 'accent',
  '\u00e9t\u00e9_1': 'summer',
  '\u65e5\u672c': 'nihon',
  '1': 'one',
  '12': 'twelve',
  '\u0663': 'arabic3',
  _: 'underscore',
  _1: 'u1',
};

describe('expandWord', () => {
  it.each(QUOTING_AND_SIMPLE)('expands %j to %j (docker: %s)', (word, expected) => {
    expect(expandWord(word, ENV).value).toBe(expected);
  });

  it.each(VALUES_NOT_RELEXED)('does not lex the value of %j again, giving %j (docker: %s)', (word, expected) => {
    expect(expandWord(word, ENV).value).toBe(expected);
  });

  it.each(FORMS)('expands the form %j to %j (docker: %s)', (word, expected) => {
    expect(expandWord(word, ENV).value).toBe(expected);
  });

  it.each(PATTERNS)('expands the pattern form %j to %j (docker: %s)', (word, expected) => {
    expect(expandWord(word, ENV).value).toBe(expected);
  });

  it.each(REPLACE)('expands the replacement %j to %j (docker: %s)', (word, expected) => {
    expect(expandWord(word, ENV).value).toBe(expected);
  });

  it.each(NAMES)('reads the name in %j as BuildKit does, giving %j (docker: %s)', (word, expected) => {
    expect(expandWord(word, NAMES_ENV).value).toBe(expected);
  });

  it.each(BACKTICK_ESCAPE)('expands %j to %j with `# escape=`` (docker: %s)', (word, expected) => {
    expect(expandWord(word, { v: '1.2.3', e: '' }, { escape: '`' }).value).toBe(expected);
  });

  it('returns a plain word unchanged, with empty sets', () => {
    const r = expandWord('/usr/local/bin', ENV);
    expect(r).toEqual({ value: '/usr/local/bin', matched: new Set(), unmatched: new Set() });
  });

  it('drops an escape character at the end of the word', () => {
    expect(expandWord('abc\\', ENV).value).toBe('abc');
    expect(expandWord('abc`', ENV, { escape: '`' }).value).toBe('abc');
  });

  it('escapes a whole code point, not half of a surrogate pair', () => {
    expect(expandWord('\\\u{1f47d}$v', ENV).value).toBe('\u{1f47d}1.2.3');
  });
});

type SetsRow = [word: string, matched: string[], unmatched: string[]];

const SETS: SetsRow[] = [
  ['$v $u', ['v'], ['u']],
  ['${e}', ['e'], []],
  ['${u:-$v}', ['v'], ['u']],
  // The word after a modifier is expanded even when it is not used (BuildKit reads it first).
  ['${v:-$u}', ['v'], ['u']],
  ['${u:+$v}', ['v'], ['u']],
  ["'$u'", [], []],
  ['"$u"', [], ['u']],
  ['\\$u', [], []],
  ['$1 $@', [], ['1', '@']],
  ['${v#$u}', ['v'], ['u']],
  ['${v//$star/$e}', ['v', 'star', 'e'], []],
  ['$v$v${v}', ['v'], []],
  ['$ $u', [], ['u']],
];

describe('expandWord matched and unmatched names', () => {
  it.each(SETS)('records the names in %j: matched %j, unmatched %j', (word, matched, unmatched) => {
    const r = expandWord(word, ENV);
    expect([...r.matched].sort()).toEqual([...matched].sort());
    expect([...r.unmatched].sort()).toEqual([...unmatched].sort());
  });
});

type SkipRow = [word: string, expected: string];

const SKIP_UNSET: SkipRow[] = [
  ['$u', '$u'],
  ['${u}', '${u}'],
  ['$1', '$1'],
  ['$@', '$@'],
  ['${u:-x}', '${u:-x}'],
  ["${u:-'a'}", '${u:-a}'],
  ['${u-$v}', '${u-1.2.3}'],
  ['${u:?msg}', '${u:?msg}'],
  ['${u#x*}', '${u#x*}'],
  ['${u/a/b}', '${u/a/b}'],
  // BuildKit writes `${u/a/b}` for this one, losing the second slash; tsbuild keeps it.
  ['${u//a/b}', '${u//a/b}'],
  ['"$u"', '$u'],
  ['$v', '1.2.3'],
  ['${e:-x}', 'x'],
  ['${v%.*}', '1.2'],
];

describe('expandWord with skipUnset', () => {
  it.each(SKIP_UNSET)('leaves %j as %j', (word, expected) => {
    expect(expandWord(word, ENV, { skipUnset: true }).value).toBe(expected);
  });

  it('still reports the unset names as unmatched', () => {
    expect([...expandWord('$u ${u2:-x}', ENV, { skipUnset: true }).unmatched]).toEqual(['u', 'u2']);
  });
});
