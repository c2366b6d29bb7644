import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../metadata/index.js';
import { currentOwner, isOwnerAlive, ownerToken, pidAlive } from '../metadata/index.js';
import { measureUsage, removeTree } from './_fs.js';
import { SnapshotError } from './errors.js';
import { openSnapshotDatabase, type SnapshotRow } from './metadata.js';
import { mountsBelow, unmountAll } from './mount.js';
import { cleanupMountDirs } from './mount-dirs.js';
import type { Mount, SnapshotDriver, SnapshotInfo, SnapshotKind, Snapshotter, Usage } from './types.js';

/** Labels that mark a snapshot as owned by a running process (cleanup removes it once that process is gone). */
export const OWNER_PID_LABEL = 'tsbuild.owner.pid';
/** The owner's start time (/proc/<pid>/stat), so that a reused pid does not keep a dead owner's snapshot. */
export const OWNER_START_LABEL = 'tsbuild.owner.start';

/** The labels that make this process a snapshot's owner. */
export function ownerLabels(): Record<string, string> {
  const owner = currentOwner();
  return { [OWNER_PID_LABEL]: String(owner.pid), [OWNER_START_LABEL]: owner.start };
}

/** Whether the process named by a snapshot's owner labels still runs (by pid alone for labels without a start time). */
export function ownerAlive(labels: Record<string, string>): boolean {
  const pid = Number(labels[OWNER_PID_LABEL]);
  const start = labels[OWNER_START_LABEL];
  if (start === undefined) return pidAlive(pid);
  return Number.isInteger(pid) && pid > 0 && isOwnerAlive({ pid, start });
}

/** Where a snapshot lives on disk, with its committed ancestors' fs dirs (nearest first). */
export interface SnapshotPaths {
  id: number;
  kind: SnapshotKind;
  dir: string;
  fs: string;
  work: string;
  /** fs dirs of the committed ancestors, nearest parent first (overlay lowerdir order). */
  lowers: string[];
  parent?: string;
}

/**
 * The bookkeeping both drivers share: rows in tsbuild.db, directories under
 * snapshots/<id>, staging under tmp/snapshots/<pid>-<random>, and crash recovery.
 *
 * Crash safety: a snapshot directory is built in tmp/snapshots, then renamed into
 * snapshots/<id> inside the IMMEDIATE transaction that inserts its row. Directories
 * are deleted only after the transaction that deletes their row commits. cleanup()
 * runs under the write lock, so it never sees another process between rename and commit.
 */
export abstract class SnapshotStore implements Snapshotter {
  abstract readonly driver: SnapshotDriver;
  readonly root: string;
  protected readonly db: Database;
  readonly snapshotsDir: string;
  readonly tmpDir: string;

