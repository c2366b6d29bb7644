import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type Database, migrate, openDatabase, resolveRoot } from '../../metadata/index.js';
import type { Snapshotter } from '../../snapshotter/index.js';
import { assertDigest, chainIds, type Digest, isDigest, sha256, shortId } from '../digest.js';
import { ImageError } from '../errors.js';
import type { GcOptions, GcResult } from '../gc.js';
import {
  configPlatform,
  type ImageConfig,
  type ImageManifest,
  isNondistributable,
  layerCompression,
  parseImageConfig,
  parseManifest,
} from '../oci.js';
import { formatPlatform } from '../platform.js';
import {
  familiarRepository,
  familiarString,
  formatReference,
  isReference,
  parseReference,
  type Reference,
  repositoryName,
  withDefaultTag,
} from '../reference.js';
import type { UnpackOptions } from '../unpack.js';
import { ContentStore, type StagedBlob, type StageOptions } from './content-store.js';
import { type Lease, LeaseManager } from './leases.js';
import { imageSchema } from './schema.js';

/** An image in the store: one single-platform manifest and what points at it. */
export interface ImageRecord {
  /** The manifest digest. */
  digest: Digest;
  /** The config digest: Docker's image ID. */
  id: Digest;
  mediaType: string;
  /** The config's `created`, when it has one. */
  created?: string;
  /** `os/arch[/variant]` */
  platform: string;
  /** The sum of the layers' blob sizes. */
  size: number;
  /** When the store got it (ms since the epoch). */
  added: number;
  /** Normalised tagged references: `docker.io/library/busybox:latest`. */
  names: string[];
  /** `repository@digest` references (from pull and push). */
  repoDigests: string[];
  /** When a name was last put on it (ms), if ever. */
  lastTagTime?: number;
}

export interface LayerRecord {
  position: number;
  digest: Digest;
  mediaType: string;
  size: number;
  diffId: Digest;
  /** The chain ID: the name of the snapshot holding this layer and those below it. */
  chainId: Digest;
}

/** How `resolve` found an image: by a tag, by a `name@digest` or bare digest, or by an ID (prefix). */
export interface ResolvedImage {
  image: ImageRecord;
  via: 'name' | 'digest' | 'id';
  /** The normalised name, when found by name. */
  name?: string;
}

export interface AddImageOptions {
  /** The exact manifest bytes (never re-serialized). */
  manifest: Uint8Array;
  /** The media type the manifest was announced with, when known. */
  mediaType?: string;
  /** References to point at the image (tags; a `name@digest` records a repo digest). */
  names?: string[];
  /** More blobs the image keeps alive (the index it was selected from). */
  blobs?: string[];
  /** A lease the caller holds; one is taken for the call otherwise. */
  lease?: Lease;
}

export interface RemoveResult {
  untagged: string[];
  deleted: Digest[];
}

interface RecordRow {
  digest: string;
  media_type: string;
  config_digest: string;
  created: string | null;
  platform: string;
  size: number;
  added: number;
}

const HEX_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;

/** The name Docker's "No such image" names: `busybox` as `busybox:latest`; IDs and digests as given. */
function notFoundName(input: string): string {
  if (HEX_PREFIX.test(input) || isDigest(input) || !isReference(input)) return input;
  const ref = parseReference(input);
  return ref.digest === undefined ? familiarString(withDefaultTag(ref)) : input;
}

/**
 * The image store: content store, image metadata, names and leases under one
 * root. Later modules (builder, run, registry) use it through `openImageStore`.
 */
export class ImageStore {
  readonly content: ContentStore;
  readonly leases: LeaseManager;
  private opened?: Promise<Snapshotter>;
  private plain?: Promise<Snapshotter>;

