import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { type Database, migrate, openDatabase } from '../../metadata/index.js';

/**
 * What identifies a file's content without reading it. Numbers are the
 * doubles of a number-valued lstat (`ContextEntry`): the same file gives the
 * same doubles every time, which is all a cache key needs.
 */
export interface StatKey {
  /** Absolute path (a `ContextEntry` is a StatKey). */
  absPath: string;
  dev: number;
  ino: number;
  size: number;
  mtimeNs: number;
  ctimeNs: number;
}

/** A cached digest, and when its content was read (ns since the epoch, as a double). */
export interface StatHit {
  digest: string;
  hashedAtNs: number;
}

export interface StatRecord extends StatKey {
  digest: string;
  /** When the content was read (ns since the epoch), to tell racily clean entries apart. */
  hashedAtNs: number;
}

/**
 * Remembers content digests by stat data (inode, size, mtime, ctime), so an
 * unchanged file is not read again. An entry is trusted only when the file
 * had not changed for `racyWindowNs` before it was read: a write within the
 * file system's timestamp granularity could otherwise keep the same stat.
 */
export interface StatCache {
  get(key: StatKey): StatHit | undefined;
  /** Optionally loads every record under a directory (the context) at once, before many `get`s there. */
  preload?(dir: string): void;
  /** Stores records; implementations may buffer until `flush`. */
  put(records: readonly StatRecord[]): void;
  flush(): void;
}

function sameKey(a: StatKey, b: StatKey): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

/** A stat cache that lives as long as the object (used when no store root is given). */
export class MemoryStatCache implements StatCache {
  private readonly records = new Map<string, StatRecord>();
  get(key: StatKey): StatHit | undefined {
    const r = this.records.get(key.absPath);
    return r && sameKey(r, key) ? { digest: r.digest, hashedAtNs: r.hashedAtNs } : undefined;
  }
  put(records: readonly StatRecord[]): void {
    for (const r of records) this.records.set(r.absPath, r);
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
    // One packed blob of records per context directory: a warm build reads one row instead of one per file.
    `DROP TABLE context_stat_cache;
     CREATE TABLE context_stat_sets (
       dir TEXT PRIMARY KEY,
       version INTEGER NOT NULL,
       records BLOB NOT NULL
     ) WITHOUT ROWID`,
  ],
};

/** Doubles per record: dev, ino, size, mtime_ns, ctime_ns, hashed_at_ns. */
const NUMS = 6;
const HEX = 64;
const HEADER = 16;
const MAGIC = 0x74736331;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** The blob's doubles are little-endian; this platform's byte order. */
const littleEndian = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * The records of one directory: those read from the store (packed, looked up
 * through `index`) and those added since (`added`, which win).
 */
class StatSet {
  readonly dir: string;
  /** The stored version this set was read at (0: not stored). */
  version: number;
  /** Characters before a relative path in an absolute one. */
  readonly skip: number;
  /** Path to record number, made on the first lookup that the cursor does not answer. */
  private index: Map<string, number> | undefined;
  /** The record after the last one found: lookups mostly come in the order records were stored. */
  private cursor = 0;
  private nums: Float64Array;
  private hex: string;
  private paths: string[];
  readonly added = new Map<string, StatRecord>();

  constructor(dir: string, version: number, blob: Uint8Array | undefined) {
    this.dir = dir;
    this.skip = dir === '/' ? 1 : dir.length + 1;
    this.version = version;
    this.nums = new Float64Array(0);
    this.hex = '';
    this.paths = [];
    if (blob) this.unpack(blob);
  }

