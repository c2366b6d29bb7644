import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inodeKey } from '../../../../builder/context/context-entry.js';
import { closeDatabases, openDatabase } from '../../../../metadata/index.js';
import {
  BuildContext,
  type ContextEntry,
  type ContextFs,
  hashContextSources,
  nodeContextFs,
  openStatCache,
  parseDockerignore,
  type StatRecord,
} from './helpers.js';

let dir: string;
let ctxDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-listing-'));
  ctxDir = join(dir, 'ctx');
  mkdirSync(ctxDir);
});
afterEach(() => {
  closeDatabases();
  rmSync(dir, { recursive: true, force: true });
});

/** The node file system through another object: the context then lists with readdirSync and lstatSync. */
const plainFs: ContextFs = { ...nodeContextFs };

/** Lets freshly written files age past a clock skew, so that a zero racy window trusts them. */
const age = () => new Promise((r) => setTimeout(r, 20));

function manyFiles(n: number): void {
  for (let i = 0; i < n; i++) {
    const d = join(ctxDir, 'data', `d${Math.floor(i / 10)}`);
    if (i % 10 === 0) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}`), `content ${i}\n`);
  }
}

describe('directory listings with stat data', () => {
  it('the default file system and readdir plus lstat select the same entries', async () => {
    for (const name of ['a', 'a b', 'B', 'é', 'z', '😀', 'ｚ', 'a-', 'a.b']) writeFileSync(join(ctxDir, name), name);
    mkdirSync(join(ctxDir, 'sub/deeper'), { recursive: true });
    writeFileSync(join(ctxDir, 'sub/deeper/f'), 'f');
    symlinkSync('../a', join(ctxDir, 'sub/link'));
    linkSync(join(ctxDir, 'a'), join(ctxDir, 'sub/hard'));
    execFileSync('mkfifo', [join(ctxDir, 'sub/fifo')]);
    for (const sources of [['.'], ['sub'], ['*'], ['s*/d*']]) {
      const native = await new BuildContext(ctxDir, { preserveOwnership: true }).select(sources);
      const plain = await new BuildContext(ctxDir, { fs: plainFs, preserveOwnership: true }).select(sources);
      expect(native).toEqual(plain);
    }
    const all = await new BuildContext(ctxDir).select(['.']);
    expect(all[0]?.entries.map((e) => e.path)).toEqual([
      'B',
      'a',
      'a b',
      'a-',
      'a.b',
      'sub',
      'sub/deeper',
      'sub/deeper/f',
      'sub/fifo',
      'sub/hard',
      'sub/link',
      'z',
      'é',
      'ｚ',
      '😀',
    ]);
    const hard = all[0]?.entries.find((e) => e.path === 'sub/hard');
    expect(hard?.hardlinkOf).toBe('a');
  });

  it('a name that is not valid UTF-8 is left out either way', async () => {
    writeFileSync(join(ctxDir, 'ok'), 'ok');
    writeFileSync(Buffer.concat([Buffer.from(`${ctxDir}/bad`), Buffer.from([0xff])]), 'bad');
    for (const fs of [nodeContextFs, plainFs]) {
      const sel = await new BuildContext(ctxDir, { fs }).select(['.']);
      expect(sel[0]?.entries.map((e) => e.path)).toEqual(['ok']);
    }
  });

  it('filters apply the same with either listing', async () => {
    manyFiles(40);
    writeFileSync(join(ctxDir, 'data/d1/keep.txt'), 'k');
    const ignore = parseDockerignore('data/d2\ndata/**/f1*\n!data/d1/f15\n').matcher;
    const pick = async (fs: ContextFs) =>
      (await new BuildContext(ctxDir, { fs, ignore }).select(['data'], { exclude: ['*/f3*'] }))[0]?.entries;
    const native = await pick(nodeContextFs);
    expect(native).toEqual(await pick(plainFs));
    const paths = native?.map((e) => e.path);
    expect(paths).toContain('d1/f15');
    expect(paths).toContain('d0/f2');
    expect(paths).not.toContain('d1/f11');
    expect(paths).not.toContain('d0/f1');
    expect(paths).not.toContain('d0/f3');
    expect(native?.some((e) => e.path.startsWith('d2'))).toBe(false);
    expect(native?.some((e) => e.path.startsWith('d3/'))).toBe(false);
  });
});

describe('hard link identity', () => {
  const entry = (dev: number, ino: number) => ({ dev, ino, absPath: '/x' }) as ContextEntry;

  it('uses the numbers when they are exact', () => {
    expect(inodeKey(entry(2049, 1234), () => ({ dev: 0n, ino: 0n }))).toBe('2049:1234');
  });

  it('asks for BigInt stat data when an inode number is above 2^53', () => {
    const paths: string[] = [];
    const key = inodeKey(entry(2049, 2 ** 60), (p) => {
      paths.push(p);
      return { dev: 2049n, ino: 2n ** 60n + 1n };
    });
    expect(key).toBe('2049:1152921504606846977');
    expect(paths).toEqual(['/x']);
  });
});

describe('the packed stat cache', () => {
  it('keeps one record set per context, rewritten in place when a file changes', async () => {
    manyFiles(30);
    await age();
    const root = join(dir, 'store');
    const run = async () => {
      const r = await hashContextSources(new BuildContext(ctxDir), ['data'], {
        statCache: openStatCache(root),
        racyWindowMs: 0,
      });
      closeDatabases();
      return r;
    };
    const cold = await run();
    expect(cold).toMatchObject({ files: 30, filesRead: 30 });
    expect(await run()).toMatchObject({ filesRead: 0, cacheHits: 30, digest: cold.digest });
    writeFileSync(join(ctxDir, 'data/d1/f15'), 'changed');
    writeFileSync(join(ctxDir, 'data/d2/new'), 'new');
    await age();
    const changed = await run();
    expect(changed).toMatchObject({ files: 31, filesRead: 2, cacheHits: 29 });
    expect(await run()).toMatchObject({ filesRead: 0, cacheHits: 31, digest: changed.digest });
    const rows = openDatabase(join(root, 'tsbuild.db')).prepare('SELECT dir, version FROM context_stat_sets').all();
    expect(rows).toEqual([{ dir: ctxDir, version: 2 }]);
  });

  it('keeps what another writer stored since the set was read', () => {
    const root = join(dir, 'store');
    const record = (name: string, digit: string): StatRecord => ({
      absPath: join(ctxDir, name),
      dev: 1,
      ino: name.length,
      size: 1,
      mtimeNs: 1e18,
      ctimeNs: 1e18,
      digest: `sha256:${digit.repeat(64)}`,
      hashedAtNs: 2e18,
    });
    const a = openStatCache(root);
    const b = openStatCache(root);
    a.preload?.(ctxDir);
    b.preload?.(ctxDir);
    b.put([record('from-b', 'b')]);
    b.flush();
    a.put([record('from-a', 'a')]);
    a.flush();
    closeDatabases();
    const c = openStatCache(root);
    c.preload?.(ctxDir);
    expect(c.get(record('from-a', 'a'))?.digest).toBe(`sha256:${'a'.repeat(64)}`);
    expect(c.get(record('from-b', 'b'))?.digest).toBe(`sha256:${'b'.repeat(64)}`);
    expect(c.get({ ...record('from-b', 'b'), size: 2 })).toBeUndefined();
    // Without a preload, a record is found through the nearest directory with a set.
    const d = openStatCache(root);
    expect(d.get(record('from-a', 'a'))?.hashedAtNs).toBe(2e18);
  });
});
