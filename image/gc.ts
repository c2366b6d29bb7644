import { isOwnerAlive, pidAlive } from '../metadata/index.js';
import type { SnapshotInfo, Snapshotter } from '../snapshotter/index.js';
import type { Digest } from './digest.js';
import type { ImageStore } from './store/image-store.js';

export interface GcOptions {
  /** Also delete images without a name (`prune --all`). */
  all?: boolean;
  /** Collect snapshots too. */
  snapshotter?: Snapshotter;
}

export interface GcResult {
  /** IDs of the images deleted (`all` only). */
  images: Digest[];
  blobs: number;
  bytes: number;
  snapshots: number;
  /** Temporary entries of dead processes removed. */
  tmp: number;
}

/**
 * Removes what nothing refers to: blobs that no image record, no live lease and no
 * GC root (the build cache) names, and snapshots that are neither an image's chain
 * ID, nor leased, nor a root, nor an ancestor of one, nor owned by a live process. Also removes stale leases and
 * the temporary files of dead processes.
 *
 * Blob collection runs inside one IMMEDIATE transaction that lists blobs/ first:
 * a writer records its lease before it renames a blob into place, and cannot do
 * so while the collection holds the write lock, so a blob it is adding is never
 * taken.
 */
export async function collectGarbage(store: ImageStore, options: GcOptions = {}): Promise<GcResult> {
  store.leases.purgeStale();
  const images = options.all ? store.removeUntagged() : [];
  const tmp = store.content.cleanupTmp();
  const { blobs, bytes } = collectBlobs(store);
  let snapshots = 0;
  if (options.snapshotter) {
    await options.snapshotter.cleanup();
    snapshots = await collectSnapshots(store, options.snapshotter);
  }
  return { images, blobs, bytes, snapshots, tmp };
}

function collectBlobs(store: ImageStore): { blobs: number; bytes: number } {
  let blobs = 0;
  let bytes = 0;
  store.db
    .transaction(() => {
      const present = store.content.listSync();
      const keep = new Set(
        (store.db.prepare('SELECT DISTINCT digest FROM image_blobs').all() as { digest: string }[]).map(
          (r) => r.digest,
        ),
      );
      for (const d of store.leases.held('blob')) keep.add(d);
      for (const d of store.roots('blob')) keep.add(d);
      for (const d of present) {
        if (keep.has(d)) continue;
        bytes += store.content.removeSync(d);
        blobs++;
      }
    })
    .immediate();
  return { blobs, bytes };
}

async function collectSnapshots(store: ImageStore, sn: Snapshotter): Promise<number> {
  const infos: SnapshotInfo[] = [];
  await sn.walk((info) => {
    infos.push(info);
  });
  const byName = new Map(infos.map((i) => [i.name, i]));
  const keep = new Set(
    (store.db.prepare('SELECT DISTINCT chain_id FROM image_layers').all() as { chain_id: string }[]).map(
      (r) => r.chain_id,
    ),
  );
  for (const s of store.leases.held('snapshot')) keep.add(s);
  for (const s of store.roots('snapshot')) keep.add(s);
  for (const info of infos) if (ownedByLiveProcess(info)) keep.add(info.name);
  for (const name of [...keep]) {
    let parent = byName.get(name)?.parent;
    while (parent !== undefined && !keep.has(parent)) {
      keep.add(parent);
      parent = byName.get(parent)?.parent;
    }
  }
  const depth = (info: SnapshotInfo): number => {
    let d = 0;
    for (let p = info.parent; p !== undefined; p = byName.get(p)?.parent) d++;
    return d;
  };
  const garbage = infos.filter((i) => !keep.has(i.name)).sort((a, b) => depth(b) - depth(a));
  let removed = 0;
  for (const info of garbage) {
    try {
      await sn.remove(info.name);
      removed++;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'TSB_SNAPSHOT_IN_USE' && code !== 'TSB_SNAPSHOT_NOT_FOUND') throw err;
    }
  }
  return removed;
}

/** The snapshotter's owner labels (snapshotter's OWNER_PID_LABEL, OWNER_START_LABEL), read here without loading it. */
const OWNER_PID_LABEL = 'tsbuild.owner.pid';
const OWNER_START_LABEL = 'tsbuild.owner.start';

function ownedByLiveProcess(info: SnapshotInfo): boolean {
  const pid = Number(info.labels[OWNER_PID_LABEL]);
  const start = info.labels[OWNER_START_LABEL];
  if (start === undefined) return pidAlive(pid);
  return Number.isInteger(pid) && pid > 0 && isOwnerAlive({ pid, start });
}
