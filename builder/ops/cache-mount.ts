import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Database, Schema } from '../../metadata/index.js';
import { currentOwner, isOwnerAlive, migrate, ownerToken, parseOwnerToken } from '../../metadata/index.js';
import { BuildError } from '../errors.js';

/** Cache directories being made (then renamed into place) start with this. */
const TMP_PREFIX = '.tmp-';

/**
 * Who holds which cache mount directory right now, for every process sharing
 * the store: one row per RUN that has a cache mount, removed when the step
 * ends. A row whose process is gone (kill -9) no longer counts and is removed
 * by the next acquisition.
 */
const cacheMountSchema: Schema = {
  module: 'builder-cache-mounts',
  migrations: [
    `CREATE TABLE cache_mount_holders (
       holder TEXT PRIMARY KEY,
       cache TEXT NOT NULL,
       instance INTEGER NOT NULL,
       exclusive INTEGER NOT NULL,
       pid INTEGER NOT NULL,
       start TEXT NOT NULL
     );
     CREATE INDEX cache_mount_holders_cache ON cache_mount_holders(cache);`,
  ],
};

export type CacheSharing = 'shared' | 'private' | 'locked';

export interface CacheMountRequest {
  /** The mount's `id` (its target when none was given). */
  id: string;
  sharing: CacheSharing;
  /** Mode and owner of a directory made now (an existing one keeps its own). */
  mode: number;
  uid: number;
  gid: number;
  /**
   * `from=`/`source=`: a new cache starts as a copy of this directory (its
   * mode and owner too), and the cache is a different one for each base, as
   * BuildKit keys a based cache by its base. `key` names the base's content.
   */
  base?: { key: string; dir: string };
}

