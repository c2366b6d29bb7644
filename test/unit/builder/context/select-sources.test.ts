import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BuildContext,
  type ContextFs,
  GlobPatternError,
  nodeContextFs,
  parseDockerignore,
  type SelectedSource,
  SourceNotFoundError,
  selectSources,
} from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-select-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string | null>): void {
  for (const [p, content] of Object.entries(files)) {
    const full = join(dir, p);
    if (content === null) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
}

const summary = (sources: SelectedSource[]) =>
  sources.map((s) => ({ path: s.path, type: s.root.type, entries: s.entries.map((e) => `${e.type}:${e.path}`) }));

function ctx(ignore = ''): BuildContext {
  return new BuildContext(dir, { ignore: parseDockerignore(ignore).matcher });
}

describe('COPY source selection', () => {
  it('a file source selects the file', async () => {
    tree({ 'a.txt': 'A' });
    const [s] = await ctx().select(['a.txt']);
    expect(s?.path).toBe('a.txt');
    expect(s?.root).toMatchObject({ type: 'file', size: 1, path: '', contextPath: 'a.txt', uid: 0, gid: 0 });
    expect(s?.entries).toEqual([]);
  });

  it('a directory source lists its contents, parents first, in name order, with empty directories', async () => {
    tree({ 'src/b': 'b', 'src/a/x': 'x', 'src/a/empty': null, 'src/c': 'c' });
    expect(summary(await ctx().select(['src']))).toEqual([
      { path: 'src', type: 'dir', entries: ['dir:a', 'dir:a/empty', 'file:a/x', 'file:b', 'file:c'] },
    ]);
  });

  it('. selects the whole context', async () => {
    tree({ a: 'a', 'd/b': 'b' });
    expect(summary(await ctx().select(['.']))).toEqual([
      { path: '.', type: 'dir', entries: ['file:a', 'dir:d', 'file:d/b'] },
    ]);
  });

  it('sources are cleaned to the context root: ../x, /x and ./x name x', async () => {
    tree({ x: 'x' });
    for (const src of ['../x', '/x', './x', '../../x', 'd/../x']) {
      const [s] = await ctx().select([src]);
      expect(s?.path).toBe('x');
    }
  });

  it('a missing source is SourceNotFoundError with BuildKit wording', async () => {
    tree({ a: 'a' });
    const err = await ctx()
      .select(['nope/file'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceNotFoundError);
    expect((err as SourceNotFoundError).code).toBe('TSB_COPY_NOT_FOUND');
    expect((err as SourceNotFoundError).source).toBe('nope/file');
    expect((err as Error).message).toBe('"/nope/file": not found');
  });

  it('a path through a file is not found', async () => {
    tree({ a: 'a' });
    await expect(ctx().select(['a/b'])).rejects.toThrow('"/a/b": not found');
  });

  it('wildcards match names in name order; a wildcard matching nothing selects nothing', async () => {
    tree({ 'b.txt': 'b', 'a.txt': 'a', 'c.md': 'c', 'sub/d.txt': 'd' });
    expect((await ctx().select(['*.txt'])).map((s) => s.path)).toEqual(['a.txt', 'b.txt']);
    expect(await ctx().select(['*.none'])).toEqual([]);
    await expect(ctx().select(['*.none'], { allowEmptyWildcard: false })).rejects.toThrow(SourceNotFoundError);
  });

  it('a wildcard in a middle element walks one level', async () => {
    tree({ 'a/x': '1', 'b/x': '2', 'b/c/x': '3', 'x/y': '4' });
    expect((await ctx().select(['*/x'])).map((s) => s.path)).toEqual(['a/x', 'b/x']);
    expect((await ctx().select(['b/*'])).map((s) => s.path)).toEqual(['b/c', 'b/x']);
  });

  it('a class never spans two path elements (as BuildKit selects)', async () => {
    tree({ 'a/b': 'ab', acb: 'c' });
    expect((await ctx().select(['a[^x]b'])).map((s) => s.path)).toEqual(['acb']);
  });

  it('a matching directory is selected whole and not searched further', async () => {
    tree({ 'app1/x': '1', 'app2/y': '2', 'lib/z': '3' });
    expect(summary(await ctx().select(['app*']))).toEqual([
      { path: 'app1', type: 'dir', entries: ['file:x'] },
      { path: 'app2', type: 'dir', entries: ['file:y'] },
    ]);
  });

  it('a malformed wildcard is a GlobPatternError', async () => {
    tree({ a: 'a' });
    await expect(ctx().select(['a['])).rejects.toThrow(GlobPatternError);
  });

  it('an escaped wildcard makes the source a plain path (as BuildKit: a\\*b does not match a*b)', async () => {
    tree({ 'a*b': 'star', axb: 'x' });
    await expect(ctx().select(['a\\*b'])).rejects.toThrow('"/a\\\\*b": not found');
    expect((await ctx().select(['a*b'])).map((s) => s.path)).toEqual(['a*b', 'axb']);
  });

  it('ignored files are invisible to COPY, by path and by wildcard', async () => {
    tree({ 'a.txt': 'a', 'b.txt': 'b', 'logs/x.log': 'x', 'src/keep': 'k', 'src/tmp/t': 't' });
    const c = ctx('b.txt\nlogs\nsrc/tmp\n');
    expect((await c.select(['*.txt'])).map((s) => s.path)).toEqual(['a.txt']);
    await expect(c.select(['b.txt'])).rejects.toThrow('"/b.txt": not found');
    await expect(c.select(['logs'])).rejects.toThrow('"/logs": not found');
    await expect(c.select(['logs/x.log'])).rejects.toThrow('"/logs/x.log": not found');
    expect(summary(await c.select(['src']))).toEqual([{ path: 'src', type: 'dir', entries: ['file:keep'] }]);
  });

  it('an ignored directory with a re-included file is visible with just that file', async () => {
    tree({ 'docs/a.md': 'a', 'docs/b.md': 'b', 'docs/img/c.png': 'c' });
    const c = ctx('docs\n!docs/img/c.png\n');
    expect(summary(await c.select(['docs']))).toEqual([
      { path: 'docs', type: 'dir', entries: ['dir:img', 'file:img/c.png'] },
    ]);
    expect((await c.select(['docs/*'])).map((s) => s.path)).toEqual(['docs/img']);
    expect((await c.select(['docs/img/c.png'])).map((s) => s.path)).toEqual(['docs/img/c.png']);
  });

  it('a symlink source is followed; symlinks inside a directory are kept', async () => {
    tree({ a: 'A', 'dir/x': 'X' });
    symlinkSync('a', join(dir, 'link'));
    symlinkSync('dir', join(dir, 'dirlink'));
    symlinkSync('/a', join(dir, 'abs'));
    symlinkSync('../../../a', join(dir, 'dir/up'));
    symlinkSync('missing', join(dir, 'dangling'));
    const c = ctx();
    const [link] = await c.select(['link']);
    expect(link).toMatchObject({ path: 'link', root: { type: 'file', contextPath: 'a' } });
    const [abs] = await c.select(['abs']);
    expect(abs?.root.contextPath).toBe('a');
    const [dl] = await c.select(['dirlink']);
    expect(dl?.root.type).toBe('dir');
    expect(dl?.entries.map((e) => `${e.type}:${e.path}:${e.linkTarget ?? ''}`)).toEqual([
      'symlink:up:../../../a',
      'file:x:',
    ]);
    await expect(c.select(['dangling'])).rejects.toThrow('"/dangling": not found');
    const [kept] = await c.select(['link'], { followSymlinks: false });
    expect(kept?.root).toMatchObject({ type: 'symlink', linkTarget: 'a' });
  });

  it('a symlink cannot lead out of the context', async () => {
    tree({ 'inner/secret': 'in' });
    symlinkSync('../../../../etc', join(dir, 'out'));
    symlinkSync('/etc', join(dir, 'abs'));
    await expect(ctx().select(['out/passwd'])).rejects.toThrow('"/out/passwd": not found');
    await expect(ctx().select(['abs/passwd'])).rejects.toThrow('"/abs/passwd": not found');
    symlinkSync('../inner', join(dir, 'up'));
    expect((await ctx().select(['up/secret'])).map((s) => s.root.contextPath)).toEqual(['inner/secret']);
  });

  it('a symlink to an ignored file is not found, and an ignored symlink is not followed', async () => {
    tree({ secret: 's', pub: 'p' });
    symlinkSync('secret', join(dir, 'to-secret'));
    symlinkSync('pub', join(dir, 'hidden-link'));
    const c = ctx('secret\nhidden-link\n');
    await expect(c.select(['to-secret'])).rejects.toThrow(SourceNotFoundError);
    await expect(c.select(['hidden-link'])).rejects.toThrow(SourceNotFoundError);
  });

  it('a symlink loop is an error', async () => {
    symlinkSync('b', join(dir, 'a'));
    symlinkSync('a', join(dir, 'b'));
    await expect(ctx().select(['a'])).rejects.toThrow('too many levels of symbolic links');
  });

  it('--exclude drops paths below a directory source and wildcard matches', async () => {
    tree({ 'src/a.ts': 'a', 'src/a.test.ts': 't', 'src/sub/b.test.ts': 't', 'home.txt': 'h', 'homer.md': 'm' });
    expect(summary(await ctx().select(['src'], { exclude: ['**/*.test.ts'] }))).toEqual([
      { path: 'src', type: 'dir', entries: ['file:a.ts', 'dir:sub'] },
    ]);
    expect((await ctx().select(['hom*'], { exclude: ['*.txt'] })).map((s) => s.path)).toEqual(['homer.md']);
  });

  it('--parents keeps each match path, below an optional /./ pivot', async () => {
    tree({ 'a/package.json': '1', 'a/src/x': 'x', 'b/c/package.json': '2', 'package.json': '0' });
    const [all] = await ctx().select(['**/package.json'], { parents: true });
    expect(all?.parents).toBe(true);
    expect(all?.entries.map((e) => e.path)).toEqual([
      'a',
      'a/package.json',
      'b',
      'b/c',
      'b/c/package.json',
      'package.json',
    ]);
    const [pivot] = await ctx().select(['b/./c/package.json'], { parents: true });
    expect(pivot?.path).toBe('b');
    expect(pivot?.entries.map((e) => e.path)).toEqual(['c', 'c/package.json']);
    await expect(ctx().select(['nope/x'], { parents: true })).rejects.toThrow(SourceNotFoundError);
  });

  it('reports modes and marks hard links', async () => {
    tree({ 'd/run.sh': '#!/bin/sh\n', 'd/h1': 'h' });
    chmodSync(join(dir, 'd/run.sh'), 0o4755);
    const { linkSync } = await import('node:fs');
    linkSync(join(dir, 'd/h1'), join(dir, 'd/h2'));
    const [s] = await ctx().select(['d']);
    const byPath = new Map(s?.entries.map((e) => [e.path, e]));
    expect(byPath.get('run.sh')?.mode).toBe(0o4755);
    expect(byPath.get('h2')?.hardlinkOf).toBe('h1');
    expect(byPath.get('h1')?.hardlinkOf).toBeUndefined();
  });

  it('preserveOwnership reports the real owner', async () => {
    tree({ f: 'f' });
    const [s] = await selectSources(dir, ['f'], { preserveOwnership: true });
    expect(s?.root.uid).toBe(process.getuid?.() ?? 0);
  });

  it('an unreadable directory is TSB_CONTEXT_READ naming it; a file removed meanwhile is left out', async () => {
    tree({ 'd/a': 'a', 'd/b': 'b' });
    const failing: ContextFs = {
      ...nodeContextFs,
      readdir: (p) => {
        if (p.endsWith('/d')) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        return nodeContextFs.readdir(p);
      },
    };
    const err = await new BuildContext(dir, { fs: failing }).select(['d']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TSB_CONTEXT_READ', message: `cannot list ${join(dir, 'd')}: EIO` });
    const racing: ContextFs = {
      ...nodeContextFs,
      readdir: (p) => [...nodeContextFs.readdir(p), 'vanished'],
    };
    const [s] = await new BuildContext(dir, { fs: racing }).select(['d']);
    expect(s?.entries.map((e) => e.path)).toEqual(['a', 'b']);
  });

  it('lists only what the sources need', async () => {
    tree({ 'want/a': 'a', 'big/1': '1', 'big/2': '2', 'big/deeper/3': '3' });
    const listed: string[] = [];
    const fs: ContextFs = {
      ...nodeContextFs,
      readdir: (p) => {
        listed.push(p);
        return nodeContextFs.readdir(p);
      },
      readChunks: () => {
        throw new Error('selection must not read files');
      },
    };
    await new BuildContext(dir, { fs }).select(['want']);
    expect(listed).toEqual([join(dir, 'want')]);
  });
});
