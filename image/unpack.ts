import { applyLayer, type Snapshotter } from '../snapshotter/index.js';
import type { Digest } from './digest.js';
import { ImageError } from './errors.js';
import type { ImageRecord, ImageStore } from './store/image-store.js';

export interface UnpackOptions {
  signal?: AbortSignal;
  /** Refuse device nodes (rootless stores). */
  rootless?: boolean;
}

/**
 * Unpacks an image's layers into committed snapshots named by chain ID, applying
 * only the missing ones, and returns the top snapshot's name (`undefined` for an
 * image without layers). Each applied layer's diff ID is checked against the
 * config; a mismatch removes the snapshot and throws `TSB_IMAGE_DIGEST_MISMATCH`.
 */
export async function unpackImage(
  store: ImageStore,
  image: ImageRecord,
  sn: Snapshotter,
  options: UnpackOptions = {},
): Promise<string | undefined> {
  const layers = store.layers(image);
  return store.withLease('unpack', async (lease) => {
    lease.add('image', image.digest);
    let parent: string | undefined;
    for (const layer of layers) {
      lease.add('snapshot', layer.chainId);
      if (!(await isCommitted(sn, layer.chainId))) {
        if (!store.content.has(layer.digest)) {
          throw new ImageError(
            'TSB_IMAGE_BLOB_NOT_FOUND',
            `layer ${layer.position} (${layer.digest}) of ${image.digest} is not in the store (a non-distributable layer)`,
          );
        }
        let applied: { diffId: string };
        try {
          applied = await applyLayer(sn, {
            name: layer.chainId,
            parent,
            layer: store.content.createReadStream(layer.digest),
            diffId: layer.diffId,
            rootless: options.rootless,
            signal: options.signal,
          });
        } catch (err) {
          if ((err as { code?: string }).code !== 'TSB_LAYER_DIGEST') throw err;
          throw new ImageError(
            'TSB_IMAGE_DIGEST_MISMATCH',
            `layer ${layer.position} (${layer.digest}) does not unpack to its diff ID ${layer.diffId}`,
            { cause: err },
          );
        }
        if (applied.diffId !== layer.diffId) {
          throw new ImageError(
            'TSB_IMAGE_DIGEST_MISMATCH',
            `layer ${layer.position} (${layer.digest}) unpacks to ${applied.diffId}, but the config says ${layer.diffId}`,
          );
        }
      }
      parent = layer.chainId;
    }
    return parent;
  });
}

async function isCommitted(sn: Snapshotter, name: Digest): Promise<boolean> {
  try {
    return (await sn.stat(name)).kind === 'committed';
  } catch (err) {
    if ((err as { code?: string }).code === 'TSB_SNAPSHOT_NOT_FOUND') return false;
    throw err;
  }
}
