import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOwnerAlive, ownerToken, parseOwnerToken } from '../metadata/index.js';
import { mountsBelow, unmountAll } from './mount.js';

/**
 * Where processes put their mount points (a build's COPY targets, views of
 * stages, context overlays, secret tmpfs): outside every store, so that
 * removing a dead process's temporary files under a store never reaches
 * through a mount. `/run/tsbuild/<kind>` for root (a tmpfs: nothing survives
 * a reboot), else a directory of the user's under the system's tmp.
 */
export function mountDirBase(kind: string): string {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? join('/run/tsbuild', kind) : join(tmpdir(), `tsbuild-${uid}-${kind}`);
}

/**
 * A fresh directory for this process's mount points under `mountDirBase(kind)`,
 * named `<pid>.<start>-<random>` so that `cleanupMountDirs` can tell when its
 * process is gone. Stale ones are removed first.
 */
export async function makeMountDir(kind: string): Promise<string> {
  await cleanupMountDirs(kind);
  const dir = join(mountDirBase(kind), `${ownerToken()}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Unmounts and removes the mount directories of processes that are gone (a
 * kill -9 leaves their overlays, binds and tmpfs mounted). A directory that
 * still has a mount after unmounting is left alone rather than emptied through
 * it. Returns how many were removed.
 */
export async function cleanupMountDirs(kind: string): Promise<number> {
  const base = mountDirBase(kind);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  let removed = 0;
  for (const name of readdirSync(base)) {
    const owner = parseOwnerToken(name.split('-')[0] as string);
    if (!owner || isOwnerAlive(owner)) continue;
    const dir = join(base, name);
    try {
      await unmountAll(dir);
    } catch {
      // Another process may be cleaning the same directory: look again below.
    }
    if (mountsBelow(dir).length > 0) continue;
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    removed++;
  }
  return removed;
}
