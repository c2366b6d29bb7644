import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Gunzip } from 'node:zlib';
import { isOwnerAlive, ownerToken, parseOwnerToken } from '../../metadata/index.js';
import { assertDigest, type Digest, digestHex, isDigest } from '../digest.js';
import { ImageError } from '../errors.js';

/** A blob written to the store's tmp/ and verified, not yet visible under blobs/. */
export interface StagedBlob {
  digest: Digest;
  size: number;
  /** The temporary file. */
  path: string;
  /** True when the data starts with the gzip magic. */
  gzip: boolean;
  /** sha256 of the gunzipped data (gzip data only, when asked for): a layer's diff ID. */
  diffId?: Digest;
  /** Why the gunzipped data could not be hashed (corrupt or truncated gzip). */
  diffError?: Error;
  /** The first bytes, up to `keep` (small JSON documents are parsed from here without reading back). */
  head?: Buffer;
}

export interface StageOptions {
  /** The digest (and size) the data must have. */
  expected?: { digest: string; size?: number };
  /** Also hash the gunzipped data when the data is gzip. */
  diffId?: boolean;
  /** Keep the data in memory when it is at most this many bytes. */
  keep?: number;
  /** Where the temporary file goes (a directory under tmp/); default tmp/. */
  dir?: string;
  signal?: AbortSignal;
}

const TMP_PREFIX = 'image-';
const MAX_DOCUMENT = 64 * 1024 * 1024;

/**
 * The content-addressed blob store: `blobs/sha256/<hex>`, written through `tmp/`
 * (same filesystem), fsynced, verified, then renamed into place. Several
 * processes may write the same blob at once: the rename is atomic and both
 * copies are identical. Temporary names carry the writer's pid and start time,
 * so that `cleanupTmp` removes only what dead processes left.
 */
