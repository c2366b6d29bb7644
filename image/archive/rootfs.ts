import { createReadStream, statSync } from 'node:fs';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { exportFlattened, type Snapshotter, tarDirectory } from '../../snapshotter/index.js';
import type { Digest } from '../digest.js';
import { ArchiveError, ImageError } from '../errors.js';
import { type ImageConfig, type ImageManifest, MediaType, type Platform, serializeDocument } from '../oci.js';
import { hostPlatform } from '../platform.js';
import type { StagedBlob } from '../store/content-store.js';
import type { ImageRecord, ImageStore } from '../store/image-store.js';
import type { Lease } from '../store/leases.js';
import { unpackImage } from '../unpack.js';
import { readTar } from './read-tar.js';
import { TarWriter } from './write-tar.js';

export interface ImportOptions {
  /** A name for the image. */
  reference?: string;
  /** The history comment (default: `Imported from <source>`). */
  message?: string;
  platform?: Platform;
  /** Changes to the config (Docker's `--change`, already parsed). */
  config?: ImageConfig['config'];
  signal?: AbortSignal;
}

export type ImportSource =
  | { kind: 'directory'; path: string }
  | { kind: 'file'; path: string }
  | { kind: 'stream'; stream: Readable; what: string };

/**
 * `tsbuild import`: a root filesystem (a tar, plain or gzipped, or a directory)
 * becomes a one-layer image. A directory is written as a gzip layer; a tar is
 * stored as given after checking that it is a readable tar.
 */
export async function importRootfs(
  store: ImageStore,
  source: ImportSource,
  options: ImportOptions = {},
): Promise<ImageRecord> {
  return store.withLease('import', async (lease) => {
    const layer =
      source.kind === 'directory'
        ? await layerFromDirectory(store, source.path, lease, options)
        : await layerFromTar(store, source, lease, options);
    const platform = options.platform ?? hostPlatform();
    const created = new Date().toISOString();
    const what = source.kind === 'stream' ? source.what : source.path;
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: options.config ?? {},
      created,
      history: [{ created, comment: options.message ?? `Imported from ${what}` }],
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    };
    const configBytes = serializeDocument(config);
    const configBlob = await store.putBlob(configBytes, { lease });
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    };
    return store.addImage({
      manifest: serializeDocument(manifest),
      mediaType: MediaType.ociManifest,
      names: options.reference ? [options.reference] : [],
      lease,
    });
  });
}

interface Layer {
  digest: Digest;
  size: number;
  diffId: Digest;
  mediaType: string;
}

async function layerFromDirectory(
  store: ImageStore,
  dir: string,
  lease: Lease,
  options: ImportOptions,
): Promise<Layer> {
  if (!statSync(dir).isDirectory()) {
    throw new ImageError('TSB_IMAGE_UNSUPPORTED', `${dir} is not a directory`);
  }
  const pipe = new PassThrough({ highWaterMark: 1024 * 1024 });
  const staging = store.content.stage(pipe, { signal: options.signal });
  let written: { diffId: string; digest: string; size: number };
  try {
    written = await tarDirectory(dir, pipe, { compression: 'gzip', signal: options.signal });
  } catch (err) {
    pipe.destroy(err as Error);
    await staging.then((s) => store.content.discard(s)).catch(() => undefined);
    throw err;
  }
  const staged = await staging;
  if (staged.digest !== written.digest) {
    await store.content.discard(staged);
    throw new ImageError(
      'TSB_IMAGE_DIGEST_MISMATCH',
      `the layer of ${dir} was written as ${written.digest} but stored as ${staged.digest}`,
    );
  }
  await store.commitBlob(staged, lease);
  return {
    digest: staged.digest,
    size: staged.size,
    diffId: written.diffId as Digest,
    mediaType: MediaType.ociLayerGzip,
  };
}

async function layerFromTar(
  store: ImageStore,
  source: Exclude<ImportSource, { kind: 'directory' }>,
  lease: Lease,
  options: ImportOptions,
): Promise<Layer> {
  const what = source.kind === 'file' ? source.path : source.what;
  const input = source.kind === 'file' ? createReadStream(source.path) : source.stream;
  const staged: StagedBlob = await store.content.stage(input, { diffId: true, signal: options.signal });
  try {
    if (staged.gzip && staged.diffError) {
      throw new ArchiveError(
        'TSB_ARCHIVE_CORRUPT',
        `${what} is corrupt: bad gzip data: ${staged.diffError.message.toLowerCase()}`,
      );
    }
    // Read it back as a tar: a file that is no tar must not become a layer.
    let entries = 0;
    await readTar(
      createReadStream(staged.path),
      async () => {
        entries++;
      },
      { what, signal: options.signal },
    );
    if (entries === 0 && staged.size < 1024) {
      throw new ArchiveError('TSB_ARCHIVE_CORRUPT', `${what} is not a tar archive`);
    }
  } catch (err) {
    await store.content.discard(staged);
    throw err;
  }
  await store.commitBlob(staged, lease);
  return {
    digest: staged.digest,
    size: staged.size,
    diffId: staged.gzip ? (staged.diffId as Digest) : staged.digest,
    mediaType: staged.gzip ? MediaType.ociLayerGzip : MediaType.ociLayer,
  };
}

/**
 * `tsbuild export`: the merged root filesystem of an image as one plain tar.
 * The image is unpacked into snapshots first (only missing layers are applied).
 */
export async function exportRootfs(
  store: ImageStore,
  image: ImageRecord,
  sn: Snapshotter,
  out: Writable,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  await store.withLease('export', async (lease) => {
    lease.add('image', image.digest);
    const top = await unpackImage(store, image, sn, { signal: options.signal });
    if (top === undefined) {
      const tar = new TarWriter(out, options.signal);
      await tar.finish();
      return;
    }
    lease.add('snapshot', top);
    await exportFlattened(sn, top, out);
  });
}
