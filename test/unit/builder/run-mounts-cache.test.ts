import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireCacheMount,
  type CacheMountRequest,
  cacheDirName,
  cacheInstanceDir,
} from '../../../builder/ops/cache-mount.js';
import { closeDatabases, type Database, openDatabase } from '../../../metadata/index.js';

let dir: string;
let mounts: string;
let db: Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-cache-mount-'));
  mounts = join(dir, 'cache', 'mounts');
  db = openDatabase(join(dir, 'tsbuild.db'));
});
afterEach(() => {
  closeDatabases();
  rmSync(dir, { recursive: true, force: true });
});

function req(sharing: CacheMountRequest['sharing'], id = 'npm'): CacheMountRequest {
  return { id, sharing, mode: 0o755, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** Whether the promise is still pending after the event loop has had a few turns. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return !settled;
}

describe('cache mount sharing', () => {
  it('a cache directory is made once, with its mode, and is the main one', async () => {
    const lease = await acquireCacheMount(db, mounts, { ...req('shared'), mode: 0o710 });
    expect(lease.dir).toBe(join(mounts, cacheDirName('npm')));
    expect(lease.instance).toBe(0);
    expect(statSync(lease.dir).mode & 0o7777).toBe(0o710);
    lease.release();
  });

  it('shared users share one directory', async () => {
    const a = await acquireCacheMount(db, mounts, req('shared'));
    const b = await acquireCacheMount(db, mounts, req('shared'));
    expect(b.dir).toBe(a.dir);
    a.release();
    b.release();
  });

  it('a concurrent private user gets a directory of its own, kept for later', async () => {
    const a = await acquireCacheMount(db, mounts, req('private'));
    const b = await acquireCacheMount(db, mounts, req('private'));
    expect(b.dir).not.toBe(a.dir);
    expect(b.dir).toBe(cacheInstanceDir(mounts, cacheDirName('npm'), 1));
    a.release();
    b.release();
    expect(existsSync(b.dir)).toBe(true);
    // Without concurrency, the main directory again.
    const c = await acquireCacheMount(db, mounts, req('private'));
    expect(c.dir).toBe(a.dir);
    c.release();
  });

  it('a private user does not share with a shared user', async () => {
    const a = await acquireCacheMount(db, mounts, req('shared'));
    const b = await acquireCacheMount(db, mounts, req('private'));
    expect(b.dir).not.toBe(a.dir);
    a.release();
    b.release();
  });

  it('a locked user waits until the holder releases the directory', async () => {
    const a = await acquireCacheMount(db, mounts, req('locked'));
    const second = acquireCacheMount(db, mounts, req('locked'));
    expect(await pending(second)).toBe(true);
    a.release();
    const b = await second;
    expect(b.dir).toBe(a.dir);
    b.release();
  });

  it('a locked user waits for shared users, and shared users then get another directory', async () => {
    const s = await acquireCacheMount(db, mounts, req('shared'));
    const locked = acquireCacheMount(db, mounts, req('locked'));
    expect(await pending(locked)).toBe(true);
    s.release();
    const l = await locked;
    expect(l.dir).toBe(s.dir);
    // While it is locked, a shared user is not made to wait: it gets a directory of its own, as BuildKit does.
    const s2 = await acquireCacheMount(db, mounts, req('shared'));
    expect(s2.dir).not.toBe(l.dir);
    l.release();
    s2.release();
  });

  it('different ids do not wait for each other', async () => {
    const a = await acquireCacheMount(db, mounts, req('locked', 'one'));
    const b = await acquireCacheMount(db, mounts, req('locked', 'two'));
    expect(b.dir).not.toBe(a.dir);
    a.release();
    b.release();
  });

  it('a holder of a process that is gone does not count', async () => {
    const a = await acquireCacheMount(db, mounts, req('locked'));
    // As if a killed process still held it: the same row under a pid that no longer runs.
    db.prepare("UPDATE cache_mount_holders SET pid = 2147483646, start = '1'").run();
    const b = await acquireCacheMount(db, mounts, req('locked'));
    expect(b.dir).toBe(a.dir);
    b.release();
    a.release();
  });

  it('an aborted wait fails as canceled and leaves no holder behind', async () => {
    const a = await acquireCacheMount(db, mounts, req('locked'));
    const abort = new AbortController();
    const second = acquireCacheMount(db, mounts, req('locked'), { signal: abort.signal });
    expect(await pending(second)).toBe(true);
    abort.abort();
    await expect(second).rejects.toMatchObject({ code: 'TSB_BUILD_CANCELED' });
    a.release();
    expect(db.prepare('SELECT COUNT(*) AS n FROM cache_mount_holders').get()).toEqual({ n: 0 });
  });

  it('release is idempotent', async () => {
    const a = await acquireCacheMount(db, mounts, req('locked'));
    const b = await acquireCacheMount(db, mounts, req('shared'));
    a.release();
    a.release();
    const c = acquireCacheMount(db, mounts, req('locked'));
    // b (on another directory) does not hold a's directory: c gets a's.
    expect((await c).dir).toBe(a.dir);
    b.release();
    (await c).release();
  });
});
