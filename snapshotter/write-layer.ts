import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { asStore } from './_store.js';
import { type Compression, finishOutput, LayerSink } from './compression.js';
import { SnapshotError } from './errors.js';
import { fsOps } from './native.js';
import { END_OF_ARCHIVE } from './tar/header.js';
import { sortedNames, TreeWriter, whiteoutHeader } from './tree-writer.js';
import type { Snapshotter } from './types.js';

export interface WriteLayerOptions {
  compression?: Compression;
  /** gzip level (default 6). */
  level?: number;
  signal?: AbortSignal;
}

/**
 * The diff of snapshot `key` (active or committed) against its parent, as an OCI layer written to
 * `out` (which is ended). Overlay: the upper dir is walked and its whiteouts (char
 * 0/0) and opaque dirs become `.wh.<name>` and `.wh..wh..opq`. Naive: the tree is
 * compared with the parent's (mode, owner, size, mtime in ns, link target, xattrs).
 * `empty` is true when nothing changed (the tar then holds only its end marker).
 */
export async function writeLayer(
  sn: Snapshotter,
  key: string,
  out: Writable,
  o: WriteLayerOptions = {},
): Promise<{ diffId: string; digest: string; size: number; empty: boolean }> {
  const store = asStore(sn);
  const paths = store.paths(key);
  if (paths.kind === 'view') {
    throw new SnapshotError(
      'TSB_SNAPSHOT_INVALID',
      `snapshot ${key} is a view: only active and committed snapshots have a diff`,
    );
  }
  const sink = new LayerSink(out, o.compression ?? 'gzip', o.level, o.signal);
  const writer = new TreeWriter(sink, o.signal);
  try {
    if (store.driver === 'overlay') await writeUpper(writer, paths.fs, '');
    else if (paths.lowers[0]) await writeChanges(writer, paths.fs, paths.lowers[0]);
    else await writer.addTree(paths.fs);
    await sink.write(END_OF_ARCHIVE);
  } catch (err) {
    sink.dispose();
    throw err;
  }
  const result = await sink.end();
  await finishOutput(out);
  return { ...result, empty: writer.empty };
}

function isOpaque(path: string): boolean {
  const ops = fsOps();
  const v = ops.getXattr(path, 'trusted.overlay.opaque') ?? ops.getXattr(path, 'user.overlay.opaque');
  return v?.toString() === 'y';
}

/** An overlay upper dir, entry by entry, whiteouts converted to the OCI form. */
export async function writeUpper(writer: TreeWriter, dir: string, prefix: string): Promise<void> {
  for (const name of sortedNames(dir)) {
    const path = join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(path);
    if (st.isCharacterDevice() && st.rdev === 0) {
      await writer.add(whiteoutHeader(rel, { uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) }));
      continue;
    }
    const h = writer.header(path, rel, st);
    if (!h) continue;
    await writer.add(h, path);
    if (st.isDirectory()) {
      if (isOpaque(path)) {
        await writer.add({
          ...whiteoutHeader(`${rel}/.wh..opq`, h),
          name: `${rel}/.wh..wh..opq`,
          mode: h.mode & 0o777,
        });
      }
      await writeUpper(writer, path, rel);
    }
  }
}

type NsStats = Stats & { mtimeNs: bigint };

function sameEntry(a: NsStats, b: NsStats, pathA: string, pathB: string): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.mtimeNs !== b.mtimeNs) return false;
  if (!a.isDirectory() && a.size !== b.size) return false;
  if ((a.isCharacterDevice() || a.isBlockDevice()) && a.rdev !== b.rdev) return false;
  const ops = fsOps();
  const xa = ops.listXattrs(pathA).sort();
  const xb = ops.listXattrs(pathB).sort();
  if (xa.join('\0') !== xb.join('\0')) return false;
  for (const n of xa) {
    const va = ops.getXattr(pathA, n);
    const vb = ops.getXattr(pathB, n);
    if (!va || !vb || !va.equals(vb)) return false;
  }
  return true;
}

function nsStat(p: string): NsStats | undefined {
  const big = lstatSync(p, { bigint: true, throwIfNoEntry: false });
  if (!big) return undefined;
  const st = lstatSync(p) as NsStats;
  st.mtimeNs = big.mtimeNs;
  return st;
}

/**
 * A naive snapshot against its parent: changed and new entries, whiteouts for
 * deleted ones; the parent directories of a change are written before it.
 */
async function writeChanges(writer: TreeWriter, upper: string, lower: string): Promise<void> {
  const pending: { path: string; rel: string; st: Stats }[] = [];
  const flushParents = async () => {
    for (const p of pending) {
      const h = writer.header(p.path, p.rel, p.st);
      if (h) await writer.add(h, p.path);
    }
    pending.length = 0;
  };
  const emit = async (path: string, rel: string, st: Stats, subtree: boolean) => {
    await flushParents();
    const h = writer.header(path, rel, st);
    if (!h) return;
    await writer.add(h, path);
    if (subtree && st.isDirectory()) await writer.addTree(path, rel);
  };
  const walk = async (rel: string): Promise<void> => {
    const up = rel ? join(upper, rel) : upper;
    const names = new Set([...sortedNames(up), ...safeNames(rel ? join(lower, rel) : lower)]);
    const dirStat = lstatSync(up);
    for (const name of [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const r = rel ? `${rel}/${name}` : name;
      const pu = join(upper, r);
      const pl = join(lower, r);
      const su = nsStat(pu);
      const sl = nsStat(pl);
      if (!su) {
        await flushParents();
        const mtime = Math.floor(dirStat.mtimeMs / 1000);
        await writer.add(whiteoutHeader(r, { uid: dirStat.uid, gid: dirStat.gid, mtime }));
      } else if (!sl || (su.mode & 0o170000) !== (sl.mode & 0o170000)) {
        await emit(pu, r, su, true);
      } else if (su.isDirectory()) {
        if (!sameEntry(su, sl, pu, pl)) {
          await emit(pu, r, su, false);
          await walk(r);
        } else {
          pending.push({ path: pu, rel: r, st: su });
          const depth = pending.length;
          await walk(r);
          if (pending.length >= depth) pending.length = depth - 1;
        }
      } else if (!sameEntry(su, sl, pu, pl)) {
        await emit(pu, r, su, false);
      }
    }
  };
  await walk('');
}

function safeNames(dir: string): string[] {
  try {
    return sortedNames(dir);
  } catch {
    return [];
  }
}
