import { join } from 'node:path';
import { type Database, migrate, openDatabase } from '../metadata/index.js';

/** The snapshotter's tables in tsbuild.db (module `snapshots`). */
export const migrations = [
  `CREATE TABLE snapshots (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     driver TEXT NOT NULL,
     key TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
     parent_id INTEGER REFERENCES snapshots(id),
     labels TEXT NOT NULL DEFAULT '{}',
     created INTEGER NOT NULL,
     updated INTEGER NOT NULL,
     size INTEGER,
     inodes INTEGER,
     diff_id TEXT,
     diff_size INTEGER,
     UNIQUE (driver, key)
   );
   CREATE INDEX snapshots_parent ON snapshots(parent_id);
   CREATE TABLE snapshot_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

export interface SnapshotRow {
  id: number;
  driver: string;
  key: string;
  kind: 'active' | 'view' | 'committed';
  parent_id: number | null;
  labels: string;
  created: number;
  updated: number;
  size: number | null;
  inodes: number | null;
  diff_id: string | null;
  diff_size: number | null;
}

export function openSnapshotDatabase(root: string): Database {
  const db = openDatabase(join(root, 'tsbuild.db'));
  migrate(db, { module: 'snapshots', migrations });
  return db;
}
