import { describe, expect, it } from 'vitest';
import {
  extractFlags,
  parseJsonArray,
  parseWords,
  shellWords,
  splitFields,
  splitKeyword,
  unquoteWord,
} from '../../../../parser/syntax/index.js';

const values = (spans: { value: string }[]) => spans.map((s) => s.value);

describe('word scanners', () => {
  it('splitKeyword takes the first word and skips the whitespace after it', () => {
    const text = '  RUN \t echo hi  ';
    const head = splitKeyword(text, 0, text.length);
    expect(head?.keyword).toEqual({ value: 'RUN', start: 2, end: 5 });
    expect(text.slice(head!.restStart)).toBe('echo hi  ');
    expect(splitKeyword('   ', 0, 3)).toBeNull();
  });

  it('extractFlags reads --flags as BuildKit does: quotes removed, backslash escapes, -- ends them', () => {
    const text = '--chown="a b" --link --mount=type=cache,target=/x --from=x\\ y -- --not-a-flag src';
    const { flags, argsStart } = extractFlags(text, 0, text.length);
    expect(flags.map((f) => [f.name, f.flagValue])).toEqual([
      ['chown', 'a b'],
      ['link', null],
      ['mount', 'type=cache,target=/x'],
      ['from', 'x y'],
    ]);
    expect(flags[0]).toMatchObject({ start: 0, end: 13 });
    expect(text.slice(argsStart)).toBe('--not-a-flag src');
  });

  it('extractFlags stops at the first word that does not start with --', () => {
    const text = '-x --y';
    expect(extractFlags(text, 0, text.length)).toEqual({ flags: [], argsStart: 0 });
  });

  it('parseWords keeps quotes and escapes and splits at unquoted whitespace', () => {
    const text = `a=1 b="two words" c='x y' d=e\\ f g="esc \\" q"`;
    expect(values(parseWords(text, 0, text.length, 92))).toEqual([
      'a=1',
      'b="two words"',
      "c='x y'",
      'd=e\\ f',
      'g="esc \\" q"',
    ]);
  });

  it('parseWords uses the escape character of the file', () => {
    const text = 'a=C:\\dir b=x` y';
    expect(values(parseWords(text, 0, text.length, 96))).toEqual(['a=C:\\dir', 'b=x` y']);
  });

  it('parseWords keeps an empty quoted word and drops a trailing escape', () => {
    expect(values(parseWords('"" a\\', 0, 5, 92))).toEqual(['""', 'a']);
  });

  it('splitFields splits on spaces, tabs and carriage returns only', () => {
    const text = 'a  b\tc\u00a0d';
    expect(values(splitFields(text, 0, text.length))).toEqual(['a', 'b', 'c\u00a0d']);
  });

  it('shellWords keeps quoted and braced-variable whitespace inside one word', () => {
    const braced = '$' + '{x:-a b}';
    const text = `RUN <<"E O F" cat ${braced} 'c d'`;
    expect(values(shellWords(text, 0, text.length))).toEqual(['RUN', '<<"E O F"', 'cat', braced, "'c d'"]);
  });

  it('unquoteWord removes quotes and applies escapes, null for unbalanced quotes', () => {
    expect(unquoteWord('"EOF"')).toBe('EOF');
    expect(unquoteWord("'E\\OF'")).toBe('E\\OF');
    expect(unquoteWord('E\\"OF')).toBe('E"OF');
    expect(unquoteWord('"EOF')).toBeNull();
  });

  it('parseJsonArray detects the exec form with the span of each string', () => {
    const text = '[ "a", "b \\"c\\"" ]';
    const r = parseJsonArray(text, 0, text.length);
    expect(r.kind).toBe('exec');
    if (r.kind !== 'exec') return;
    expect(r.values).toEqual([
      { value: 'a', start: 2, end: 5 },
      { value: 'b "c"', start: 7, end: 16 },
    ]);
  });

  it('parseJsonArray falls back to the shell form for anything that is not one JSON array', () => {
    for (const text of ['["a", \'b\']', '[a]', '["a"] && b', '["unclosed"', 'echo [x]', '']) {
      expect(parseJsonArray(text, 0, text.length).kind, text).toBe('shell');
    }
    expect(parseJsonArray('[1, "a"]', 0, 8).kind).toBe('not-strings');
    expect(parseJsonArray('[]', 0, 2)).toEqual({ kind: 'exec', values: [] });
  });
});
