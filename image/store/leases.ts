import { randomBytes } from 'node:crypto';
import type { Database } from '../../metadata/index.js';
import { currentOwner, isOwnerAlive } from '../../metadata/index.js';

/** What a lease protects: a blob digest, a snapshot key or name, or an image (manifest digest). */
export type LeaseResourceKind = 'blob' | 'snapshot' | 'image';

/**
 * A lease held by a running process: what it names is kept by garbage
 * collection, and an image it names is refused by `rmi` unless forced.
 * Take the lease before creating what it protects (a blob, a snapshot), and
 * release it once something durable (an image record) refers to the result.
 * A lease whose process died is stale and ignored.
 */
export interface Lease {
  readonly id: string;
  add(kind: LeaseResourceKind, ref: string): void;
  release(): void;
}

export class LeaseManager {
  constructor(private readonly db: Database) {}

  acquire(label: string): Lease {
    const id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    const owner = currentOwner();
    this.db
      .prepare('INSERT INTO image_leases (id, pid, start, label, created) VALUES (?, ?, ?, ?, ?)')
      .run(id, owner.pid, owner.start, label, Date.now());
    const db = this.db;
    let released = false;
    return {
      id,
      add(kind, ref) {
        db.prepare('INSERT OR IGNORE INTO image_lease_resources (lease, kind, ref) VALUES (?, ?, ?)').run(
          id,
          kind,
          ref,
        );
      },
      release() {
        if (released) return;
        released = true;
        if (db.open) db.prepare('DELETE FROM image_leases WHERE id = ?').run(id);
      },
    };
  }

  /** Deletes the leases of processes that are gone; returns how many. */
  purgeStale(): number {
    const rows = this.db.prepare('SELECT id, pid, start FROM image_leases').all() as {
      id: string;
      pid: number;
      start: string;
    }[];
    const stale = rows.filter((r) => !isOwnerAlive({ pid: r.pid, start: r.start }));
    if (stale.length === 0) return 0;
    const del = this.db.prepare('DELETE FROM image_leases WHERE id = ?');
    this.db.transaction(() => {
      for (const r of stale) del.run(r.id);
    })();
    return stale.length;
  }

  /** The refs of `kind` held by live leases. */
  held(kind: LeaseResourceKind): Set<string> {
    const rows = this.db
      .prepare(
        `SELECT r.ref, l.pid, l.start FROM image_lease_resources r JOIN image_leases l ON l.id = r.lease WHERE r.kind = ?`,
      )
      .all(kind) as { ref: string; pid: number; start: string }[];
    return new Set(rows.filter((r) => isOwnerAlive({ pid: r.pid, start: r.start })).map((r) => r.ref));
  }

  /** Whether a live lease other than `except` holds `ref`. */
  isHeld(kind: LeaseResourceKind, ref: string, except?: string): boolean {
    const rows = this.db
      .prepare(
        `SELECT l.id, l.pid, l.start FROM image_lease_resources r JOIN image_leases l ON l.id = r.lease
         WHERE r.kind = ? AND r.ref = ?`,
      )
      .all(kind, ref) as { id: string; pid: number; start: string }[];
    return rows.some((r) => r.id !== except && isOwnerAlive({ pid: r.pid, start: r.start }));
  }
}
