import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { asStore } from './_store.js';
import { decompressed, sha256Hex } from './compression.js';
import { LayerError, SnapshotError, throwIfAborted } from './errors.js';
import { type ExtractLimits, Extractor } from './extract.js';
import { ownerLabels } from './snapshot-store.js';
import { TarReader } from './tar/reader.js';
import type { Snapshotter } from './types.js';

export interface ApplyLayerOptions {
  /** The committed snapshot to make (a chain ID, usually). */
  name: string;
  /** The committed snapshot it sits on. */
  parent?: string;
  /** The layer blob: gzip (detected by its magic), zstd (Node ≥ 22.15) or a plain tar. */
  layer: Readable | AsyncIterable<Buffer>;
  /** The expected diff ID: a mismatch fails with TSB_LAYER_DIGEST and leaves nothing behind. */
  diffId?: string;
  /** Device nodes are skipped, ownership is not set and setuid/setgid bits are dropped. Default: not running as root. */
  rootless?: boolean;
  limits?: Partial<ExtractLimits>;
  signal?: AbortSignal;
}

/**
 * Unpacks a layer on top of `parent` and commits it as `name`. Idempotent: when
 * `name` exists the layer is not read (the stream is destroyed) and the recorded
 * diff ID is returned. Concurrent applies of the same name in several processes
 * all succeed; one of them commits.
 *
 * Returns the diff ID (sha256 of the uncompressed tar) and the tar's size in bytes.
 */
export async function applyLayer(sn: Snapshotter, o: ApplyLayerOptions): Promise<{ diffId: string; size: number }> {
  const store = asStore(sn);
  throwIfAborted(o.signal);
  const existing = await existingLayer(sn, o);
  if (existing) return existing;

  const key = `apply-${randomUUID()}`;
  await sn.prepare(key, o.parent, { labels: ownerLabels() });
  let result: { diffId: string; size: number };
  try {
    const paths = store.paths(key);
    const hash = sha256Hex();
    const reader = new TarReader(decompressed(o.layer), { onData: (c) => hash.update(c) });
    const extractor = new Extractor({
      root: paths.fs,
      lowers: store.driver === 'overlay' ? paths.lowers : [],
      whiteouts: store.driver === 'overlay' ? 'overlay' : 'delete',
      rootless: o.rootless ?? process.getuid?.() !== 0,
      limits: o.limits,
      signal: o.signal,
    });
    await extractor.run(reader);
    result = { diffId: `sha256:${hash.digest('hex')}`, size: reader.bytes };
    if (o.diffId && o.diffId !== result.diffId) {
      throw new LayerError('TSB_LAYER_DIGEST', `layer content is ${result.diffId}, expected diff ID ${o.diffId}`);
    }
    throwIfAborted(o.signal);
    try {
      store.commitSync(o.name, key, undefined, result);
    } catch (err) {
      if (!(err instanceof SnapshotError && err.code === 'TSB_SNAPSHOT_EXISTS')) throw err;
      // Another process committed the same layer first.
      await sn.remove(key).catch(() => undefined);
      return store.layerOf(o.name) ?? result;
    }
  } catch (err) {
    await sn.remove(key).catch(() => undefined);
    destroy(o.layer);
    throw err;
  }
  return result;
}

async function existingLayer(
  sn: Snapshotter,
  o: ApplyLayerOptions,
): Promise<{ diffId: string; size: number } | undefined> {
  const store = asStore(sn);
  let info: Awaited<ReturnType<Snapshotter['stat']>>;
  try {
    info = await sn.stat(o.name);
  } catch (err) {
    if (err instanceof SnapshotError && err.code === 'TSB_SNAPSHOT_NOT_FOUND') return undefined;
    throw err;
  }
  if (info.kind !== 'committed') {
    throw new SnapshotError('TSB_SNAPSHOT_EXISTS', `snapshot ${o.name} exists and is ${info.kind}`);
  }
  const recorded = store.layerOf(o.name);
  if (recorded) {
    destroy(o.layer);
    return recorded;
  }
  // Committed by other means: read the layer only to report its diff ID.
  const hash = sha256Hex();
  let size = 0;
  for await (const c of decompressed(o.layer)) {
    hash.update(c);
    size += c.length;
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

function destroy(layer: Readable | AsyncIterable<Buffer>): void {
  const d = (layer as Readable).destroy;
  if (typeof d === 'function') d.call(layer);
}
