/**
 * Archives: docker-archive and OCI layout (load, save), rootfs tars (import,
 * export). The tar code loads on first use, so commands that never touch an
 * archive (a cached build, `run`) do not pay for it.
 */
import type * as Load from './load.js';
import type * as Rootfs from './rootfs.js';
import type * as Save from './save.js';

export type { LoadedImage, LoadOptions } from './load.js';
export type { ImportOptions, ImportSource } from './rootfs.js';
export type { SaveOptions } from './save.js';

export async function loadArchive(...a: Parameters<typeof Load.loadArchive>): ReturnType<typeof Load.loadArchive> {
  return (await import('./load.js')).loadArchive(...a);
}

export async function importRootfs(
  ...a: Parameters<typeof Rootfs.importRootfs>
): ReturnType<typeof Rootfs.importRootfs> {
  return (await import('./rootfs.js')).importRootfs(...a);
}

export async function exportRootfs(
  ...a: Parameters<typeof Rootfs.exportRootfs>
): ReturnType<typeof Rootfs.exportRootfs> {
  return (await import('./rootfs.js')).exportRootfs(...a);
}

export async function saveArchive(...a: Parameters<typeof Save.saveArchive>): ReturnType<typeof Save.saveArchive> {
  return (await import('./save.js')).saveArchive(...a);
}
