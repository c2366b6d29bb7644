import { readFile, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { type Digest, digestHex, isDigest } from '../digest.js';
import { ArchiveError, ImageError } from '../errors.js';
import type { Platform } from '../oci.js';
import {
  Annotation,
  type Descriptor,
  type ImageManifest,
  isNondistributable,
  layerCompression,
  MediaType,
  parseImageConfig,
  parseJson,
  parseManifest,
  serializeDocument,
} from '../oci.js';
import { hostPlatform, isAttestation, platformScore } from '../platform.js';
import { normalizeReference, parseReference } from '../reference.js';
import type { StagedBlob } from '../store/content-store.js';
import type { ImageRecord, ImageStore } from '../store/image-store.js';
import type { Lease } from '../store/leases.js';
import { type EntryBody, entryPath, readTar } from './read-tar.js';

export interface LoadOptions {
  signal?: AbortSignal;
  /** The platform to pick from multi-platform indexes (default: this machine's). */
  platform?: Platform;
  /** What to call the input in errors (a file name, `stdin`). */
  what?: string;
}

export interface LoadedImage {
  image: ImageRecord;
  /** The names the archive gave it (normalised). */
  names: string[];
  /** Names that pointed at another image before (Docker: "renaming the old one … to empty string"). */
  moved: { name: string; from: Digest }[];
}

/** Small files are kept in memory as well as staged (JSON documents). */
const KEEP = 1024 * 1024;

interface Pending {
  /** The config digest (the image ID). */
  config: string;
  manifest: Buffer;
  mediaType: string;
  /** Blobs to commit before the image is recorded (config, layers, the manifest and indexes from the archive). */
  blobs: StagedBlob[];
  /** Extra blobs the image keeps alive (nested indexes). */
  extra: Digest[];
  names: Set<string>;
}

/**
 * Loads a `docker save` archive (Docker's layout with manifest.json and per-layer
 * directories, Docker 25+'s with the OCI layout inside) or an OCI layout tar,
 * plain or gzipped, with gzip or plain layers.
 *
 * Every file is staged under tmp/ while it is read, with its digest (and, for
 * gzip data, the digest of its uncompressed content). Only after the whole
 * archive has been read and every blob, digest, diff ID and document checked
 * are the blobs renamed into the store (under a lease) and the images recorded:
 * an error leaves nothing behind but what the lease-less garbage collector takes.
 */
export async function loadArchive(
  store: ImageStore,
  input: Readable,
  options: LoadOptions = {},
): Promise<LoadedImage[]> {
  const what = options.what ?? 'the archive';
  // Errors of the input are read from input.errored once reading starts; never let one go unhandled before.
  input.on('error', () => undefined);
  return store.withLease('load', async (lease) => {
    const dir = await store.content.makeTmpDir();
    try {
      const archive = new ArchiveFiles(what);
      await readTar(
        input,
        async (header, body) => {
          const name = entryPath(header.name, what);
          if (name === '') return;
          switch (header.type) {
            case 'file':
            case 'contiguous-file':
            case undefined:
            case null:
              archive.files.set(name, await stageEntry(store, body, dir, options.signal));
              archive.links.delete(name);
              return;
            case 'symlink':
              archive.links.set(name, posix.join(posix.dirname(name), header.linkname ?? ''));
              return;
            case 'link':
              archive.links.set(name, entryPath(header.linkname ?? '', what));
              return;
            default:
              return;
          }
        },
        { what, signal: options.signal },
      );
      const pending = await plan(archive, options);
      return await commit(store, pending, lease);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

async function stageEntry(store: ImageStore, body: EntryBody, dir: string, signal?: AbortSignal): Promise<StagedBlob> {
  return store.content.stage(body, { dir, diffId: true, keep: KEEP, signal });
}

/** The regular files of an archive (staged) and its links, by normalised path. */
class ArchiveFiles {
  readonly files = new Map<string, StagedBlob>();
  readonly links = new Map<string, string>();

  constructor(readonly what: string) {}

  find(path: string): StagedBlob | undefined {
    let p = posix.normalize(path).replace(/^\.\//, '');
    for (let i = 0; i < 32; i++) {
      const f = this.files.get(p);
      if (f) return f;
      const next = this.links.get(p);
      if (next === undefined) return undefined;
      p = posix.normalize(next);
    }
    return undefined;
  }

  get(path: string, role: string): StagedBlob {
    const f = this.find(path);
    if (!f) throw new ArchiveError('TSB_ARCHIVE_CORRUPT', `${this.what} is corrupt: ${role} ${path} is missing`);
    return f;
  }

  has(path: string): boolean {
    return this.find(path) !== undefined;
  }

  async bytes(f: StagedBlob): Promise<Buffer> {
    return f.head ?? readFile(f.path);
  }

  async json(path: string, role: string): Promise<unknown> {
    return parseJson(await this.bytes(this.get(path, role)), `${role} ${path}`);
  }

  /** A blob of the OCI layout by descriptor, its content checked against the descriptor. */
  blob(d: Descriptor, role: string): StagedBlob | undefined {
    if (!isDigest(d.digest)) {
      throw new ImageError('TSB_IMAGE_UNSUPPORTED', `${role}: unsupported digest ${d.digest}`);
    }
    const f = this.find(`blobs/sha256/${digestHex(d.digest)}`);
    if (!f) return undefined;
    if (f.digest !== d.digest) {
      throw new ImageError(
        'TSB_IMAGE_DIGEST_MISMATCH',
        `${this.what}: blob ${d.digest} (${role}) has the content of ${f.digest}`,
      );
    }
    if (f.size !== d.size) {
      throw new ImageError(
        'TSB_IMAGE_SIZE_MISMATCH',
        `${this.what}: blob ${d.digest} (${role}) has ${f.size} bytes, the descriptor says ${d.size}`,
      );
    }
    return f;
  }

  /** Every file under blobs/sha256 must hash to its name. */
  verifyBlobs(): void {
    for (const [path, f] of this.files) {
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
      if (m && f.digest !== `sha256:${m[1]}`) {
        throw new ImageError('TSB_IMAGE_DIGEST_MISMATCH', `${this.what}: ${path} has the content of ${f.digest}`);
      }
    }
  }
}

async function plan(archive: ArchiveFiles, options: LoadOptions): Promise<Pending[]> {
  const hasIndex = archive.has('index.json');
  const hasManifestJson = archive.has('manifest.json');
  if (hasIndex && (archive.has('oci-layout') || !hasManifestJson)) {
    const layout = (await archive.json('oci-layout', 'layout file')) as { imageLayoutVersion?: unknown };
    if (typeof layout !== 'object' || layout === null || typeof layout.imageLayoutVersion !== 'string') {
      throw new ImageError('TSB_IMAGE_INVALID_INDEX', `invalid oci-layout: imageLayoutVersion: expected a string`);
    }
    if (!layout.imageLayoutVersion.startsWith('1.')) {
      throw new ArchiveError(
        'TSB_ARCHIVE_UNSUPPORTED',
        `${archive.what}: unsupported OCI layout version ${layout.imageLayoutVersion}`,
      );
    }
    archive.verifyBlobs();
    const pending = await planLayout(archive, options);
    if (hasManifestJson) await addDockerNames(archive, pending);
    return pending;
  }
  if (hasManifestJson) {
    archive.verifyBlobs();
    return planDockerArchive(archive);
  }
  if (archive.has('repositories')) {
    throw new ArchiveError(
      'TSB_ARCHIVE_UNSUPPORTED',
      `${archive.what} has no manifest.json: archives of docker before 1.10 are not supported`,
    );
  }
  throw new ArchiveError(
    'TSB_ARCHIVE_CORRUPT',
    `${archive.what} is not an image archive: it has neither index.json nor manifest.json`,
  );
}

// ---- OCI layout ---------------------------------------------------------------------------------

async function planLayout(archive: ArchiveFiles, options: LoadOptions): Promise<Pending[]> {
  const indexFile = archive.get('index.json', 'index');
  const parsed = parseManifest(await archive.bytes(indexFile), { what: 'index.json' });
  if (parsed.kind !== 'index') {
    throw new ImageError('TSB_IMAGE_INVALID_INDEX', 'invalid index.json: it is an image manifest, not an index');
  }
  const byDigest = new Map<string, Pending>();
  for (const [i, d] of parsed.index.manifests.entries()) {
    if (isAttestation(d)) continue;
    const pending = await planDescriptor(archive, d, `index.json manifests[${i}]`, [], options, 0);
    const key = pending.blobs[0]?.digest as string;
    const target = byDigest.get(key) ?? pending;
    byDigest.set(key, target);
    const name = nameFromAnnotations(d.annotations);
    if (name) target.names.add(name);
  }
  return [...byDigest.values()];
}

/** Follows a descriptor (an index: the platform's manifest) down to an image manifest. */
async function planDescriptor(
  archive: ArchiveFiles,
  d: Descriptor,
  role: string,
  parents: StagedBlob[],
  options: LoadOptions,
  depth: number,
): Promise<Pending> {
  if (depth > 4) throw new ImageError('TSB_IMAGE_INVALID_INDEX', `${role}: indexes nested too deeply`);
  const f = archive.blob(d, role);
  if (!f)
    throw new ArchiveError('TSB_ARCHIVE_CORRUPT', `${archive.what} is corrupt: ${role} blob ${d.digest} is missing`);
  const bytes = await archive.bytes(f);
  const parsed = parseManifest(bytes, { mediaType: d.mediaType, what: `${role} (${d.digest})` });
  if (parsed.kind === 'index') {
    const want = options.platform ?? hostPlatform();
    let best: Descriptor | undefined;
    let bestScore = 0;
    const images = parsed.index.manifests.filter((m) => !isAttestation(m));
    for (const m of images) {
      if (!archive.find(`blobs/sha256/${digestHex(m.digest)}`)) continue;
      const score = m.platform ? platformScore(want, m.platform) : images.length === 1 ? 1 : 0;
      if (score > bestScore) {
        best = m;
        bestScore = score;
      }
    }
    if (!best) {
      throw new ImageError(
        'TSB_IMAGE_NO_MATCHING_PLATFORM',
        `${role}: the archive holds no manifest for ${[want.os, want.architecture, want.variant].filter(Boolean).join('/')}`,
      );
    }
    return planDescriptor(archive, best, `${role} → ${best.digest}`, [...parents, f], options, depth + 1);
  }
  const pending = await planManifest(archive, parsed.manifest, role);
  return {
    config: parsed.manifest.config.digest,
    manifest: bytes,
    mediaType: parsed.mediaType,
    blobs: [f, ...pending.blobs, ...parents],
    extra: parents.map((p) => p.digest),
    names: new Set(),
  };
}

async function planManifest(
  archive: ArchiveFiles,
  manifest: ImageManifest,
  role: string,
): Promise<{ blobs: StagedBlob[] }> {
  const configFile = archive.blob(manifest.config, `${role} config`);
  if (!configFile) {
    throw new ArchiveError(
      'TSB_ARCHIVE_CORRUPT',
      `${archive.what} is corrupt: the config ${manifest.config.digest} of ${role} is missing`,
    );
  }
  const config = parseImageConfig(await archive.bytes(configFile), `image config ${configFile.digest}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageError(
      'TSB_IMAGE_INVALID_CONFIG',
      `invalid image config ${configFile.digest}: rootfs.diff_ids has ${diffIds.length} entries but the manifest has ${manifest.layers.length} layers`,
    );
  }
  const blobs: StagedBlob[] = [configFile];
  for (const [i, l] of manifest.layers.entries()) {
    const compression = layerCompression(l.mediaType);
    if (compression === undefined) {
      throw new ImageError(
        'TSB_IMAGE_UNKNOWN_MEDIA_TYPE',
        `${role}: layers[${i}]: unknown layer media type ${l.mediaType}`,
      );
    }
    const f = archive.blob(l, `${role} layers[${i}]`);
    if (!f) {
      if (isNondistributable(l.mediaType)) continue;
      throw new ArchiveError(
        'TSB_ARCHIVE_CORRUPT',
        `${archive.what} is corrupt: layer ${l.digest} of ${role} is missing`,
      );
    }
    checkDiffId(archive, f, compression, diffIds[i] as string, `${role} layers[${i}]`);
    blobs.push(f);
  }
  return { blobs };
}

function checkDiffId(archive: ArchiveFiles, f: StagedBlob, compression: string, diffId: string, role: string): void {
  let actual: string | undefined;
  if (compression === 'none') {
    if (f.gzip) {
      throw new ImageError(
        'TSB_IMAGE_DIGEST_MISMATCH',
        `${archive.what}: ${role} is gzip data but declared uncompressed`,
      );
    }
    actual = f.digest;
  } else if (compression === 'gzip') {
    if (!f.gzip) {
      throw new ArchiveError(
        'TSB_ARCHIVE_CORRUPT',
        `${archive.what} is corrupt: ${role} (${f.digest}) is not gzip data`,
      );
    }
    if (f.diffError) {
      throw new ArchiveError(
        'TSB_ARCHIVE_CORRUPT',
        `${archive.what} is corrupt: ${role} (${f.digest}) has bad gzip data: ${f.diffError.message.toLowerCase()}`,
      );
    }
    actual = f.diffId;
  } else {
    return; // zstd: checked when unpacked
  }
  if (actual !== diffId) {
    throw new ImageError(
      'TSB_IMAGE_DIGEST_MISMATCH',
      `${archive.what}: ${role} has diff ID ${actual}, but the config says ${diffId}`,
    );
  }
}

function nameFromAnnotations(a: Record<string, string> | undefined): string | undefined {
  const full = a?.[Annotation.containerdImageName];
  const ref = a?.[Annotation.refName];
  for (const candidate of [full, ref?.includes('/') || ref?.includes(':') ? ref : undefined]) {
    if (candidate === undefined) continue;
    try {
      const r = parseReference(candidate);
      if (r.digest === undefined) return normalizeReference(candidate);
    } catch {
      // A ref.name that is only a tag or not a reference names nothing.
    }
  }
  return undefined;
}

// ---- Docker's manifest.json ---------------------------------------------------------------------

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  LayerSources?: Record<string, Descriptor>;
}

async function dockerManifest(archive: ArchiveFiles): Promise<DockerManifestEntry[]> {
  const value = await archive.json('manifest.json', 'manifest list');
  const fail = (field: string, message: string): never => {
    throw new ImageError('TSB_IMAGE_INVALID_MANIFEST', `invalid manifest.json: ${field}: ${message}`);
  };
  if (!Array.isArray(value)) fail('', 'expected an array');
  const entries = value as unknown[];
  entries.forEach((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) fail(`[${i}]`, 'expected an object');
    const o = e as Record<string, unknown>;
    if (typeof o.Config !== 'string') fail(`[${i}].Config`, 'expected a string');
    if (o.RepoTags !== null && o.RepoTags !== undefined) {
      if (!Array.isArray(o.RepoTags)) fail(`[${i}].RepoTags`, 'expected an array');
      (o.RepoTags as unknown[]).forEach((t, j) => {
        if (typeof t !== 'string') fail(`[${i}].RepoTags[${j}]`, 'expected a string');
      });
    }
    if (!Array.isArray(o.Layers)) fail(`[${i}].Layers`, 'expected an array');
    (o.Layers as unknown[]).forEach((l, j) => {
      if (typeof l !== 'string') fail(`[${i}].Layers[${j}]`, 'expected a string');
    });
    if (o.LayerSources !== undefined && (typeof o.LayerSources !== 'object' || o.LayerSources === null)) {
      fail(`[${i}].LayerSources`, 'expected an object');
    }
  });
  return entries as DockerManifestEntry[];
}

async function planDockerArchive(archive: ArchiveFiles): Promise<Pending[]> {
  const out: Pending[] = [];
  for (const [i, entry] of (await dockerManifest(archive)).entries()) {
    const role = `manifest.json[${i}]`;
    const configFile = archive.get(entry.Config, `${role} config`);
    const config = parseImageConfig(await archive.bytes(configFile), `image config ${entry.Config}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== entry.Layers.length) {
      throw new ImageError(
        'TSB_IMAGE_INVALID_CONFIG',
        `invalid image config ${entry.Config}: rootfs.diff_ids has ${diffIds.length} entries but ${role} has ${entry.Layers.length} layers`,
      );
    }
    const blobs: StagedBlob[] = [configFile];
    const layers: Descriptor[] = [];
    for (const [j, path] of entry.Layers.entries()) {
      const diffId = diffIds[j] as string;
      const source = entry.LayerSources?.[diffId];
      const f = archive.find(path);
      if (!f && source && isNondistributable(source.mediaType)) {
        layers.push(source);
        continue;
      }
      if (!f) throw new ArchiveError('TSB_ARCHIVE_CORRUPT', `${archive.what} is corrupt: layer ${path} is missing`);
      const compression = f.gzip ? 'gzip' : isZstd(f) ? 'zstd' : 'none';
      if (compression === 'zstd') {
        throw new ImageError(
          'TSB_IMAGE_UNSUPPORTED',
          `${archive.what}: layer ${path} is zstd data, which tsbuild cannot verify`,
        );
      }
      checkDiffId(archive, f, compression, diffId, `layer ${path}`);
      blobs.push(f);
      layers.push({
        mediaType: compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayer,
        digest: f.digest,
        size: f.size,
      });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configFile.digest, size: configFile.size },
      layers,
    };
    const names = new Set<string>();
    for (const tag of entry.RepoTags ?? []) names.add(normalizeReference(tag));
    out.push({
      config: configFile.digest,
      manifest: serializeDocument(manifest),
      mediaType: MediaType.ociManifest,
      blobs,
      extra: [],
      names,
    });
  }
  return out;
}

function isZstd(f: StagedBlob): boolean {
  const h = f.head;
  return h !== undefined && h[0] === 0x28 && h[1] === 0xb5 && h[2] === 0x2f && h[3] === 0xfd;
}

/** Docker 25+ archives: names from manifest.json's RepoTags, matched to the OCI images by config. */
async function addDockerNames(archive: ArchiveFiles, pending: Pending[]): Promise<void> {
  const entries = await dockerManifest(archive);
  for (const entry of entries) {
    const config = archive.find(entry.Config);
    if (!config) continue;
    const match = pending.find((p) => p.config === config.digest);
    for (const tag of entry.RepoTags ?? []) match?.names.add(normalizeReference(tag));
  }
}

// ---- commit -------------------------------------------------------------------------------------

async function commit(store: ImageStore, pending: Pending[], lease: Lease): Promise<LoadedImage[]> {
  const committed = new Set<string>();
  for (const p of pending) {
    for (const b of p.blobs) {
      if (committed.has(b.digest)) continue;
      committed.add(b.digest);
      await store.commitBlob(b, lease);
    }
  }
  const loaded: LoadedImage[] = [];
  for (const p of pending) {
    const names = [...p.names];
    const moved: LoadedImage['moved'] = [];
    for (const name of names) {
      const before = store.tryResolve(name);
      if (before && before.via === 'name' && before.image.id !== p.config) moved.push({ name, from: before.image.id });
    }
    const image = await store.addImage({ manifest: p.manifest, mediaType: p.mediaType, names, blobs: p.extra, lease });
    loaded.push({ image, names, moved });
  }
  return loaded;
}
