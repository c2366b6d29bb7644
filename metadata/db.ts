import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { TsbuildError } from '../errors.js';
import { loadAddon } from '../load-addon.js';

export type Database = BetterSqlite3.Database;

/** A module's schema: its name and its migrations in order. Migration i brings the schema to version i+1. */
export interface Schema {
  module: string;
  migrations: string[];
}

export class MetadataError extends TsbuildError {}

const open = new Map<string, Database>();

/**
 * Opens (once per process and path) the store's SQLite database: WAL, a busy
 * timeout so that several processes can share it, and foreign keys on.
 */
export function openDatabase(path: string): Database {
  const cached = open.get(path);
  if (cached?.open) return cached;
  mkdirSync(dirname(path), { recursive: true });
  let db: Database;
  try {
    // better-sqlite3 takes the loaded addon object too; its types name only a path.
    db = new BetterSqlite3(path, { timeout: 30_000, ...(nativeBinding() as { nativeBinding?: string }) });
    // Before any statement is made: see cacheStatements (no statement is ever garbage collected).
    cacheStatements(db);
    const conn = db;
    whileBusy(() => {
      // Switching to WAL takes a lock that SQLite does not wait for: ask first (it is WAL after the first open).
      // Through prepare and exec, never db.pragma(): it makes a statement per call (see cacheStatements).
      if (conn.prepare('PRAGMA journal_mode').pluck().get() !== 'wal') conn.exec('PRAGMA journal_mode = WAL');
      conn.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON');
      conn.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    });
  } catch (err) {
    throw new MetadataError(
      'TSB_METADATA_OPEN',
      `cannot open the metadata database ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  open.set(path, db);
  return db;
}

/**
 * Makes `db.prepare` return one compiled statement per SQL text: every store
 * method prepares its statements where it uses them, and compiling the same SQL
 * again on each call was most of the time a cached build spent in SQLite.
 * (No code iterates a statement while running it again, and the SQL texts are
 * constants, so sharing is safe and the cache stays small.) It also means that
 * no statement is ever garbage collected while the process runs: on Node 24,
 * better-sqlite3 12's Statement destructor aborts the process when a collection
 * runs it (its ObjectWrap removes a cleanup hook with no current environment).
 */
function cacheStatements(db: Database): void {
  const compile = db.prepare.bind(db);
  const statements = new Map<string, BetterSqlite3.Statement>();
  db.prepare = ((sql: string) => {
    let st = statements.get(sql);
    if (!st) {
      st = compile(sql);
      statements.set(sql, st);
    }
    return st;
  }) as Database['prepare'];
}

/**
 * Runs `fn` again while SQLite answers SQLITE_BUSY without waiting (lock changes
 * at open, such as another process's WAL recovery, bypass the busy timeout), for
 * up to 10 s.
 */
function whileBusy(fn: () => void): void {
  const deadline = Date.now() + 10_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      fn();
      return;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}

let addon: object | null | undefined;

/**
 * better-sqlite3 finds its addon through the `bindings` package, which probes a
 * dozen paths and reads a stack trace (~4 ms of every command that opens the
 * store): load the addon from where npm builds it, in the nearest node_modules
 * above this file (dist/metadata/, the dist/bin/ bundle), else let it search.
 */
function nativeBinding(): { nativeBinding?: object } {
  if (addon === undefined) {
    addon = null;
    const rel = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
      if (existsSync(join(dir, rel))) {
        addon = loadAddon<object>(join(dir, rel));
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
  return addon ? { nativeBinding: addon } : {};
}

/**
 * Brings one module's tables up to date. Each module owns its schema and calls
 * this when it opens the store; the migrations run in one IMMEDIATE transaction,
 * so concurrent processes migrate exactly once and a crash leaves the old version.
 */
export function migrate(db: Database, schema: Schema): void {
  const current = () =>
    (
      db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(schema.module) as
        | { version: number }
        | undefined
    )?.version ?? 0;
  if (current() === schema.migrations.length) return;
  db.transaction(() => {
    const from = current();
    if (from > schema.migrations.length) {
      throw new MetadataError(
        'TSB_METADATA_VERSION',
        `the store's ${schema.module} schema is version ${from}, newer than this tsbuild knows (${schema.migrations.length}): upgrade tsbuild`,
      );
    }
    for (let v = from; v < schema.migrations.length; v++) db.exec(schema.migrations[v] as string);
    db.prepare(
      'INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version',
    ).run(schema.module, schema.migrations.length);
  }).immediate();
}

/** Closes every database this process opened (tests, and the CLI before exit). */
export function closeDatabases(): void {
  for (const db of open.values()) if (db.open) db.close();
  open.clear();
}