  constructor(root: string) {
    this.root = root;
    this.snapshotsDir = join(root, 'snapshots');
    this.tmpDir = join(root, 'tmp', 'snapshots');
    mkdirSync(this.snapshotsDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    this.db = openSnapshotDatabase(root);
  }

  /** Fills a new snapshot's staging dir (`fs`, `work` exist) from its parent. */
  protected abstract populate(stageFs: string, kind: SnapshotKind, parent: SnapshotPaths | undefined): Promise<void>;
  /** The mounts of a snapshot (pure: from its paths). */
  protected abstract mountsOf(paths: SnapshotPaths): Mount[];

  /** A fresh staging path in tmp/snapshots, named after this process so cleanup can tell live from dead. */
  stagingPath(prefix = ''): string {
    return join(this.tmpDir, `${prefix}${ownerToken()}-${randomBytes(6).toString('hex')}`);
  }

  prepare(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]> {
    return this.create('active', key, parent, opts?.labels ?? {});
  }

  view(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]> {
    return this.create('view', key, parent, opts?.labels ?? {});
  }

  async mounts(key: string): Promise<Mount[]> {
    const paths = this.paths(key);
    if (paths.kind === 'committed') {
      throw new SnapshotError('TSB_SNAPSHOT_INVALID', `snapshot ${key} is committed: mount it through view or prepare`);
    }
    return this.mountsOf(paths);
  }

  async commit(name: string, key: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    this.commitSync(name, key, opts?.labels);
  }

  /** commit with the layer's diff ID and size recorded (applyLayer). */
  commitSync(
    name: string,
    key: string,
    labels?: Record<string, string>,
    diff?: { diffId: string; size: number },
  ): void {
    const row = this.row(key);
    if (row.kind !== 'active') {
      throw new SnapshotError('TSB_SNAPSHOT_INVALID', `snapshot ${key} is ${row.kind}, only active snapshots commit`);
    }
    const dir = join(this.snapshotsDir, String(row.id));
    const usage = measureUsage(join(dir, 'fs'));
    this.db
      .transaction(() => {
        if (this.find(name)) throw new SnapshotError('TSB_SNAPSHOT_EXISTS', `snapshot ${name} already exists`);
        const now = this.find(key);
        if (!now || now.id !== row.id || now.kind !== 'active') {
          throw new SnapshotError('TSB_SNAPSHOT_NOT_FOUND', `snapshot ${key} does not exist`);
        }
        const merged = { ...JSON.parse(now.labels), ...(labels ?? {}) } as Record<string, string>;
        delete merged[OWNER_PID_LABEL];
        delete merged[OWNER_START_LABEL];
        this.db
          .prepare(
            `UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, updated = ?, size = ?, inodes = ?,
               diff_id = ?, diff_size = ? WHERE id = ?`,
          )
          .run(
            name,
            JSON.stringify(merged),
            Date.now(),
            usage.size,
            usage.inodes,
            diff?.diffId ?? null,
            diff?.size ?? null,
            row.id,
          );
      })
      .immediate();
    // The work dir only matters to a mounted overlay; a committed snapshot keeps it empty.
    const work = join(dir, 'work');
    for (const entry of safeReaddir(work)) rmSync(join(work, entry), { recursive: true, force: true });
  }

  async remove(keyOrName: string): Promise<void> {
    const removed = this.db
      .transaction(() => {
        const row = this.row(keyOrName);
        const children = this.db.prepare('SELECT key FROM snapshots WHERE parent_id = ? LIMIT 1').get(row.id) as
          | { key: string }
          | undefined;
        if (children) {
          throw new SnapshotError(
            'TSB_SNAPSHOT_IN_USE',
            `snapshot ${keyOrName} has children (${children.key}): remove them first`,
          );
        }
        this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(row.id);
        return row.id;
      })
      .immediate();
    await this.discard(join(this.snapshotsDir, String(removed)));
  }

  async stat(keyOrName: string): Promise<SnapshotInfo> {
    return this.info(this.row(keyOrName));
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    const rows = this.db
      .prepare('SELECT * FROM snapshots WHERE driver = ? ORDER BY id')
      .all(this.driver) as SnapshotRow[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const r of rows) await fn(this.info(r, byId));
  }

  async usage(keyOrName: string): Promise<Usage> {
    const row = this.row(keyOrName);
    if (row.kind === 'committed' && row.size !== null && row.inodes !== null) {
      return { size: row.size, inodes: row.inodes };
    }
    return measureUsage(join(this.snapshotsDir, String(row.id), 'fs'));
  }

  /** The diff ID and uncompressed size applyLayer recorded for a committed snapshot, if any. */
  layerOf(name: string): { diffId: string; size: number } | undefined {
    const row = this.find(name);
    if (row?.kind !== 'committed' || row.diff_id === null) return undefined;
    return { diffId: row.diff_id, size: row.diff_size ?? 0 };
  }

  async cleanup(): Promise<void> {
    // Mount points of dead builds (they may hold this store's snapshots mounted).
    await cleanupMountDirs('build');
    // Stale mounts and staging dirs of dead processes.
    for (const entry of safeReaddir(this.tmpDir)) {
      if (stagingOwnerAlive(entry)) continue;
      const p = join(this.tmpDir, entry);
      if (mountsBelow(p).length) await unmountAll(p);
      await removeTree(p);
    }
    // Active snapshots owned by a process that died (an interrupted applyLayer or squash).
    const owned = this.db
      .prepare(`SELECT * FROM snapshots WHERE driver = ? AND kind != 'committed' AND labels LIKE ?`)
      .all(this.driver, `%${OWNER_PID_LABEL}%`) as SnapshotRow[];
    for (const r of owned) {
      if (!ownerAlive(JSON.parse(r.labels) as Record<string, string>)) await this.remove(r.key).catch(() => undefined);
    }
    // Directories without a row, and rows without a directory, under the write lock.
    const trash: string[] = [];
    this.db
      .transaction(() => {
        const ids = new Set(
          (this.db.prepare('SELECT id FROM snapshots').all() as { id: number }[]).map((r) => String(r.id)),
        );
        for (const entry of safeReaddir(this.snapshotsDir)) {
          if (ids.has(entry)) continue;
          const to = this.stagingPath('rm-');
          renameSync(join(this.snapshotsDir, entry), to);
          trash.push(to);
        }
        for (;;) {
          const lost = (
            this.db
              .prepare(
                'SELECT id FROM snapshots s WHERE NOT EXISTS (SELECT 1 FROM snapshots c WHERE c.parent_id = s.id)',
              )
              .all() as { id: number }[]
          ).filter((r) => !existsSync(join(this.snapshotsDir, String(r.id))));
          if (!lost.length) break;
          for (const r of lost) this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(r.id);
        }
      })
      .immediate();
    for (const t of trash) await removeTree(t);
  }

  /** The on-disk layout of a snapshot and its ancestors. */
  paths(keyOrName: string): SnapshotPaths {
    return this.pathsOf(this.row(keyOrName));
  }

  /** The mounts of a read-only view of committed `name`, without recording a view (export, diff). */
  viewMounts(name: string): Mount[] {
    const row = this.row(name);
    if (row.kind !== 'committed') throw new SnapshotError('TSB_SNAPSHOT_INVALID', `snapshot ${name} is not committed`);
    const p = this.pathsOf(row);
    return this.mountsOf({ ...p, kind: 'view', lowers: [p.fs, ...p.lowers] });
  }

  protected pathsOf(row: SnapshotRow): SnapshotPaths {
    const dir = join(this.snapshotsDir, String(row.id));
    const lowers: string[] = [];
    let parent: string | undefined;
    let pid = row.parent_id;
    const get = this.db.prepare('SELECT id, key, parent_id FROM snapshots WHERE id = ?');
    while (pid !== null) {
      const p = get.get(pid) as { id: number; key: string; parent_id: number | null } | undefined;
      if (!p) break;
      if (parent === undefined) parent = p.key;
      lowers.push(join(this.snapshotsDir, String(p.id), 'fs'));
      pid = p.parent_id;
    }
    return { id: row.id, kind: row.kind, dir, fs: join(dir, 'fs'), work: join(dir, 'work'), lowers, parent };
  }

  private async create(
    kind: SnapshotKind,
    key: string,
    parent: string | undefined,
    labels: Record<string, string>,
  ): Promise<Mount[]> {
    if (!key) throw new SnapshotError('TSB_SNAPSHOT_INVALID', 'a snapshot key must not be empty');
    if (this.find(key)) throw new SnapshotError('TSB_SNAPSHOT_EXISTS', `snapshot ${key} already exists`);
    let parentPaths: SnapshotPaths | undefined;
    if (parent !== undefined) {
      const p = this.row(parent, `parent snapshot ${parent} does not exist`);
      if (p.kind !== 'committed') {
        throw new SnapshotError('TSB_SNAPSHOT_INVALID', `parent ${parent} is ${p.kind}: a parent must be committed`);
      }
      parentPaths = this.pathsOf(p);
    }
    const stage = this.stagingPath();
    mkdirSync(stage, { mode: 0o700 });
    let renamed = false;
    try {
      mkdirSync(join(stage, 'fs'), { mode: 0o755 });
      mkdirSync(join(stage, 'work'), { mode: 0o700 });
      await this.populate(join(stage, 'fs'), kind, parentPaths);
      const now = Date.now();
      const id = this.db
        .transaction(() => {
          if (this.find(key)) throw new SnapshotError('TSB_SNAPSHOT_EXISTS', `snapshot ${key} already exists`);
          let parentId: number | null = null;
          if (parent !== undefined) {
            const p = this.find(parent);
            if (p?.kind !== 'committed') {
              throw new SnapshotError('TSB_SNAPSHOT_NOT_FOUND', `parent snapshot ${parent} does not exist`);
            }
            parentId = p.id;
          }
          const r = this.db
            .prepare(
              'INSERT INTO snapshots (driver, key, kind, parent_id, labels, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)',
            )
            .run(this.driver, key, kind, parentId, JSON.stringify(labels), now, now);
          const newId = Number(r.lastInsertRowid);
          renameSync(stage, join(this.snapshotsDir, String(newId)));
          renamed = true;
          return newId;
        })
        .immediate();
      return this.mountsOf(this.pathsOf(this.rowById(id)));
    } catch (err) {
      // A rename inside a transaction that then failed leaves an orphan: cleanup() takes it.
      if (!renamed) await removeTree(stage);
      throw err;
    }
  }

  protected find(key: string): SnapshotRow | undefined {
    return this.db.prepare('SELECT * FROM snapshots WHERE driver = ? AND key = ?').get(this.driver, key) as
      | SnapshotRow
      | undefined;
  }

  protected row(key: string, message?: string): SnapshotRow {
    const r = this.find(key);
    if (!r) throw new SnapshotError('TSB_SNAPSHOT_NOT_FOUND', message ?? `snapshot ${key} does not exist`);
    return r;
  }

  private rowById(id: number): SnapshotRow {
    return this.db.prepare('SELECT * FROM snapshots WHERE id = ?').get(id) as SnapshotRow;
  }

  private info(r: SnapshotRow, byId?: Map<number, SnapshotRow>): SnapshotInfo {
    const parent =
      r.parent_id === null
        ? undefined
        : (byId?.get(r.parent_id) ?? (this.rowById(r.parent_id) as SnapshotRow | undefined))?.key;
    const info: SnapshotInfo = {
      kind: r.kind,
      name: r.key,
      labels: JSON.parse(r.labels) as Record<string, string>,
      created: new Date(r.created),
      updated: new Date(r.updated),
    };
    if (parent !== undefined) info.parent = parent;
    return info;
  }

  private async discard(dir: string): Promise<void> {
    const to = this.stagingPath('rm-');
    try {
      renameSync(dir, to);
    } catch {
      return;
    }
    await removeTree(to);
  }
}

/**
 * Whether the process that made a staging entry (`[prefix-]<pid>.<start>-…`, or
 * `[prefix-]<pid>-…` as older versions and the overlay probe name them) still runs.
 */
function stagingOwnerAlive(entry: string): boolean {
  const m = /^(?:[a-z]+-)?(\d+)(?:\.(\d+))?-/.exec(entry);
  if (!m) return false;
  const pid = Number(m[1]);
  return m[2] === undefined ? pidAlive(pid) : isOwnerAlive({ pid, start: m[2] });
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