export class ContentStore {
  readonly blobsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.tmpDir = join(root, 'tmp');
  }

  path(digest: string): string {
    return join(this.blobsDir, digestHex(assertDigest(digest)));
  }

  has(digest: string): boolean {
    return this.size(digest) !== undefined;
  }

  /** The blob's size, or `undefined` when it is absent. */
  size(digest: string): number | undefined {
    try {
      return statSync(this.path(digest)).size;
    } catch {
      return undefined;
    }
  }

  /** A stream of the blob's bytes; `TSB_IMAGE_BLOB_NOT_FOUND` when absent. */
  createReadStream(digest: string): Readable {
    const path = this.path(digest);
    if (!this.has(digest)) throw new ImageError('TSB_IMAGE_BLOB_NOT_FOUND', `blob ${digest} is not in the store`);
    return createReadStream(path, { highWaterMark: 1024 * 1024 });
  }

  /** Reads a small blob (a manifest, a config) whole and checks its digest. */
  async read(digest: string): Promise<Buffer> {
    const path = this.path(digest);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      throw new ImageError('TSB_IMAGE_BLOB_NOT_FOUND', `blob ${digest} is not in the store`);
    }
    if (info.size > MAX_DOCUMENT) {
      throw new ImageError('TSB_IMAGE_UNSUPPORTED', `blob ${digest} is ${info.size} bytes, too large for a document`);
    }
    const bytes = await readFile(path);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) {
      throw new ImageError('TSB_IMAGE_DIGEST_MISMATCH', `blob ${digest} is corrupt on disk (its content is ${actual})`);
    }
    return bytes;
  }

  /** A new private directory under tmp/ for a batch of staged blobs (removed by `cleanupTmp` if we die). */
  async makeTmpDir(): Promise<string> {
    const dir = join(this.tmpDir, `${TMP_PREFIX}${ownerToken()}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * Writes data to a temporary file while hashing it, fsyncs it, and checks the
   * expected digest and size. Nothing is visible under blobs/ until `commit`.
   */
  async stage(
    source: Readable | AsyncIterable<Uint8Array> | Uint8Array,
    options: StageOptions = {},
  ): Promise<StagedBlob> {
    const dir = options.dir ?? this.tmpDir;
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${TMP_PREFIX}${ownerToken()}-${randomBytes(8).toString('hex')}`);
    const hasher = new HashingTransform(options.diffId === true, options.keep ?? 0);
    try {
      const input = source instanceof Uint8Array ? [Buffer.from(source)] : source;
      await pipeline(input, hasher, createWriteStream(path, { flags: 'wx', mode: 0o644, highWaterMark: 1024 * 1024 }), {
        signal: options.signal,
      });
      await hasher.finishDiff();
      const fh = await open(path, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    const staged: StagedBlob = {
      digest: hasher.digest(),
      size: hasher.size,
      path,
      gzip: hasher.gzip,
    };
    if (hasher.diffId) staged.diffId = hasher.diffId;
    if (hasher.diffError) staged.diffError = hasher.diffError;
    if (hasher.kept) staged.head = hasher.kept;
    const expected = options.expected;
    if (expected) {
      if (expected.size !== undefined && expected.size !== staged.size) {
        await rm(path, { force: true });
        throw new ImageError(
          'TSB_IMAGE_SIZE_MISMATCH',
          `blob ${expected.digest} has ${staged.size} bytes, expected ${expected.size}`,
        );
      }
      if (expected.digest !== staged.digest) {
        await rm(path, { force: true });
        throw new ImageError(
          'TSB_IMAGE_DIGEST_MISMATCH',
          `digest mismatch: expected ${expected.digest}, got ${staged.digest}`,
        );
      }
    }
    return staged;
  }

  /** Moves a staged blob into blobs/ (atomic rename, then the directory is fsynced). */
  async commit(staged: StagedBlob): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await rename(staged.path, this.path(staged.digest));
    const dir = await open(this.blobsDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async discard(staged: StagedBlob): Promise<void> {
    await unlink(staged.path).catch(() => undefined);
  }

  /** Stages, verifies and commits in one step. */
  async ingest(
    source: Readable | AsyncIterable<Uint8Array> | Uint8Array,
    options: StageOptions = {},
  ): Promise<StagedBlob> {
    const staged = await this.stage(source, options);
    await this.commit(staged);
    return staged;
  }

  /** Every blob digest under blobs/sha256 (synchronous: garbage collection runs it inside a transaction). */
  listSync(): Digest[] {
    let names: string[];
    try {
      names = readdirSync(this.blobsDir);
    } catch {
      return [];
    }
    return names.map((n) => `sha256:${n}`).filter((d): d is Digest => isDigest(d));
  }

  /** Removes a blob (synchronous, for garbage collection); returns the bytes freed. */
  removeSync(digest: string): number {
    const path = this.path(digest);
    try {
      const { size } = statSync(path);
      unlinkSync(path);
      return size;
    } catch {
      return 0;
    }
  }

  /** Removes the temporary files and directories that dead processes left under tmp/. */
  cleanupTmp(): number {
    let removed = 0;
    let names: string[];
    try {
      names = readdirSync(this.tmpDir);
    } catch {
      return 0;
    }
    for (const name of names) {
      if (!name.startsWith(TMP_PREFIX)) continue;
      const owner = parseOwnerToken(name.slice(TMP_PREFIX.length).split('-')[0] ?? '');
      if (owner && isOwnerAlive(owner)) continue;
      rmSync(join(this.tmpDir, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /** Counts the temporary entries this module keeps under tmp/ (live or not). */
  countTmp(): number {
    try {
      return readdirSync(this.tmpDir).filter((n) => n.startsWith(TMP_PREFIX)).length;
    } catch {
      return 0;
    }
  }

  ensureDirs(): void {
    mkdirSync(this.blobsDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }
}

/** Hashes what passes through; optionally also the gunzipped bytes, and keeps a small prefix. */
class HashingTransform extends Transform {
  size = 0;
  gzip = false;
  diffId?: Digest;
  diffError?: Error;
  kept?: Buffer;
  private readonly hash = createHash('sha256');
  private decided = false;
  private pendingHead: Buffer[] = [];
  private gunzip?: Gunzip;
  private diffDone?: Promise<void>;
  private keepChunks: Buffer[] | undefined;

  constructor(
    private readonly wantDiff: boolean,
    private readonly keep: number,
  ) {
    super();
    if (keep > 0) this.keepChunks = [];
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.keepChunks) {
      if (this.size <= this.keep) this.keepChunks.push(chunk);
      else this.keepChunks = undefined;
    }
    this.push(chunk);
    if (!this.wantDiff) {
      done();
      return;
    }
    if (!this.decided) {
      this.pendingHead.push(chunk);
      const head = Buffer.concat(this.pendingHead);
      if (head.length < 2) {
        done();
        return;
      }
      this.decided = true;
      this.pendingHead = [];
      if (head[0] === 0x1f && head[1] === 0x8b) this.startGunzip();
      this.feed(head, done);
      return;
    }
    this.feed(chunk, done);
  }

  override _flush(done: TransformCallback): void {
    if (this.keepChunks) this.kept = Buffer.concat(this.keepChunks);
    if (!this.decided && this.pendingHead.length > 0) {
      this.decided = true;
      this.pendingHead = [];
    }
    this.gunzip?.end();
    done();
  }

  private startGunzip(): void {
    this.gzip = true;
    // node:zlib is loaded on first use: reading documents (`tsbuild run`) never needs it.
    const gunzip = process.getBuiltinModule('node:zlib').createGunzip({ chunkSize: 256 * 1024 });
    const diffHash = createHash('sha256');
    this.gunzip = gunzip;
    this.diffDone = new Promise((resolve) => {
      gunzip.on('data', (d: Buffer) => diffHash.update(d));
      gunzip.on('end', () => {
        this.diffId = `sha256:${diffHash.digest('hex')}`;
        resolve();
      });
      gunzip.on('error', (err) => {
        this.diffError = err;
        resolve();
      });
    });
  }

  private feed(chunk: Buffer, done: TransformCallback): void {
    const gunzip = this.gunzip;
    if (!gunzip || this.diffError || gunzip.write(chunk)) {
      done();
      return;
    }
    const resume = () => {
      gunzip.off('drain', resume);
      gunzip.off('error', resume);
      done();
    };
    gunzip.on('drain', resume);
    gunzip.on('error', resume);
  }

  async finishDiff(): Promise<void> {
    await this.diffDone;
    if (this.gzip && !this.diffId && !this.diffError) this.diffError = new Error('gzip stream did not end');
  }

  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
