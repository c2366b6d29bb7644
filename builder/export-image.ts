import type { ImageRecord, ImageStore, Lease } from '../image/index.js';
import { sha256 } from '../image/index.js';
import type { Stage } from '../parser/index.js';
import { LAYER_MEDIA_TYPE } from './solver.js';
import type { FsState, HistoryItem } from './state.js';

const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const CONFIG_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json';
const UNCOMPRESSED_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';

export interface ExportOptions {
  store: ImageStore;
  lease: Lease;
  stage: Stage;
  state: FsState;
  labels?: Record<string, string>;
  tags?: string[];
}

/**
 * Writes the image of the target stage: the config as BuildKit's image exporter
 * writes it (top-level keys in sorted order, history with `created` times taken
 * from the cache records so that a fully cached build yields the same image ID),
 * a Docker schema 2 manifest, and the names.
 */
export async function exportImage(o: ExportOptions): Promise<{ record: ImageRecord; config: Buffer }> {
  const { stage, state } = o;
  const history = fillCreated(state.history);
  const created = history.at(-1)?.created;
  const config = { ...stage.config };
  if (o.labels && Object.keys(o.labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...o.labels };
  const image: Record<string, unknown> = {
    architecture: stage.platform.architecture,
    ...(stage.author !== undefined ? { author: stage.author } : {}),
    config,
    ...(created !== undefined ? { created } : {}),
    history,
    os: stage.platform.os,
    rootfs: { type: 'layers', diff_ids: state.layers.map((l) => l.diffId) },
    ...(stage.platform.variant !== undefined ? { variant: stage.platform.variant } : {}),
  };
  const configBytes = Buffer.from(JSON.stringify(image));
  const configDigest = sha256(configBytes);
  // A cached rebuild makes the same config: it is in the store already.
  o.lease.add('blob', configDigest);
  if (o.store.content.size(configDigest) !== configBytes.length) {
    await o.store.putBlob(configBytes, { lease: o.lease, expected: { digest: configDigest } });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: { mediaType: CONFIG_MEDIA_TYPE, size: configBytes.length, digest: configDigest },
    layers: state.layers.map((l) => ({ mediaType: dockerLayerType(l.mediaType), size: l.size, digest: l.digest })),
  };
  const record = await o.store.addImage({
    manifest: Buffer.from(JSON.stringify(manifest)),
    mediaType: MANIFEST_MEDIA_TYPE,
    names: o.tags,
    lease: o.lease,
  });
  return { record, config: configBytes };
}

/** Docker's media type for a layer of any origin (OCI or Docker). */
function dockerLayerType(mediaType: string): string {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return LAYER_MEDIA_TYPE;
  if (mediaType.endsWith('.tar') || mediaType === 'application/vnd.oci.image.layer.v1.tar') return UNCOMPRESSED_LAYER;
  return mediaType;
}

/** History entries without a time take the time of the entry before them (or after, at the start). */
function fillCreated(history: HistoryItem[]): HistoryItem[] {
  let last = history.find((h) => h.created !== undefined)?.created;
  return history.map((h) => {
    last = h.created ?? last;
    const out: HistoryItem = {};
    if (last !== undefined) out.created = last;
    if (h.created_by !== undefined) out.created_by = h.created_by;
    if (h.author !== undefined) out.author = h.author;
    if (h.comment !== undefined) out.comment = h.comment;
    if (h.empty_layer) out.empty_layer = true;
    return out;
  });
}
