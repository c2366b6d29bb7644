import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { type Database, migrate, openDatabase } from '../../metadata/index.js';

/** What identifies a file's content without reading it. */
export interface StatKey {
  path: string;
  dev: bigint;
  ino: bigint;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** A cached digest, and when its content was read (ns since the epoch, as a double). */
export interface StatHit {
  digest: string;
  hashedAtNs: number;
}

export interface StatRecord extends StatKey {
  digest: string;
  /** When the content was read (ns since the epoch), to tell racily clean entries apart. */
  hashedAtNs: bigint;
}

/**
 * Remembers content digests by stat data (inode, size, mtime, ctime), so an
 * unchanged file is not read again. An entry is trusted only when the file
 * had not changed for `racyWindowNs` before it was read: a write within the
 * file system's timestamp granularity could otherwise keep the same stat.
 */
export interface StatCache {
  get(key: StatKey): StatHit | undefined;
  /** Optionally loads every record under a directory at once, before many `get`s there. */
  preload?(dir: string): void;
  /** Stores records; implementations may buffer until `flush`. */
  put(records: readonly StatRecord[]): void;
  flush(): void;
}

function sameKey(a: StatKey, b: StatKey): boolean {
  return (
    BigInt.asIntN(64, a.dev) === BigInt.asIntN(64, b.dev) &&
    BigInt.asIntN(64, a.ino) === BigInt.asIntN(64, b.ino) &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}

/** A stat cache that lives as long as the object (used when no store root is given). */
export class MemoryStatCache implements StatCache {
  private readonly records = new Map<string, StatRecord>();
  get(key: StatKey): StatHit | undefined {
    const r = this.records.get(key.path);
    return r && sameKey(r, key) ? { digest: r.digest, hashedAtNs: Number(r.hashedAtNs) } : undefined;
  }
  put(records: readonly StatRecord[]): void {
    for (const r of records) this.records.set(r.path, r);
  }
  flush(): void {}
  get size(): number {
    return this.records.size;
  }
}

export const contextSchema = {
  module: 'context',
  migrations: [
    `CREATE TABLE context_stat_cache (
       path TEXT PRIMARY KEY,
       dev INTEGER NOT NULL,
       ino INTEGER NOT NULL,
       size INTEGER NOT NULL,
       mtime_ns INTEGER NOT NULL,
       ctime_ns INTEGER NOT NULL,
       digest TEXT NOT NULL,
       hashed_at_ns INTEGER NOT NULL
     ) WITHOUT ROWID`,
  ],
};

/** dev, ino, size, mtime_ns, ctime_ns, digest, hashed_at_ns, path. */
type RawRow = [number, number, number, number, number, string, number, string];

/** A row as read back: integers as doubles (ns values lose their last bits, the same way on both sides). */
interface Row {
  dev: number;
  ino: number;
  size: number;
  mtime_ns: number;
  ctime_ns: number;
  digest: string;
  hashed_at_ns: number;
}

/** The store's persistent stat cache, in `tsbuild.db`; safe to share between processes. */
export class SqliteStatCache implements StatCache {
  private readonly db: Database;
  private readonly select: BetterSqlite3.Statement<unknown[]>;
  private readonly upsert: BetterSqlite3.Statement<unknown[]>;
  private pending: StatRecord[] = [];
  private readonly range: BetterSqlite3.Statement<unknown[]>;
  private loaded: Map<string, RawRow> | undefined;

  constructor(db: Database) {
    this.db = db;
    migrate(db, contextSchema);
    this.select = db.prepare(
      'SELECT dev, ino, size, mtime_ns, ctime_ns, digest, hashed_at_ns FROM context_stat_cache WHERE path = ?',
    );
    this.range = db
      .prepare(
        'SELECT dev, ino, size, mtime_ns, ctime_ns, digest, hashed_at_ns, path FROM context_stat_cache WHERE path > ? AND path < ?',
      )
      .raw(true);
    this.upsert = db.prepare(
      `INSERT INTO context_stat_cache (path, dev, ino, size, mtime_ns, ctime_ns, digest, hashed_at_ns)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, size = excluded.size,
         mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, digest = excluded.digest,
         hashed_at_ns = excluded.hashed_at_ns`,
    );
  }

  preload(dir: string): void {
    const loaded = new Map<string, RawRow>();
    // Every path below `dir/` sorts between `dir/` and `dir0` ('0' follows '/').
    for (const row of this.range.all(`${dir}/`, `${dir}0`) as RawRow[]) loaded.set(row[7], row);
    this.loaded = loaded;
  }

  get(key: StatKey): StatHit | undefined {
    let row: RawRow | undefined = this.loaded?.get(key.path);
    if (!row) {
      const r = this.select.get(key.path) as Row | undefined;
      if (r) row = [r.dev, r.ino, r.size, r.mtime_ns, r.ctime_ns, r.digest, r.hashed_at_ns, key.path];
    }
    if (
      !row ||
      row[2] !== key.size ||
      row[3] !== Number(key.mtimeNs) ||
      row[4] !== Number(key.ctimeNs) ||
      row[1] !== Number(BigInt.asIntN(64, key.ino)) ||
      row[0] !== Number(BigInt.asIntN(64, key.dev))
    ) {
      return undefined;
    }
    return { digest: row[5], hashedAtNs: row[6] };
  }

  put(records: readonly StatRecord[]): void {
    this.pending.push(...records);
    if (this.pending.length >= 5000) this.flush();
  }

  flush(): void {
    this.loaded = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const r of batch) {
        this.upsert.run(
          r.path,
          BigInt.asIntN(64, r.dev),
          BigInt.asIntN(64, r.ino),
          r.size,
          r.mtimeNs,
          r.ctimeNs,
          r.digest,
          r.hashedAtNs,
        );
      }
    })();
  }
}

/** The stat cache of a store root (`<root>/tsbuild.db`), or an in-memory one when no root is given. */
export function openStatCache(root?: string): StatCache {
  if (root === undefined) return new MemoryStatCache();
  return new SqliteStatCache(openDatabase(join(root, 'tsbuild.db')));
}