  private unpack(blob: Uint8Array): void {
    let buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC) return;
    const n = buf.readUInt32LE(4);
    const pathBytes = buf.readUInt32LE(8);
    const numsAt = HEADER;
    const hexAt = numsAt + n * NUMS * 8;
    const pathsAt = hexAt + n * HEX;
    if (buf.length !== pathsAt + pathBytes) return;
    if (buf.byteOffset % 8 !== 0 || !littleEndian) {
      const copy = Buffer.from(new ArrayBuffer(buf.length));
      buf.copy(copy);
      if (!littleEndian) copy.subarray(numsAt, hexAt).swap64();
      buf = copy;
    }
    const paths = n === 0 ? [] : buf.toString('utf8', pathsAt, pathsAt + pathBytes).split('\0');
    if (paths.length !== n) return;
    this.nums = new Float64Array(buf.buffer, buf.byteOffset + numsAt, n * NUMS);
    this.hex = buf.toString('latin1', hexAt, pathsAt);
    this.paths = paths;
  }

  private find(rel: string): number | undefined {
    let index = this.index;
    if (!index) {
      index = new Map();
      const paths = this.paths;
      for (let i = 0; i < paths.length; i++) index.set(paths[i] as string, i);
      this.index = index;
    }
    return index.get(rel);
  }

  /** The record of `key.absPath`, a path below `dir`, if its stat data match. */
  get(key: StatKey): StatHit | undefined {
    const path = key.absPath;
    if (this.added.size > 0) {
      const added = this.added.get(path.slice(this.skip));
      if (added) return sameKey(added, key) ? { digest: added.digest, hashedAtNs: added.hashedAtNs } : undefined;
    }
    let i: number | undefined = this.cursor;
    const guess = this.paths[i];
    if (guess === undefined || path.length - this.skip !== guess.length || !path.endsWith(guess)) {
      i = this.find(path.slice(this.skip));
      if (i === undefined) return undefined;
    }
    this.cursor = i + 1;
    const nums = this.nums;
    const at = i * NUMS;
    if (
      nums[at + 2] !== key.size ||
      nums[at + 3] !== key.mtimeNs ||
      nums[at + 4] !== key.ctimeNs ||
      nums[at + 1] !== key.ino ||
      nums[at] !== key.dev
    ) {
      return undefined;
    }
    return { digest: `sha256:${this.hex.slice(i * HEX, (i + 1) * HEX)}`, hashedAtNs: nums[at + 5] as number };
  }

  /** Takes the stored records of another read of this set, keeping what was added here. */
  reloadFrom(other: StatSet): void {
    this.version = other.version;
    this.index = undefined;
    this.cursor = 0;
    this.nums = other.nums;
    this.hex = other.hex;
    this.paths = other.paths;
  }

  /** Everything, packed (see `unpack`). */
  pack(): Buffer {
    // Stored order is kept (a changed record stays in place, new ones go last), so the cursor keeps hitting.
    const stored = this.paths.length;
    let fresh = 0;
    for (const rel of this.added.keys()) if (this.find(rel) === undefined) fresh++;
    const n = stored + fresh;
    const nums = new Float64Array(n * NUMS);
    const hex: string[] = new Array(n);
    const paths: string[] = new Array(n);
    const put = (j: number, rel: string, r: StatRecord) => {
      nums.set([r.dev, r.ino, r.size, r.mtimeNs, r.ctimeNs, r.hashedAtNs], j * NUMS);
      hex[j] = r.digest.slice(7);
      paths[j] = rel;
    };
    for (let i = 0; i < stored; i++) {
      const rel = this.paths[i] as string;
      const r = this.added.get(rel);
      if (r) {
        put(i, rel, r);
        continue;
      }
      nums.set(this.nums.subarray(i * NUMS, (i + 1) * NUMS), i * NUMS);
      hex[i] = this.hex.slice(i * HEX, (i + 1) * HEX);
      paths[i] = rel;
    }
    let j = stored;
    for (const [rel, r] of this.added) if (this.find(rel) === undefined) put(j++, rel, r);
    const pathText = Buffer.from(paths.join('\0'), 'utf8');
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(n, 4);
    header.writeUInt32LE(pathText.length, 8);
    const numBytes = Buffer.from(nums.buffer, nums.byteOffset, nums.byteLength);
    if (!littleEndian) numBytes.swap64();
    return Buffer.concat([header, numBytes, Buffer.from(hex.join(''), 'latin1'), pathText]);
  }
}

