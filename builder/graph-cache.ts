import { createHash } from 'node:crypto';
import type { Database, Schema } from '../metadata/index.js';
import type { BaseImageRef, BuildGraph } from '../parser/index.js';

declare const __TSBUILD_BUILD_ID__: string | undefined;

/**
 * Build graphs remembered by the bundled CLI, so that a rebuild of an unchanged
 * Dockerfile loads neither the parser nor Chevrotain. A graph is found by the
 * Dockerfile's text and name, the graph options and tsbuild's own build ID (set
 * by the bundler: an upgraded tsbuild never reads an older graph), and is valid
 * only for the same base images (their manifest digests).
 */
export const graphCacheSchema: Schema = {
  module: 'builder-graphs',
  migrations: [
    `CREATE TABLE build_graphs (
       key TEXT PRIMARY KEY,
       refs TEXT NOT NULL,
       bases TEXT NOT NULL,
       graph TEXT NOT NULL,
       used INTEGER NOT NULL
     );`,
  ],
};

/** Graphs kept at most; the least recently used go first. */
const KEEP = 200;

export class GraphCache {
  private constructor(
    private readonly db: Database,
    private readonly key: string,
  ) {}

  /** A cache for this Dockerfile and these options; undefined outside the bundled CLI. */
  static open(db: Database, text: string, file: string, options: unknown): GraphCache | undefined {
    const build = typeof __TSBUILD_BUILD_ID__ === 'string' ? __TSBUILD_BUILD_ID__ : undefined;
    if (build === undefined) return undefined;
    const key = createHash('sha256')
      .update(JSON.stringify([build, file, options, text]))
      .digest('hex');
    return new GraphCache(db, key);
  }

  /** The base image references of the remembered graph, if any. */
  refs(): BaseImageRef[] | undefined {
    const row = this.db.prepare('SELECT refs FROM build_graphs WHERE key = ?').get(this.key) as
      | { refs: string }
      | undefined;
    return row ? (JSON.parse(row.refs) as BaseImageRef[]) : undefined;
  }

  /** The remembered graph when it was made with these base images. */
  graph(bases: string[]): BuildGraph | undefined {
    const row = this.db.prepare('SELECT bases, graph FROM build_graphs WHERE key = ?').get(this.key) as
      | { bases: string; graph: string }
      | undefined;
    if (!row || row.bases !== JSON.stringify(bases)) return undefined;
    this.db.prepare('UPDATE build_graphs SET used = ? WHERE key = ?').run(Date.now(), this.key);
    return JSON.parse(row.graph) as BuildGraph;
  }

  put(refs: BaseImageRef[], bases: string[], graph: BuildGraph): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO build_graphs (key, refs, bases, graph, used) VALUES (?, ?, ?, ?, ?)')
        .run(this.key, JSON.stringify(refs), JSON.stringify(bases), JSON.stringify(graph), Date.now());
      this.db
        .prepare('DELETE FROM build_graphs WHERE key NOT IN (SELECT key FROM build_graphs ORDER BY used DESC LIMIT ?)')
        .run(KEEP);
    })();
  }
}
