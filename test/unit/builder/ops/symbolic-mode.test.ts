import { describe, expect, it } from 'vitest';
import { modeChange, parseSymbolicMode } from '../../../../builder/ops/symbolic-mode.js';

const FILE = 0o100000;
const DIR = 0o040000;
const apply = (spec: string, mode: number) => parseSymbolicMode(spec)(mode).toString(8).padStart(4, '0');

describe('symbolic --chmod', () => {
  it('adds, removes and sets bits for the classes named (none named means all)', () => {
    expect(apply('+x', FILE | 0o644)).toBe('0755');
    expect(apply('u+x', FILE | 0o644)).toBe('0744');
    expect(apply('go-r', FILE | 0o644)).toBe('0600');
    expect(apply('a=r', FILE | 0o755)).toBe('0444');
    expect(apply('u=rw,go=r', FILE | 0o777)).toBe('0644');
    expect(apply('=', FILE | 0o755)).toBe('0000');
    expect(apply('o=', FILE | 0o757)).toBe('0750');
    expect(apply('u+r-w', FILE | 0o644)).toBe('0444');
  });

  it('X is execute for directories and for files that already have an execute bit', () => {
    expect(apply('u=rwX,go=rX', FILE | 0o600)).toBe('0644');
    expect(apply('u=rwX,go=rX', FILE | 0o700)).toBe('0755');
    expect(apply('u=rwX,go=rX', DIR | 0o700)).toBe('0755');
    expect(apply('a+X', DIR | 0o000)).toBe('0111');
    // X looks at the mode before the change, not at what earlier clauses made of it.
    expect(apply('a-x,a+X', FILE | 0o744)).toBe('0755');
    expect(apply('u+x,go+X', FILE | 0o644)).toBe('0744');
  });

  it('copies one class to others', () => {
    expect(apply('g=u', FILE | 0o640)).toBe('0660');
    expect(apply('o+g', FILE | 0o650)).toBe('0655');
    expect(apply('go=u', FILE | 0o700)).toBe('0777');
  });

  it('s and t need a class other than o; = keeps the sticky bit unless t is named', () => {
    expect(apply('u+s', FILE | 0o755)).toBe('4755');
    expect(apply('g+s', DIR | 0o755)).toBe('2755');
    expect(apply('+s', FILE | 0o755)).toBe('6755');
    expect(apply('o+s', FILE | 0o755)).toBe('0755');
    expect(apply('+t', DIR | 0o777)).toBe('1777');
    expect(apply('o+t', DIR | 0o777)).toBe('0777');
    expect(apply('u=rwx', DIR | 0o1777)).toBe('1777');
    expect(apply('a=rwx', DIR | 0o1755)).toBe('1777');
    expect(apply('u-s', FILE | 0o4755)).toBe('0755');
  });

  it('octal modes replace the bits; malformed modes fail with TSB_COPY_CHMOD', () => {
    expect(modeChange(0o2755)(FILE | 0o4644)).toBe(0o2755);
    expect(modeChange('640')(DIR | 0o755)).toBe(0o640);
    for (const bad of ['', 'u', 'u+r,', 'z+x', '+q', '99999']) {
      expect(() => modeChange(bad), bad).toThrow(expect.objectContaining({ code: 'TSB_COPY_CHMOD' }));
    }
  });
});
