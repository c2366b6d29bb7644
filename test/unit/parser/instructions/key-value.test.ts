import { describe, expect, it } from 'vitest';
import { fault, one } from './helpers.js';

const pairs = (p: { key: string; value: string | null }[]) => p.map((x) => [x.key, x.value]);

describe('ENV, LABEL and ARG', () => {
  it('ENV key=value pairs keep quotes and escapes as written', () => {
    const env = one('env', 'ENV A=1 B="two words" C=\'$x\' D=e\\ f E=');
    expect(env.legacy).toBe(false);
    expect(pairs(env.pairs)).toEqual([
      ['A', '1'],
      ['B', '"two words"'],
      ['C', "'$x'"],
      ['D', 'e\\ f'],
      ['E', ''],
    ]);
    expect(env.pairs[1]?.range).toEqual({ start: { line: 2, column: 9 }, end: { line: 2, column: 21 } });
  });

  it('the legacy ENV form takes the rest of the line as the value', () => {
    const env = one('env', 'ENV  NAME   value  with   spaces');
    expect(env.legacy).toBe(true);
    expect(pairs(env.pairs)).toEqual([['NAME', 'value  with   spaces']]);
  });

  it('ENV errors use BuildKit wording', () => {
    expect(fault('ENV key').message).toBe('ENV must have two arguments');
    expect(fault('ENV').message).toBe('ENV requires at least one argument');
    expect(fault('ENV =x').message).toBe('ENV names can not be blank');
    expect(fault('ENV a=1 b').message).toContain('can\'t find = in "b"');
  });

  it('LABEL pairs and the legacy LABEL form', () => {
    expect(pairs(one('label', 'LABEL a=1 "b c"="d"').pairs)).toEqual([
      ['a', '1'],
      ['"b c"', '"d"'],
    ]);
    const legacy = one('label', 'LABEL maintainer Jane Doe');
    expect(legacy.legacy).toBe(true);
    expect(pairs(legacy.pairs)).toEqual([['maintainer', 'Jane Doe']]);
  });

  it('ARG without a default has a null value', () => {
    expect(pairs(one('arg', 'ARG A B=1 C="x y" D=').pairs)).toEqual([
      ['A', null],
      ['B', '1'],
      ['C', '"x y"'],
      ['D', ''],
    ]);
    expect(fault('ARG').message).toBe('ARG requires at least one argument');
  });
});
