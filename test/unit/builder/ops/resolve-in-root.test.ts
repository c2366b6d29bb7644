import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirAllInRoot, resolveImagePath, resolveInRoot } from '../../../../builder/ops/resolve-in-root.js';

let base: string;
let root: string;
let outside: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tsb-rir-'));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'a/b'), { recursive: true });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('resolveInRoot', () => {
  it('joins a plain path below the root', () => {
    expect(resolveInRoot(root, '/a/b/c')).toBe(join(root, 'a/b/c'));
    expect(resolveInRoot(root, 'a/./b//c/')).toBe(join(root, 'a/b/c'));
    expect(resolveInRoot(root, '/')).toBe(root);
  });

  it('stops .. at the root', () => {
    expect(resolveImagePath(root, '/../../..')).toBe('/');
    expect(resolveImagePath(root, '../../etc/passwd')).toBe('/etc/passwd');
    expect(resolveImagePath(root, '/a/../../../a/b')).toBe('/a/b');
  });

  it('takes an absolute symlink target from the root', () => {
    symlinkSync('/etc', join(root, 'a/etclink'));
    expect(resolveImagePath(root, '/a/etclink/passwd')).toBe('/etc/passwd');
    expect(resolveImagePath(root, '/a/etclink')).toBe('/etc');
  });

  it('keeps a relative symlink that climbs above the root inside it', () => {
    symlinkSync('../../../../../..', join(root, 'a/b/up'));
    expect(resolveImagePath(root, '/a/b/up/x')).toBe('/x');
    symlinkSync('../../outside', join(root, 'rel'));
    expect(resolveImagePath(root, '/rel/file')).toBe('/outside/file');
  });

  it('resolves symlinked parents and symlink chains', () => {
    symlinkSync('b', join(root, 'a/c'));
    symlinkSync('/a/c', join(root, 'chain'));
    expect(resolveImagePath(root, '/chain/f')).toBe('/a/b/f');
  });

  it('keeps a dangling symlink target as the path', () => {
    symlinkSync('/nowhere/deep', join(root, 'dangling'));
    expect(resolveImagePath(root, '/dangling')).toBe('/nowhere/deep');
    expect(resolveImagePath(root, '/dangling', { followFinal: false })).toBe('/dangling');
  });

  it('leaves the final symlink alone with followFinal false', () => {
    symlinkSync('/etc', join(root, 'l'));
    expect(resolveImagePath(root, '/l', { followFinal: false })).toBe('/l');
    expect(resolveImagePath(root, '/l/x', { followFinal: false })).toBe('/etc/x');
  });

  it('fails on symlink loops, absolute and relative', () => {
    symlinkSync('/loop2', join(root, 'loop1'));
    symlinkSync('/loop1', join(root, 'loop2'));
    expect(() => resolveImagePath(root, '/loop1/x')).toThrow(expect.objectContaining({ code: 'TSB_COPY_LINKS' }));
    symlinkSync('.', join(root, 'self'));
    symlinkSync('self/self/self/../self2', join(root, 'self2'));
    expect(() => resolveImagePath(root, '/self2')).toThrow(/too many levels of symbolic links/);
  });

  it('goes past a file in the middle lexically', () => {
    writeFileSync(join(root, 'file'), 'x');
    expect(resolveImagePath(root, '/file/x')).toBe('/file/x');
  });
});

describe('mkdirAllInRoot', () => {
  it('creates missing directories 0755 and reports them', () => {
    const made: string[] = [];
    expect(mkdirAllInRoot(root, '/a/b/c/d', { onCreate: (p) => made.push(p) })).toBe('/a/b/c/d');
    expect(made).toEqual(['/a/b/c', '/a/b/c/d']);
  });

  it('creates through a symlink inside the root, never outside it', () => {
    symlinkSync(outside, join(root, 'hostile'));
    symlinkSync('../../../../../../..', join(root, 'a/up'));
    expect(mkdirAllInRoot(root, '/hostile/x')).toBe(`${outside}/x`);
    expect(mkdirAllInRoot(root, '/a/up/y')).toBe('/y');
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(root).sort()).toEqual(['a', 'etc', 'hostile', outside.split('/')[1] as string, 'y'].sort());
  });

  it('fails on a file in the way', () => {
    writeFileSync(join(root, 'a/file'), 'x');
    expect(() => mkdirAllInRoot(root, '/a/file/sub')).toThrow('mkdir /a/file: not a directory');
  });
});
