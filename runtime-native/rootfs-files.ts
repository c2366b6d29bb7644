import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { OverlayRootfs } from './run-spec.js';

/** The layer directories of a rootfs, top first. */
export function rootfsLayers(rootfs: string | OverlayRootfs): string[] {
  if (typeof rootfs === 'string') return [rootfs];
  return [...(rootfs.upperdir ? [rootfs.upperdir] : []), ...rootfs.lowerdirs];
}

/** Finds `rel` (no symlinks in it) in the layers, top first; a whiteout (char 0:0) hides lower layers. */
function findInLayers(layers: string[], rel: string): { path: string; symlink: boolean; dir: boolean } | undefined {
  for (const layer of layers) {
    const p = join(layer, rel);
    try {
      // Missing is the common case (an empty upper layer): no exception for it.
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) return undefined;
      return { path: p, symlink: st.isSymbolicLink(), dir: st.isDirectory() };
    } catch {
      // not in this layer (ENOTDIR: a file where a directory was looked for)
    }
  }
  return undefined;
}

/**
 * Reads a file of the container's filesystem (e.g. /etc/passwd) before it runs.
 * Symlinks are resolved inside the rootfs, never on the host: an absolute target or
 * `..` above / stays in the container's root. Returns undefined when missing.
 */
export function readRootfsFile(rootfs: string | OverlayRootfs, path: string): string | undefined {
  const layers = rootfsLayers(rootfs);
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      done.pop();
      continue;
    }
    const rel = [...done, comp].join('/');
    const found = findInLayers(layers, rel);
    if (!found) return undefined;
    if (found.symlink) {
      if (++hops > 40) return undefined;
      const target = readlinkSync(found.path);
      const parts = target.split('/').filter((c) => c !== '' && c !== '.');
      if (target.startsWith('/')) done.length = 0;
      pending = [...parts, ...pending];
      continue;
    }
    if (pending.length > 0 && !found.dir) return undefined;
    done.push(comp);
  }
  const found = findInLayers(layers, done.join('/'));
  if (!found || found.dir || found.symlink) return undefined;
  try {
    return readFileSync(found.path, 'utf8');
  } catch {
    return undefined;
  }
}