/** The store's persistent stat cache, in `tsbuild.db`; safe to share between processes (last writer wins). */
export class SqliteStatCache implements StatCache {
  private readonly db: Database;
  private readonly read: BetterSqlite3.Statement<unknown[]>;
  private readonly write: BetterSqlite3.Statement<unknown[]>;
  /** Sets read (or looked for: null) by directory. */
  private readonly sets = new Map<string, StatSet | null>();
  private current: StatSet | undefined;
  /** `current.dir` with a trailing slash. */
  private currentPrefix = '';
  private readonly dirty = new Set<StatSet>();

  constructor(db: Database) {
    this.db = db;
    migrate(db, contextSchema);
    this.read = db.prepare('SELECT version, records FROM context_stat_sets WHERE dir = ?').raw(true);
    this.write = db.prepare(
      `INSERT INTO context_stat_sets (dir, version, records) VALUES (?, ?, ?)
       ON CONFLICT(dir) DO UPDATE SET version = excluded.version, records = excluded.records`,
    );
  }

  private load(dir: string): StatSet | undefined {
    const row = this.read.get(dir) as [number, Uint8Array] | undefined;
    return row ? new StatSet(dir, row[0], row[1]) : undefined;
  }

  /** The set of `dir`, read from the store once. */
  private setAt(dir: string): StatSet | undefined {
    let set = this.sets.get(dir);
    if (set === undefined) {
      set = this.load(dir) ?? null;
      this.sets.set(dir, set);
    }
    return set ?? undefined;
  }

  preload(dir: string): void {
    let set = this.setAt(dir);
    if (!set) {
      set = new StatSet(dir, 0, undefined);
      this.sets.set(dir, set);
    }
    this.current = set;
    this.currentPrefix = dir === '/' ? '/' : `${dir}/`;
  }

  /** The set that holds `path`: the preloaded one, or the nearest directory above it with a set. */
  private setFor(path: string): StatSet | undefined {
    const current = this.current;
    if (current && path.length > current.dir.length && path.startsWith(current.dir) && path[current.dir.length] === '/')
      return current;
    for (let slash = path.lastIndexOf('/'); slash >= 0; slash = path.lastIndexOf('/', slash - 1)) {
      const set = this.setAt(slash === 0 ? '/' : path.slice(0, slash));
      if (set) return set;
      if (slash === 0) break;
    }
    return undefined;
  }

  get(key: StatKey): StatHit | undefined {
    const current = this.current;
    if (current && key.absPath.startsWith(this.currentPrefix)) return current.get(key);
    return this.setFor(key.absPath)?.get(key);
  }

  put(records: readonly StatRecord[]): void {
    for (const r of records) {
      if (!DIGEST.test(r.digest)) continue;
      let set = this.setFor(r.absPath);
      if (!set) {
        const slash = r.absPath.lastIndexOf('/');
        const dir = slash <= 0 ? '/' : r.absPath.slice(0, slash);
        set = new StatSet(dir, 0, undefined);
        this.sets.set(dir, set);
      }
      set.added.set(r.absPath.slice(set.skip), r);
      this.dirty.add(set);
    }
  }

  flush(): void {
    if (this.dirty.size === 0) return;
    const sets = [...this.dirty];
    this.dirty.clear();
    this.db
      .transaction(() => {
        for (const set of sets) {
          // Another process may have stored this set since it was read: start from its records.
          const row = this.read.get(set.dir) as [number, Uint8Array] | undefined;
          const stored = row?.[0] ?? 0;
          if (row && stored !== set.version) set.reloadFrom(new StatSet(set.dir, row[0], row[1]));
          set.version = stored + 1;
          this.write.run(set.dir, set.version, set.pack());
        }
      })
      .immediate();
  }
}

/** The stat cache of a store root (`<root>/tsbuild.db`), or an in-memory one when no root is given. */
export function openStatCache(root?: string): StatCache {
  if (root === undefined) return new MemoryStatCache();
  return new SqliteStatCache(openDatabase(join(root, 'tsbuild.db')));
}
