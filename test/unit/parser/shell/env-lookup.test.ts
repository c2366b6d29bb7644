// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the words are Dockerfile words, not templates
import { describe, expect, it } from 'vitest';
import { envLookup, expandWord } from '../../../../parser/index.js';

describe('envLookup', () => {
  it('reads a Map', () => {
    const get = envLookup(new Map([['a', '1']]));
    expect(get('a')).toBe('1');
    expect(get('b')).toBeUndefined();
  });

  it('reads only the own keys of a Record', () => {
    const get = envLookup({ a: '1', e: '' });
    expect(get('e')).toBe('');
    expect(get('constructor')).toBeUndefined();
    expect(get('toString')).toBeUndefined();
  });

  it('reads a KEY=value list where a later entry wins and a bare KEY is empty', () => {
    const get = envLookup(['a=1', 'b=x=y', 'a=2', 'bare']);
    expect(get('a')).toBe('2');
    expect(get('b')).toBe('x=y');
    expect(get('bare')).toBe('');
    expect(get('c')).toBeUndefined();
  });

  it('passes a lookup function through', () => {
    const fn = (name: string) => (name === 'a' ? 'A' : undefined);
    expect(envLookup(fn)).toBe(fn);
  });

  it('lets expandWord take any of these sources', () => {
    expect(expandWord('$a-$b', new Map([['a', '1']])).value).toBe('1-');
    expect(expandWord('$a-$b', { a: '1', b: '2' }).value).toBe('1-2');
    expect(expandWord('$a-$b', ['a=1', 'b=2']).value).toBe('1-2');
    expect(expandWord('$a-$b', (n) => n.toUpperCase()).value).toBe('A-B');
  });

  it('treats a Record key set to undefined as unset', () => {
    const r = expandWord('${a-unset}', { a: undefined });
    expect(r.value).toBe('unset');
    expect([...r.unmatched]).toEqual(['a']);
  });
});