  constructor(
    readonly root: string,
    readonly db: Database,
  ) {
    this.content = new ContentStore(root);
    this.leases = new LeaseManager(db);
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Every image, newest first. */
  list(): ImageRecord[] {
    const rows = this.db.prepare('SELECT * FROM image_records ORDER BY added DESC, digest').all() as RecordRow[];
    return this.decorate(rows);
  }

  get(digest: string): ImageRecord | undefined {
    const row = this.db.prepare('SELECT * FROM image_records WHERE digest = ?').get(digest) as RecordRow | undefined;
    return row ? this.decorate([row])[0] : undefined;
  }

  private decorate(rows: RecordRow[]): ImageRecord[] {
    if (rows.length === 0) return [];
    const names = new Map<string, { name: string; tagged: number }[]>();
    for (const n of this.db.prepare('SELECT name, image, tagged FROM image_names ORDER BY name').all() as {
      name: string;
      image: string;
      tagged: number;
    }[]) {
      const list = names.get(n.image) ?? [];
      list.push(n);
      names.set(n.image, list);
    }
    const repoDigests = new Map<string, string[]>();
    for (const r of this.db.prepare('SELECT repository, image FROM image_repo_digests ORDER BY repository').all() as {
      repository: string;
      image: string;
    }[]) {
      const list = repoDigests.get(r.image) ?? [];
      list.push(`${r.repository}@${r.image}`);
      repoDigests.set(r.image, list);
    }
    return rows.map((row) => {
      const own = names.get(row.digest) ?? [];
      const rec: ImageRecord = {
        digest: row.digest as Digest,
        id: row.config_digest as Digest,
        mediaType: row.media_type,
        platform: row.platform,
        size: row.size,
        added: row.added,
        names: own.map((n) => n.name),
        repoDigests: repoDigests.get(row.digest) ?? [],
      };
      if (row.created !== null) rec.created = row.created;
      if (own.length > 0) rec.lastTagTime = Math.max(...own.map((n) => n.tagged));
      return rec;
    });
  }

  /**
   * Finds an image as Docker does: `name[:tag]`, `name@digest`, a full image ID
   * or manifest digest (`sha256:…`), or an ID prefix (a name wins over a prefix).
   * Throws `TSB_IMAGE_NOT_FOUND`, `TSB_IMAGE_AMBIGUOUS` or `TSB_IMAGE_INVALID_REFERENCE`.
   */
  resolve(input: string): ResolvedImage {
    const found = this.tryResolve(input);
    if (!found) throw new ImageError('TSB_IMAGE_NOT_FOUND', `no such image: ${notFoundName(input)}`);
    return found;
  }

  tryResolve(input: string): ResolvedImage | undefined {
    if (isDigest(input)) {
      const byId = this.byId(input, true);
      if (byId) return { image: byId, via: 'id' };
      const byDigest = this.get(input);
      return byDigest ? { image: byDigest, via: 'digest' } : undefined;
    }
    const hex = HEX_PREFIX.exec(input);
    if (hex && (input.startsWith('sha256:') || hex[1]?.length === 64 || !isReference(input))) {
      const image = this.byId(`sha256:${hex[1]}`, false);
      return image ? { image, via: 'id' } : undefined;
    }
    const ref = parseReference(input);
    if (ref.digest !== undefined) {
      const image = this.get(ref.digest);
      return image ? { image, via: 'digest' } : undefined;
    }
    const name = formatReference(withDefaultTag(ref));
    const row = this.db.prepare('SELECT image FROM image_names WHERE name = ?').get(name) as
      | { image: string }
      | undefined;
    if (row) {
      const image = this.get(row.image);
      if (image) return { image, via: 'name', name };
    }
    if (hex) {
      const image = this.byId(`sha256:${hex[1]}`, false);
      if (image) return { image, via: 'id' };
    }
    return undefined;
  }

  private byId(prefix: string, exact: boolean): ImageRecord | undefined {
    const rows = (
      exact
        ? this.db.prepare('SELECT * FROM image_records WHERE config_digest = ? ORDER BY added DESC').all(prefix)
        : this.db
            .prepare('SELECT * FROM image_records WHERE substr(config_digest, 1, ?) = ? ORDER BY added DESC')
            .all(prefix.length, prefix)
    ) as RecordRow[];
    if (rows.length === 0) return undefined;
    const ids = new Set(rows.map((r) => r.config_digest));
    if (ids.size > 1) {
      throw new ImageError(
        'TSB_IMAGE_AMBIGUOUS',
        `image ID prefix ${prefix.slice(7)} is ambiguous: it matches ${[...ids].map((d) => shortId(d)).join(', ')}`,
      );
    }
    // Several manifests may share a config: prefer a named one, then the newest.
    const records = this.decorate(rows);
    return records.find((r) => r.names.length > 0) ?? records[0];
  }

  async manifest(image: ImageRecord): Promise<{ bytes: Buffer; manifest: ImageManifest }> {
    const bytes = await this.content.read(image.digest);
    const parsed = parseManifest(bytes, { mediaType: image.mediaType, what: `manifest ${image.digest}` });
    if (parsed.kind !== 'manifest') {
      throw new ImageError('TSB_IMAGE_INVALID_MANIFEST', `invalid manifest ${image.digest}: it is an index`);
    }
    return { bytes, manifest: parsed.manifest };
  }

  async config(image: ImageRecord): Promise<{ bytes: Buffer; config: ImageConfig }> {
    const bytes = await this.content.read(image.id);
    return { bytes, config: parseImageConfig(bytes, `image config ${image.id}`) };
  }

  /**
   * The image's size as Docker shows it: its layers' files as unpacked (see
   * layer-usage.ts), each layer counted once per image. A layer's size is worked
   * out from its blob the first time it is asked for and kept by diff ID; a layer
   * whose blob is absent or not gzip or plain tar counts its blob size.
   */
  async unpackedSize(image: ImageRecord): Promise<number> {
    let total = 0;
    for (const l of this.layers(image)) total += await this.layerUnpackedSize(l);
    return total;
  }

  async layerUnpackedSize(layer: LayerRecord): Promise<number> {
    const row = this.db.prepare('SELECT size FROM image_layer_usage WHERE diff_id = ?').get(layer.diffId) as
      | { size: number }
      | undefined;
    if (row) return row.size;
    if (this.content.size(layer.digest) === undefined) return layer.size;
    const { layerUsage } = await import('./layer-usage.js');
    const size = await layerUsage(this.content.path(layer.digest));
    if (size === undefined) return layer.size;
    try {
      this.db.prepare('INSERT OR REPLACE INTO image_layer_usage (diff_id, size) VALUES (?, ?)').run(layer.diffId, size);
    } catch {
      // a store this process may only read: the size is worked out again next time
    }
    return size;
  }

  layers(image: ImageRecord): LayerRecord[] {
    const rows = this.db
      .prepare(
        'SELECT position, digest, media_type, size, diff_id, chain_id FROM image_layers WHERE image = ? ORDER BY position',
      )
      .all(image.digest) as {
      position: number;
      digest: string;
      media_type: string;
      size: number;
      diff_id: string;
      chain_id: string;
    }[];
    return rows.map((r) => ({
      position: r.position,
      digest: r.digest as Digest,
      mediaType: r.media_type,
      size: r.size,
      diffId: r.diff_id as Digest,
      chainId: r.chain_id as Digest,
    }));
  }

  // ---- writing -------------------------------------------------------------------------------

  /** Takes a lease for the duration of `fn`. */
  async withLease<T>(label: string, fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = this.leases.acquire(label);
    try {
      return await fn(lease);
    } finally {
      lease.release();
    }
  }

  /**
   * Writes a blob (verified against `expected` when given) under a lease, so
   * that garbage collection keeps it until an image refers to it.
   */
  async putBlob(
    source: Readable | AsyncIterable<Uint8Array> | Uint8Array,
    options: StageOptions & { lease: Lease },
  ): Promise<StagedBlob> {
    const staged = await this.content.stage(source, options);
    return this.commitBlob(staged, options.lease);
  }

  /** Moves a staged blob into the store under `lease` (the lease is recorded first, then the rename). */
  async commitBlob(staged: StagedBlob, lease: Lease): Promise<StagedBlob> {
    lease.add('blob', staged.digest);
    if (this.content.size(staged.digest) === staged.size) await this.content.discard(staged);
    else await this.content.commit(staged);
    return staged;
  }

  /**
   * Records an image from its manifest bytes. The config and the layers must be
   * in the store already (non-distributable layers may be absent); the manifest
   * is stored as given. Names move from the images they pointed at, as in Docker.
   */
  async addImage(options: AddImageOptions): Promise<ImageRecord> {
    if (!options.lease) return this.withLease('add-image', (lease) => this.addImage({ ...options, lease }));
    const lease = options.lease;
    const bytes = Buffer.from(options.manifest);
    const digest = sha256(bytes);
    const parsed = parseManifest(bytes, { mediaType: options.mediaType, what: `manifest ${digest}` });
    if (parsed.kind !== 'manifest') {
      throw new ImageError(
        'TSB_IMAGE_UNSUPPORTED',
        `manifest ${digest} is an index: select a platform's manifest first`,
      );
    }
    const manifest = parsed.manifest;
    const configDigest = assertDigest(manifest.config.digest, 'config.digest');
    const configSize = this.content.size(configDigest);
    if (configSize === undefined) {
      throw new ImageError(
        'TSB_IMAGE_BLOB_NOT_FOUND',
        `config ${configDigest} of manifest ${digest} is not in the store`,
      );
    }
    if (configSize !== manifest.config.size) {
      throw new ImageError(
        'TSB_IMAGE_SIZE_MISMATCH',
        `config ${configDigest} has ${configSize} bytes, the manifest says ${manifest.config.size}`,
      );
    }
    const config = parseImageConfig(await this.content.read(configDigest), `image config ${configDigest}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new ImageError(
        'TSB_IMAGE_INVALID_CONFIG',
        `invalid image config ${configDigest}: rootfs.diff_ids has ${diffIds.length} entries but manifest ${digest} has ${manifest.layers.length} layers`,
      );
    }
    const chains = chainIds(diffIds);
    const layers: LayerRecord[] = manifest.layers.map((l, i) => {
      const compression = layerCompression(l.mediaType);
      if (compression === undefined) {
        throw new ImageError('TSB_IMAGE_UNKNOWN_MEDIA_TYPE', `layers[${i}]: unknown layer media type ${l.mediaType}`);
      }
      const layerDigest = assertDigest(l.digest, `layers[${i}].digest`);
      const size = this.content.size(layerDigest);
      if (size === undefined && !isNondistributable(l.mediaType)) {
        throw new ImageError(
          'TSB_IMAGE_BLOB_NOT_FOUND',
          `layer ${layerDigest} of manifest ${digest} is not in the store`,
        );
      }
      if (size !== undefined && size !== l.size) {
        throw new ImageError(
          'TSB_IMAGE_SIZE_MISMATCH',
          `layer ${layerDigest} has ${size} bytes, the manifest says ${l.size}`,
        );
      }
      const diffId = assertDigest(diffIds[i] as string, `rootfs.diff_ids[${i}]`);
      if (compression === 'none' && diffId !== layerDigest) {
        throw new ImageError(
          'TSB_IMAGE_DIGEST_MISMATCH',
          `layer ${i}: uncompressed layer ${layerDigest} does not match its diff ID ${diffId}`,
        );
      }
      return {
        position: i,
        digest: layerDigest,
        mediaType: l.mediaType,
        size: l.size,
        diffId,
        chainId: chains[i] as Digest,
      };
    });
    if (this.content.size(digest) !== bytes.length) await this.putBlob(bytes, { lease, expected: { digest } });
    const names: string[] = [];
    const repoDigests: string[] = [];
    for (const n of options.names ?? []) {
      const ref = parseReference(n);
      if (ref.digest !== undefined) {
        if (ref.digest === digest) repoDigests.push(repositoryName(ref));
      } else names.push(formatReference(withDefaultTag(ref)));
    }
    const now = Date.now();
    const platform = formatPlatform(configPlatform(config));
    const size = manifest.layers.reduce((s, l) => s + l.size, 0);
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR IGNORE INTO image_records (digest, media_type, config_digest, created, platform, size, added)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(digest, parsed.mediaType, configDigest, config.created ?? null, platform, size, now);
      const layer = this.db.prepare(
        `INSERT OR IGNORE INTO image_layers (image, position, digest, media_type, size, diff_id, chain_id)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const l of layers) layer.run(digest, l.position, l.digest, l.mediaType, l.size, l.diffId, l.chainId);
      const blob = this.db.prepare('INSERT OR IGNORE INTO image_blobs (image, digest) VALUES (?, ?)');
      blob.run(digest, digest);
      blob.run(digest, configDigest);
      for (const l of layers) blob.run(digest, l.digest);
      for (const b of options.blobs ?? []) blob.run(digest, assertDigest(b));
      const name = this.db.prepare(
        `INSERT INTO image_names (name, image, tagged) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET image = excluded.image, tagged = excluded.tagged`,
      );
      for (const n of names) name.run(n, digest, now);
      const repo = this.db.prepare('INSERT OR IGNORE INTO image_repo_digests (repository, image) VALUES (?, ?)');
      for (const r of repoDigests) repo.run(r, digest);
    })();
    return this.get(digest) as ImageRecord;
  }

  /** Records that `repository@digest` names the image (after a pull or a push). */
  addRepoDigest(image: ImageRecord, repository: string): void {
    const ref = parseReference(repository);
    this.db
      .prepare('INSERT OR IGNORE INTO image_repo_digests (repository, image) VALUES (?, ?)')
      .run(repositoryName(ref), image.digest);
  }

  /** `tag SOURCE TARGET`: points the normalised `target` at the image `source` resolves to. */
  tag(source: string, target: string): { image: ImageRecord; name: string } {
    const { image } = this.resolve(source);
    const ref = parseReference(target);
    if (ref.digest !== undefined) {
      throw new ImageError(
        'TSB_IMAGE_INVALID_REFERENCE',
        `refusing to create a tag with a digest reference: ${target}`,
      );
    }
    const name = formatReference(withDefaultTag(ref));
    this.db
      .prepare(
        `INSERT INTO image_names (name, image, tagged) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET image = excluded.image, tagged = excluded.tagged`,
      )
      .run(name, image.digest, Date.now());
    return { image: this.get(image.digest) as ImageRecord, name };
  }

  /** Removes a name; returns whether it existed. */
  untag(name: string): boolean {
    const normal = formatReference(withDefaultTag(parseReference(name)));
    return this.db.prepare('DELETE FROM image_names WHERE name = ?').run(normal).changes > 0;
  }

  /**
   * Durable references that garbage collection keeps (the build cache's blobs and
   * snapshots), recorded under `owner` until `removeRoots(owner)`.
   */
  addRoots(owner: string, refs: readonly { kind: 'blob' | 'snapshot'; ref: string }[]): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO image_gc_roots (owner, kind, ref) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const r of refs) insert.run(owner, r.kind, r.ref);
    })();
  }

  removeRoots(owner: string): void {
    this.db.prepare('DELETE FROM image_gc_roots WHERE owner = ?').run(owner);
  }

  /** The refs of `kind` that some owner keeps. */
  roots(kind: 'blob' | 'snapshot'): Set<string> {
    const rows = this.db.prepare('SELECT DISTINCT ref FROM image_gc_roots WHERE kind = ?').all(kind) as {
      ref: string;
    }[];
    return new Set(rows.map((r) => r.ref));
  }

  /** Whether a live lease protects the image (a build or a container uses it). */
  inUse(image: ImageRecord): boolean {
    return this.leases.isHeld('image', image.digest);
  }

  /**
   * `rmi` as Docker does it. By name: untag; the image goes when that was its
   * last name. By ID or digest: untag every name and delete the image; refused
   * (`TSB_IMAGE_IN_USE`) when names in several repositories point at it, or when
   * a lease holds it, unless `force`. The image's blobs and snapshots are not
   * removed here: `gc` (called by rmi and prune) collects what nothing refers to.
   */
  remove(input: string, options: { force?: boolean } = {}): RemoveResult {
    const found = this.resolve(input);
    const { image } = found;
    const result: RemoveResult = { untagged: [], deleted: [] };
    const removeAll = found.via !== 'name' || image.names.length <= 1;
    if (!removeAll) {
      this.untag(found.name as string);
      result.untagged.push(found.name as string);
      return result;
    }
    if (!options.force) {
      if (found.via !== 'name') {
        const repos = new Set(image.names.map((n) => repositoryName(parseReference(n))));
        if (repos.size > 1) {
          throw new ImageError(
            'TSB_IMAGE_IN_USE',
            `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`,
          );
        }
      }
      if (this.inUse(image)) {
        throw new ImageError(
          'TSB_IMAGE_IN_USE',
          `conflict: unable to delete ${found.via === 'name' ? familiarString(found.name as string) : shortId(image.id)} (must be forced) - image is being used`,
        );
      }
    }
    this.db.transaction(() => {
      const names = this.db.prepare('SELECT name FROM image_names WHERE image = ? ORDER BY name').all(image.digest) as {
        name: string;
      }[];
      this.db.prepare('DELETE FROM image_names WHERE image = ?').run(image.digest);
      this.db.prepare('DELETE FROM image_records WHERE digest = ?').run(image.digest);
      result.untagged.push(...names.map((n) => n.name));
      for (const r of image.repoDigests) result.untagged.push(r);
    })();
    result.deleted.push(image.id);
    return result;
  }

  /** Deletes images that have no name and no live lease (`prune --all`); returns their IDs. */
  removeUntagged(): Digest[] {
    const held = this.leases.held('image');
    const removed: Digest[] = [];
    this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT digest, config_digest FROM image_records r
           WHERE NOT EXISTS (SELECT 1 FROM image_names n WHERE n.image = r.digest)`,
        )
        .all() as { digest: string; config_digest: string }[];
      const del = this.db.prepare('DELETE FROM image_records WHERE digest = ?');
      for (const r of rows) {
        if (held.has(r.digest)) continue;
        del.run(r.digest);
        removed.push(r.config_digest as Digest);
      }
    })();
    return removed;
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /**
   * The store's snapshotter (overlay when it works here, else the copying
   * driver), opened once per process. Opening it recovers what crashed
   * processes left: half-made snapshots, staging dirs, stale mounts (unless
   * `recover: false`).
   */
  snapshotter(options: { driver?: 'overlay' | 'naive' | 'auto'; recover?: boolean } = {}): Promise<Snapshotter> {
    this.plain ??= import('../../snapshotter/index.js').then((m) => m.openSnapshotter(this.root, options));
    // Without the recovery scan: for a caller that may write nothing (a cached build), and runs
    // `cleanup()` itself (through this method) before it makes its first snapshot.
    if (options.recover === false) return this.opened ?? this.plain;
    const plain = this.plain;
    this.opened ??= (async () => {
      const sn = await plain;
      await sn.cleanup();
      return sn;
    })();
    return this.opened;
  }

  /** Unpacks the image into snapshots named by chain ID; returns the top one (`undefined` without layers). */
  async unpack(
    image: ImageRecord,
    options: UnpackOptions & { snapshotter?: Snapshotter } = {},
  ): Promise<string | undefined> {
    const { unpackImage } = await import('../unpack.js');
    return unpackImage(this, image, options.snapshotter ?? (await this.snapshotter()), options);
  }

  /** Garbage collection (see `collectGarbage`); snapshots are collected with the store's snapshotter unless `blobsOnly`. */
  async gc(options: Omit<GcOptions, 'snapshotter'> & { blobsOnly?: boolean } = {}): Promise<GcResult> {
    const { collectGarbage } = await import('../gc.js');
    const snapshotter = options.blobsOnly ? undefined : await this.snapshotter();
    return collectGarbage(this, { all: options.all, snapshotter });
  }

  /** Counts for `info`. */
  counts(): { images: number; names: number; blobs: number; leases: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      images: one('SELECT count(*) AS n FROM image_records'),
      names: one('SELECT count(*) AS n FROM image_names'),
      blobs: this.content.listSync().length,
      leases: one('SELECT count(*) AS n FROM image_leases'),
    };
  }
}

/** Docker's display name of a stored reference: `busybox:latest`. */
export function displayName(name: string): string {
  const ref: Reference = parseReference(name);
  return `${familiarRepository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}`;
}

const stores = new Map<string, ImageStore>();

/**
 * Opens the image store under `root` (default `resolveRoot()`): the database
 * with the image schema migrated, stale leases purged, and the temporary files
 * of crashed processes removed. One instance per root and process.
 */
export function openImageStore(root?: string): ImageStore {
  const dir = resolveRoot(root);
  const cached = stores.get(dir);
  if (cached?.db.open) return cached;
  const db = openDatabase(join(dir, 'tsbuild.db'));
  migrate(db, imageSchema);
  const store = new ImageStore(dir, db);
  store.content.ensureDirs();
  store.leases.purgeStale();
  store.content.cleanupTmp();
  stores.set(dir, store);
  return store;
}
