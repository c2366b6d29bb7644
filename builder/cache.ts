import { createHash } from 'node:crypto';
import type { Database, Schema } from '../metadata/index.js';

/**
 * The build cache: one row per step result, keyed by the step's cache key (the
 * digest of its parent's key, the op's canonical form and, for COPY/ADD, the
 * content digests of what it copies). A result is a committed snapshot plus the
 * layer blob made from its diff, or "no change" (an empty diff). The snapshot and
 * the blob are GC roots of the image store, owned by `cache:<key>`.
 */
export const builderSchema: Schema = {
  module: 'builder',
  migrations: [
    `CREATE TABLE build_cache (
       key TEXT PRIMARY KEY,
       parent TEXT NOT NULL,
       kind TEXT NOT NULL,
       inputs TEXT NOT NULL,
       snapshot TEXT,
       diff_id TEXT,
       blob TEXT,
       blob_size INTEGER,
       media_type TEXT,
       created TEXT NOT NULL,
       used INTEGER NOT NULL
     );
     CREATE INDEX build_cache_parent ON build_cache(parent);`,
    // Content digests of what a COPY --from selects in another stage's result, by memo key (see `contentMemoKey`).
    `CREATE TABLE build_content (
       key TEXT PRIMARY KEY,
       digest TEXT NOT NULL,
       used INTEGER NOT NULL
     ) WITHOUT ROWID;`,
  ],
};

/** A step's own layer (absent when the step changed nothing). */
export interface CachedLayer {
  /** The committed snapshot holding this layer and all below (named by chain ID). */
  snapshot: string;
  diffId: string;
  digest: string;
  size: number;
  mediaType: string;
}

export interface CacheRecord {
  key: string;
  parent: string;
  kind: string;
  /** The canonical inputs (op and content digests) as JSON, for `--debug-cache`. */
  inputs: CacheInputs;
  layer?: CachedLayer;
  /** ISO time the result was made: the history's `created`. */
  created: string;
}

/** What went into a key: the op's canonical form and the content digests of its sources. */
export interface CacheInputs {
  op: Record<string, unknown>;
  content?: Record<string, string>;
}

interface Row {
  key: string;
  parent: string;
  kind: string;
  inputs: string;
  snapshot: string | null;
  diff_id: string | null;
  blob: string | null;
  blob_size: number | null;
  media_type: string | null;
  created: string;
}

/** The key of a step: sha256 over the parent's key and the canonical inputs. */
export function cacheKey(parent: string, inputs: CacheInputs): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify([parent, inputs.op, inputs.content ?? null]))
    .digest('hex')}`;
}

export class BuildCache {
  constructor(private readonly db: Database) {}

  get(key: string): CacheRecord | undefined {
    const row = this.db.prepare('SELECT * FROM build_cache WHERE key = ?').get(key) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Records that the key was used now (for pruning by age). */
  touch(key: string): void {
    this.db.prepare('UPDATE build_cache SET used = ? WHERE key = ?').run(Date.now(), key);
  }

  put(rec: CacheRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO build_cache (key, parent, kind, inputs, snapshot, diff_id, blob, blob_size, media_type, created, used)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        rec.key,
        rec.parent,
        rec.kind,
        JSON.stringify(rec.inputs),
        rec.layer?.snapshot ?? null,
        rec.layer?.diffId ?? null,
        rec.layer?.digest ?? null,
        rec.layer?.size ?? null,
        rec.layer?.mediaType ?? null,
        rec.created,
        Date.now(),
      );
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM build_cache WHERE key = ?').run(key);
  }

  /**
   * The remembered content digest of a selection in a stage's result, so that a
   * cached build does not mount and read the stage again (see `contentMemoKey`).
   */
  content(memo: string): string | undefined {
    const row = this.db.prepare('SELECT digest FROM build_content WHERE key = ?').get(memo) as
      | { digest: string }
      | undefined;
    return row?.digest;
  }

  putContent(memo: string, digest: string): void {
    this.db
      .prepare('INSERT OR REPLACE INTO build_content (key, digest, used) VALUES (?, ?, ?)')
      .run(memo, digest, Date.now());
  }

  /**
   * The memo key of a selection (`what`) in the result of the step with key
   * `stageKey`: the key and the time its result was made (a step run again, as
   * with --no-cache, may give other content under the same key, and a new time).
   */
  contentMemoKey(stageKey: string, what: unknown): string {
    const created = stageKey.startsWith('sha256:') ? (this.get(stageKey)?.created ?? '') : '';
    return `sha256:${createHash('sha256')
      .update(JSON.stringify([stageKey, created, what]))
      .digest('hex')}`;
  }

  /** Records made on the same parent: the candidates `--debug-cache` compares a miss with. */
  siblings(parent: string, kind?: string): CacheRecord[] {
    const rows = (
      kind === undefined
        ? this.db.prepare('SELECT * FROM build_cache WHERE parent = ? ORDER BY used DESC LIMIT 20').all(parent)
        : this.db
            .prepare('SELECT * FROM build_cache WHERE parent = ? AND kind = ? ORDER BY used DESC LIMIT 20')
            .all(parent, kind)
    ) as Row[];
    return rows.map(toRecord);
  }
}

function toRecord(row: Row): CacheRecord {
  const rec: CacheRecord = {
    key: row.key,
    parent: row.parent,
    kind: row.kind,
    inputs: JSON.parse(row.inputs) as CacheInputs,
    created: row.created,
  };
  if (row.snapshot !== null) {
    rec.layer = {
      snapshot: row.snapshot,
      diffId: row.diff_id as string,
      digest: row.blob as string,
      size: row.blob_size as number,
      mediaType: row.media_type as string,
    };
  }
  return rec;
}

/**
 * Why a step missed, for `--debug-cache`: the first input that differs from the
 * closest record made on the same parent, or that nothing was built on the parent.
 */
export function explainMiss(cache: BuildCache, parent: string, kind: string, inputs: CacheInputs): string {
  const siblings = cache.siblings(parent, kind);
  if (siblings.length === 0) {
    const other = cache.siblings(parent)[0];
    if (other) return `the instruction differs: was ${other.kind.toUpperCase()}, now ${kind.toUpperCase()}`;
    if (parent.startsWith('image:')) {
      return `no cached result on base image ${parent.slice(6)} (the base image is new or changed)`;
    }
    if (parent === 'scratch') return 'no cached result on scratch';
    return 'no cached result after the previous step (it or an earlier step changed)';
  }
  const diffs = siblings.map((s) => firstDifference(s.inputs, inputs));
  const best = diffs.find((d) => d.startsWith('content')) ?? diffs[0];
  return best as string;
}

function firstDifference(was: CacheInputs, now: CacheInputs): string {
  const keys = [...new Set([...Object.keys(now.op), ...Object.keys(was.op)])];
  for (const k of keys) {
    const a = JSON.stringify(was.op[k]);
    const b = JSON.stringify(now.op[k]);
    if (a !== b) return `${k} differs: was ${a ?? 'unset'}, now ${b ?? 'unset'}`;
  }
  const wc = was.content ?? {};
  const nc = now.content ?? {};
  for (const k of [...new Set([...Object.keys(nc), ...Object.keys(wc)])]) {
    if (wc[k] !== nc[k]) {
      if (wc[k] === undefined) return `content of ${k} is new`;
      if (nc[k] === undefined) return `content of ${k} is gone`;
      return `content of ${k} differs: was ${wc[k]}, now ${nc[k]}`;
    }
  }
  return 'inputs are equal (the cached result was removed)';
}
