/**
 * The image store without archives, unpacking or garbage collection: what a
 * container start needs (find an image, read its config and layers, lease it),
 * loaded without the tar and compression code. `tsbuild run` loads this instead
 * of index.ts, which re-exports all of it.
 */
import { join } from 'node:path';
import { migrate, openDatabase, resolveRoot } from '../metadata/index.js';
import { ImageStore } from './store/image-store.js';
import { imageSchema } from './store/schema.js';

export { ImageError } from './errors.js';
export type { ImageConfig } from './oci.js';
export { type ImageRecord, ImageStore, type LayerRecord, type ResolvedImage } from './store/image-store.js';
export type { Lease } from './store/leases.js';

/**
 * Opens the store under `root` (default `resolveRoot()`) with its schema
 * migrated, and nothing more: none of `openImageStore`'s crash-recovery scans
 * (stale leases, temporary files of dead processes). Readers ignore stale leases
 * anyway, and the scans run with every other command, `prune` and gc.
 */
export function openImageStoreQuick(root?: string): ImageStore {
  const dir = resolveRoot(root);
  const db = openDatabase(join(dir, 'tsbuild.db'));
  migrate(db, imageSchema);
  return new ImageStore(dir, db);
}
