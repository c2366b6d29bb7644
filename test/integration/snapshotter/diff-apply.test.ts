import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabases } from '../../../metadata/index.js';
import {
  applyLayer,
  exportFlattened,
  mountAll,
  openSnapshotter,
  type Snapshotter,
  squash,
  unmountAll,
  writeLayer,
} from '../../../snapshotter/index.js';
import { fsOps } from '../../../snapshotter/native.js';
import type { SnapshotStore } from '../../../snapshotter/snapshot-store.js';
import { requireRoot } from '../../helpers/prereqs.js';
import { makeTar, stream, tempDir } from '../../unit/snapshotter/helpers.js';
import { describeTree } from './tree.js';

beforeAll(() => requireRoot());

const BASE = makeTar([
  { name: 'etc', type: 'dir' },
  { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
  { name: 'data', type: 'dir' },
  { name: 'data/a', data: 'a' },
  { name: 'data/b', data: 'b', uid: 1000, gid: 1000, mode: 0o600 },
  { name: 'keep', data: 'k' },
  { name: 'rename-me', data: 'r' },
  { name: 'tree', type: 'dir' },
  { name: 'tree/deep', type: 'dir' },
  { name: 'tree/deep/leaf', data: 'l' },
]);

const tarList = (file: string) =>
  execFileSync('tar', ['-tvzf', file, '--numeric-owner'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.split(/\s+/);
      return `${f[0]} ${f[1]} ${f.slice(5).join(' ')}`;
    });

describe('layer diff and apply with real overlay mounts', () => {
  let root: string;
  let remove: () => void;
  let sn: Snapshotter;
  let mnt: string;

  beforeEach(async () => {
    ({ dir: root, remove } = tempDir());
    sn = await openSnapshotter(join(root, 'store'), { driver: 'overlay' });
    mnt = join(root, 'mnt');
    mkdirSync(mnt);
  });
  afterEach(async () => {
    await unmountAll(root);
    closeDatabases();
    remove();
  });

  async function changeAll(): Promise<string[]> {
    await applyLayer(sn, { name: 'base', layer: stream(BASE) });
    await mountAll(await sn.prepare('work', 'base'), mnt);
    writeFileSync(join(mnt, 'new.txt'), 'hello');
    appendFileSync(join(mnt, 'etc/passwd'), 'user:x:1000:1000::/home/user:/bin/sh\n');
    unlinkSync(join(mnt, 'keep'));
    renameSync(join(mnt, 'rename-me'), join(mnt, 'renamed'));
    rmSync(join(mnt, 'data'), { recursive: true });
    mkdirSync(join(mnt, 'data'));
    writeFileSync(join(mnt, 'data/c'), 'c');
    rmSync(join(mnt, 'tree/deep'), { recursive: true });
    fsOps().setXattr(join(mnt, 'new.txt'), 'user.note', Buffer.from('v'));
    writeFileSync(join(mnt, 'ping'), 'binary');
    fsOps().setXattr(
      join(mnt, 'ping'),
      'security.capability',
      Buffer.from('0100000200200000000000000000000000000000', 'hex'),
    );
    linkSync(join(mnt, 'new.txt'), join(mnt, 'new-link'));
    symlinkSync('new.txt', join(mnt, 'sym'));
    execFileSync('mkfifo', [join(mnt, 'pipe')]);
    execFileSync('mknod', [join(mnt, 'null'), 'c', '1', '3']);
    const merged = describeTree(mnt);
    await unmountAll(mnt);
    return merged;
  }

  /** A merged tree as a layer or export carries it: no user.note (only security.capability is written). */
  const withoutUserXattr = (tree: string[]) => tree.map((line) => line.replace('user.note=76', ''));

  it('writes the overlay upper dir as an OCI layer with whiteouts, opaque dirs, links and devices', async () => {
    await changeAll();
    const file = join(root, 'layer.tar.gz');
    const r = await writeLayer(sn, 'work', createWriteStream(file));
    expect(r.empty).toBe(false);
    expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const listing = tarList(file);
    // Whiteouts sit where the deleted entry sorts, as Docker's and containerd's upper-dir walks put them.
    expect(listing).toEqual([
      'drwxr-xr-x 0/0 data/',
      '-rwxr-xr-x 0/0 data/.wh..wh..opq',
      '-rw-r--r-- 0/0 data/c',
      'drwxr-xr-x 0/0 etc/',
      '-rw-r--r-- 0/0 etc/passwd',
      '-rw------- 0/0 .wh.keep',
      '-rw-r--r-- 0/0 new-link',
      'hrw-r--r-- 0/0 new.txt link to new-link',
      'crw-r--r-- 0/0 null',
      '-rw-r--r-- 0/0 ping',
      'prw-r--r-- 0/0 pipe',
      '-rw------- 0/0 .wh.rename-me',
      '-rw-r--r-- 0/0 renamed',
      'lrwxrwxrwx 0/0 sym -> new.txt',
      'drwxr-xr-x 0/0 tree/',
      '-rw------- 0/0 tree/.wh.deep',
    ]);
    const verbose = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-tvvzf', file], { encoding: 'utf8' });
    // Layers carry security.capability and no other xattr, as Docker's and containerd's layer writers.
    expect(verbose).toMatch(/security\.capability/);
    expect(verbose).not.toMatch(/user\.note/);
  });

  it('round-trips a layer into both drivers with the same merged tree', async () => {
    const merged = await changeAll();
    const file = join(root, 'layer.tar.gz');
    const written = await writeLayer(sn, 'work', createWriteStream(file));
    for (const driver of ['overlay', 'naive'] as const) {
      const other = await openSnapshotter(join(root, `store-${driver}`), { driver });
      await applyLayer(other, { name: 'base', layer: stream(BASE) });
      const applied = await applyLayer(other, { name: 'top', parent: 'base', layer: createReadStream(file) });
      expect(applied.diffId).toBe(written.diffId);
      const target = join(root, `view-${driver}`);
      mkdirSync(target);
      await mountAll(await other.view('v', 'top'), target);
      expect(describeTree(target)).toEqual(withoutUserXattr(merged));
      await unmountAll(target);
    }
  });

  it('a naive snapshot diffs against its parent like the overlay upper dir', async () => {
    const naive = await openSnapshotter(join(root, 'store-naive'), { driver: 'naive' });
    await applyLayer(naive, { name: 'base', layer: stream(BASE) });
    const m = await naive.prepare('work', 'base');
    const d = m[0]?.source as string;
    writeFileSync(join(d, 'new.txt'), 'hello');
    unlinkSync(join(d, 'keep'));
    rmSync(join(d, 'tree/deep'), { recursive: true });
    appendFileSync(join(d, 'etc/passwd'), 'x\n');
    const file = join(root, 'naive.tar');
    const r = await writeLayer(naive, 'work', createWriteStream(file), { compression: 'none' });
    expect(r.diffId).toBe(r.digest);
    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual(['etc/', 'etc/passwd', '.wh.keep', 'new.txt', 'tree/', 'tree/.wh.deep']);
    const unchanged = await naive.prepare('same', 'base');
    expect(unchanged.length).toBe(1);
    const empty = await writeLayer(naive, 'same', createWriteStream(join(root, 'empty.tar')), { compression: 'none' });
    expect(empty.empty).toBe(true);
  });

  it('squashes a range above a base and all layers, with whiteouts resolved', async () => {
    const merged = await changeAll();
    await sn.commit('l1', 'work');
    await mountAll(await sn.prepare('work2', 'l1'), mnt);
    rmSync(join(mnt, 'new.txt'));
    rmSync(join(mnt, 'data'), { recursive: true });
    writeFileSync(join(mnt, 'keep'), 'back');
    const top = describeTree(mnt);
    await unmountAll(mnt);
    await sn.commit('l2', 'work2');
    expect(top).not.toEqual(merged);

    await squash(sn, { base: 'base', names: ['l1', 'l2'], name: 'sq' });
    await mountAll(await sn.view('v1', 'sq'), mnt);
    expect(describeTree(mnt)).toEqual(top);
    await unmountAll(mnt);
    const upper = upperOf(sn, 'sq');
    // data was whited out above base and never recreated: one whiteout against base remains.
    expect(execFileSync('ls', ['-la', upper], { encoding: 'utf8' })).toMatch(/^c.* data$/m);
    expect(existsSync(join(upper, 'new.txt'))).toBe(false);

    await squash(sn, { names: ['base', 'l1', 'l2'], name: 'all' });
    await mountAll(await sn.view('v2', 'all'), mnt);
    expect(describeTree(mnt)).toEqual(top);
    await unmountAll(mnt);
    const allUpper = upperOf(sn, 'all');
    expect(execFileSync('find', [allUpper, '-type', 'c'], { encoding: 'utf8' })).not.toMatch(/data|new\.txt/);
    expect(readFileSync(join(allUpper, 'keep'), 'utf8')).toBe('back');
  });

  it('exports the merged rootfs of a chain as a plain tar', async () => {
    const merged = await changeAll();
    await sn.commit('l1', 'work');
    const file = join(root, 'export.tar');
    await exportFlattened(sn, 'l1', createWriteStream(file));
    const out = join(root, 'out');
    mkdirSync(out);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-xpf', file, '-C', out, '--numeric-owner']);
    expect(describeTree(out)).toEqual(withoutUserXattr(merged));
    expect(readdirSync(join(root, 'store', 'tmp', 'snapshots'))).toEqual([]);
  });
});

function upperOf(sn: Snapshotter, name: string): string {
  return (sn as SnapshotStore).paths(name).fs;
}
