import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '../load-addon.js';
import { SnapshotError } from './errors.js';

/** The raw binding of snapshotter/native (fs-ops.cc): calls Node's fs lacks. Errors carry `code` as fs errors do. */
export interface FsOps {
  /** llistxattr(2): the attribute names of a path, never following a final symlink. */
  listXattrs(path: string): string[];
  /** lgetxattr(2), or null when absent. */
  getXattr(path: string, name: string): Buffer | null;
  setXattr(path: string, name: string, value: Buffer): void;
  removeXattr(path: string, name: string): void;
  /** mknod(2); `mode` includes the file type bits. */
  mknod(path: string, mode: number, major: number, minor: number): void;
}

let loaded: FsOps | undefined;

/** Loads the addon once. It is built by `node-gyp rebuild --directory snapshotter/native`. */
export function fsOps(): FsOps {
  if (loaded) return loaded;
  const here = dirname(fileURLToPath(import.meta.url));
  // From source (snapshotter/) and from dist/snapshotter/.
  const candidates = [
    join(here, 'native', 'build', 'Release', 'tsbuild_fsops.node'),
    join(here, '..', '..', 'snapshotter', 'native', 'build', 'Release', 'tsbuild_fsops.node'),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new SnapshotError(
      'TSB_SNAPSHOT_NATIVE',
      `the snapshotter's native helper is not built (looked for ${candidates[0]}): run node-gyp rebuild --directory snapshotter/native`,
    );
  }
  loaded = loadAddon<FsOps>(file);
  return loaded;
}