export interface CacheMountLease {
  /** The directory to mount. */
  dir: string;
  /** 0 for the cache's main directory; higher for the extra ones concurrent users made. */
  instance: number;
  /** Gives the directory back (idempotent). */
  release(): void;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** How often to look again while another process holds a locked cache. Default 100 ms (BuildKit's). */
  pollMs?: number;
}

/** The directory name of a cache (its id, and its base when it has one) under `cache/mounts/`. */
export function cacheDirName(id: string, baseKey?: string): string {
  return createHash('sha256')
    .update(baseKey === undefined ? id : `${id}\0${baseKey}`)
    .digest('hex')
    .slice(0, 32);
}

/** Where instance `n` of a cache lives: the main directory, or `<name>.<n>` beside it. */
export function cacheInstanceDir(mountsDir: string, name: string, n: number): string {
  return join(mountsDir, n === 0 ? name : `${name}.${n}`);
}

interface HolderRow {
  holder: string;
  instance: number;
  exclusive: number;
  pid: number;
  start: string;
}

const migrated = new WeakSet<Database>();
/** Wakes the waiters of this process when a holder of this process lets go. */
const waiters = new Set<() => void>();

/**
 * Takes a cache mount directory as BuildKit's `sharing` says, counting every
 * holder in every process that uses the store:
 *
 * - `shared`: joins the directory that other shared users hold; else takes a
 *   free one; if every directory is held exclusively, makes a new one;
 * - `private`: takes a directory nobody holds, or makes a new one, and keeps
 *   it to itself;
 * - `locked`: takes a directory nobody holds, and keeps it to itself; if all
 *   are held, waits until one is given back (a new one is made only when the
 *   cache has none yet).
 *
 * Directories made for concurrent users stay and serve later builds; the
 * lowest free one is preferred, so a build without concurrency always gets
 * the main directory. Waiting ends with `TSB_BUILD_CANCELED` when `signal`
 * fires.
 */
export async function acquireCacheMount(
  db: Database,
  mountsDir: string,
  req: CacheMountRequest,
  options: AcquireOptions = {},
): Promise<CacheMountLease> {
  if (!migrated.has(db)) {
    migrate(db, cacheMountSchema);
    migrated.add(db);
  }
  const name = cacheDirName(req.id, req.base?.key);
  const holder = randomBytes(12).toString('hex');
  const owner = currentOwner();
  const attempt = db.transaction((): number | undefined => {
    const rows = db
      .prepare('SELECT holder, instance, exclusive, pid, start FROM cache_mount_holders WHERE cache = ?')
      .all(name) as HolderRow[];
    const shared = new Map<number, number>();
    const exclusive = new Set<number>();
    for (const r of rows) {
      if (!isOwnerAlive({ pid: r.pid, start: r.start })) {
        db.prepare('DELETE FROM cache_mount_holders WHERE holder = ?').run(r.holder);
        continue;
      }
      if (r.exclusive) exclusive.add(r.instance);
      else shared.set(r.instance, (shared.get(r.instance) ?? 0) + 1);
    }
    let count = 0;
    while (existsSync(cacheInstanceDir(mountsDir, name, count))) count++;
    let free: number | undefined;
    for (let i = 0; i < count && free === undefined; i++) if (!exclusive.has(i) && !shared.has(i)) free = i;
    let instance: number | undefined;
    if (req.sharing === 'shared') {
      const joined = [...shared.keys()].sort((a, b) => a - b)[0];
      instance = joined ?? free ?? count;
    } else if (req.sharing === 'private') instance = free ?? count;
    else instance = free ?? (count === 0 ? 0 : undefined);
    if (instance === undefined) return undefined;
    if (instance === count) makeInstance(cacheInstanceDir(mountsDir, name, instance), req);
    db.prepare(
      'INSERT INTO cache_mount_holders (holder, cache, instance, exclusive, pid, start) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(holder, name, instance, req.sharing === 'shared' ? 0 : 1, owner.pid, owner.start);
    return instance;
  });
  for (;;) {
    if (options.signal?.aborted) {
      throw new BuildError('TSB_BUILD_CANCELED', 'canceled', { cause: options.signal.reason });
    }
    const instance = attempt.immediate();
    if (instance !== undefined) {
      let held = true;
      return {
        dir: cacheInstanceDir(mountsDir, name, instance),
        instance,
        release: () => {
          if (!held) return;
          held = false;
          if (db.open) db.prepare('DELETE FROM cache_mount_holders WHERE holder = ?').run(holder);
          for (const wake of [...waiters]) wake();
        },
      };
    }
    await waitForRelease(options.pollMs ?? 100, options.signal);
  }
}

/** Resolves when a holder of this process lets go, after `ms` (for other processes), or when `signal` fires. */
function waitForRelease(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiters.delete(done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    waiters.add(done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Makes a cache directory with its mode and owner, set once: its content persists
 * across builds. It is made under a temporary name and renamed into place, so a
 * crash never leaves a cache with the wrong owner; temporary directories of dead
 * processes are removed here.
 */
function makeInstance(dir: string, req: CacheMountRequest): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  for (const entry of readdirSync(parent)) {
    const owner = entry.startsWith(TMP_PREFIX)
      ? parseOwnerToken(entry.slice(TMP_PREFIX.length).split('-')[0] ?? '')
      : undefined;
    if (owner && !isOwnerAlive(owner)) rmSync(join(parent, entry), { recursive: true, force: true });
  }
  const tmp = join(parent, `${TMP_PREFIX}${ownerToken()}-${randomBytes(6).toString('hex')}`);
  try {
    if (req.base) {
      seed(tmp, req.base.dir);
    } else {
      mkdirSync(tmp, { mode: req.mode });
      chmodSync(tmp, req.mode);
      chownSync(tmp, req.uid, req.gid);
    }
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return;
    throw new BuildError(
      'TSB_BUILD_CACHE_MOUNT',
      req.base
        ? `cache mount ${JSON.stringify(req.id)}: cannot make it from its base: ${(err as Error).message}`
        : `cache mount ${JSON.stringify(req.id)}: cannot make its directory with mode ${req.mode.toString(8)} and owner ${req.uid}:${req.gid}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** A copy of `source` (a directory of a mounted stage or image) at `dir`: content, modes, owners, links, xattrs, times. */
function seed(dir: string, source: string): void {
  const st = statSync(source);
  if (!st.isDirectory()) throw new Error(`its source ${source} is not a directory`);
  mkdirSync(dir);
  const cp = spawnSync('cp', ['-a', '--', `${source}/.`, dir], { encoding: 'utf8' });
  if (cp.error || cp.status !== 0) throw new Error(`copying its base failed: ${cp.error?.message ?? cp.stderr.trim()}`);
  chmodSync(dir, st.mode & 0o7777);
  chownSync(dir, st.uid, st.gid);
}
