import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  type Stats,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { exec } from './_fs.js';
import { asStore } from './_store.js';
import { SnapshotError, throwIfAborted } from './errors.js';
import { fsOps } from './native.js';
import { ownerLabels } from './snapshot-store.js';
import { keepXattr } from './tree-writer.js';
import type { Snapshotter } from './types.js';

export interface SquashOptions {
  /** Committed snapshots, bottom to top, each the parent of the next; the first sits on `base`. */
  names: string[];
  /** The committed snapshot the squashed layer sits on; absent to squash all layers. */
  base?: string;
  /** The committed snapshot to make. */
  name: string;
  signal?: AbortSignal;
}

const S_IFCHR = 0o020000;
const O_PATH = 0o10000000;
const OPAQUE = 'trusted.overlay.opaque';

/**
 * Merges a range of layers into one committed snapshot on `base`, with
 * whiteouts resolved: the result looks as if the diffs were applied in order
 * (BuildKit's merge definition). Whiteouts and opaque dirs remain only where
 * they hide something in `base`. Idempotent when `name` exists.
 */
export async function squash(sn: Snapshotter, o: SquashOptions): Promise<void> {
  const store = asStore(sn);
  if (!o.names.length) throw new SnapshotError('TSB_SNAPSHOT_INVALID', 'squash needs at least one snapshot');
  let expected = o.base;
  for (const n of o.names) {
    const info = await sn.stat(n);
    if (info.kind !== 'committed') throw new SnapshotError('TSB_SNAPSHOT_INVALID', `snapshot ${n} is not committed`);
    if (info.parent !== expected) {
      throw new SnapshotError(
        'TSB_SNAPSHOT_INVALID',
        `snapshot ${n} sits on ${info.parent ?? 'nothing'}, not on ${expected ?? 'nothing'}: squash needs a chain`,
      );
    }
    expected = n;
  }
  const existing = await sn.stat(o.name).catch(() => undefined);
  if (existing?.kind === 'committed') return;

  const key = `squash-${randomUUID()}`;
  await sn.prepare(key, o.base, { labels: ownerLabels() });
  try {
    const paths = store.paths(key);
    const top = store.paths(o.names[o.names.length - 1] as string);
    if (store.driver === 'naive') {
      for (const e of readdirSync(paths.fs)) rmSync(join(paths.fs, e), { recursive: true, force: true });
      await exec('cp', ['-a', '--', `${top.fs}/.`, paths.fs]);
    } else {
      const merger = new Merger(paths.fs, paths.lowers, o.signal);
      for (const n of o.names) merger.merge(store.paths(n).fs, '');
    }
    throwIfAborted(o.signal);
    try {
      store.commitSync(o.name, key);
    } catch (err) {
      if (!(err instanceof SnapshotError && err.code === 'TSB_SNAPSHOT_EXISTS')) throw err;
      await sn.remove(key).catch(() => undefined);
    }
  } catch (err) {
    await sn.remove(key).catch(() => undefined);
    throw err;
  }
}

const isWhiteout = (st: Stats | undefined) => !!st && st.isCharacterDevice() && st.rdev === 0;

/** Applies overlay upper dirs (layers) onto one upper dir, in order. */
class Merger {
  private readonly ops = fsOps();

  constructor(
    private readonly upper: string,
    private readonly baseLowers: string[],
    private readonly signal?: AbortSignal,
  ) {}

  private opaque(p: string): boolean {
    return this.ops.getXattr(p, OPAQUE)?.toString() === 'y';
  }

  /** Whether `rel` is visible in the base (the lowers under the squashed range). */
  private inBase(rel: string): boolean {
    const comps = rel.split('/');
    let layers = this.baseLowers;
    for (let i = 0; i < comps.length; i++) {
      const prefix = comps.slice(0, i + 1).join('/');
      const last = i === comps.length - 1;
      const next: string[] = [];
      for (const l of layers) {
        const st = lstatSync(join(l, prefix), { throwIfNoEntry: false });
        if (!st) continue;
        if (isWhiteout(st)) break;
        if (last) return true;
        if (!st.isDirectory()) break;
        next.push(l);
        if (this.opaque(join(l, prefix))) break;
      }
      if (!next.length) return false;
      layers = next;
    }
    return false;
  }

  merge(layer: string, rel: string, links = new Map<string, string>()): void {
    throwIfAborted(this.signal);
    const dir = rel ? join(layer, rel) : layer;
    for (const name of readdirSync(dir)) {
      const r = rel ? `${rel}/${name}` : name;
      const src = join(layer, r);
      const dst = join(this.upper, r);
      const st = lstatSync(src);
      const cur = lstatSync(dst, { throwIfNoEntry: false });
      if (isWhiteout(st)) {
        if (cur) rmSync(dst, { recursive: true, force: true });
        if (this.inBase(r)) this.ops.mknod(dst, S_IFCHR, 0, 0);
        continue;
      }
      if (st.isDirectory()) {
        const opaque = this.opaque(src);
        if (cur && (opaque || !cur.isDirectory())) rmSync(dst, { recursive: true, force: true });
        if (!cur || opaque || !cur.isDirectory()) {
          mkdirSync(dst, { mode: 0o700 });
          // Over a whiteout, or opaque in its layer: lower content must stay hidden.
          if ((opaque || isWhiteout(cur)) && this.inBase(r)) this.ops.setXattr(dst, OPAQUE, Buffer.from('y'));
        }
        this.merge(layer, r, links);
        this.copyMeta(src, dst, st);
        continue;
      }
      if (cur) rmSync(dst, { recursive: true, force: true });
      const id = `${st.dev}:${st.ino}`;
      const linked = st.nlink > 1 ? links.get(id) : undefined;
      if (linked && lstatSync(linked, { throwIfNoEntry: false })) {
        linkSync(linked, dst);
        continue;
      }
      if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
      else if (st.isFile()) copyFileSync(src, dst, constants.COPYFILE_FICLONE);
      else {
        const type = st.mode & 0o170000;
        this.ops.mknod(dst, type | (st.mode & 0o7777), Math.floor(st.rdev / 256) & 0xfff, st.rdev & 0xff);
      }
      if (st.nlink > 1) links.set(id, dst);
      this.copyMeta(src, dst, st);
    }
  }

  private copyMeta(src: string, dst: string, st: Stats): void {
    lchownSync(dst, st.uid, st.gid);
    if (!st.isSymbolicLink()) {
      // chmod through an O_PATH fd: never follows a symlink, never opens a fifo or device.
      const fd = openSync(dst, O_PATH | constants.O_NOFOLLOW);
      try {
        chmodSync(`/proc/self/fd/${fd}`, st.mode & 0o7777);
      } finally {
        closeSync(fd);
      }
    }
    for (const name of this.ops.listXattrs(src)) {
      if (!keepXattr(name)) continue;
      const v = this.ops.getXattr(src, name);
      if (v) this.ops.setXattr(dst, name, v);
    }
    lutimesSync(dst, st.atime, st.mtime);
  }
}
