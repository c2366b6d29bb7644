import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import zlib from 'node:zlib';
import { abortError, LayerError } from './errors.js';
import { OffloadedDigest } from './offload-hash.js';

export type Compression = 'gzip' | 'none';

/** Input to deflate per block: large enough for a good ratio, small enough to keep memory flat. */
const BLOCK_SIZE = 1 << 20;
/** Blocks in flight at once (libuv's pool runs them on both cores). */
const IN_FLIGHT = 4;
const DICT = 32 * 1024;
/**
 * Output left buffered in `out` before waiting for it to drain. fs write streams
 * default to a 16 KiB high-water mark: waiting at that mark would cost a round trip
 * through the thread pool per 16 KiB; this keeps writes large and memory bounded.
 */
const OUT_BUFFER = 8 << 20;

const deflateRaw = (buf: Buffer, opts: zlib.ZlibOptions) =>
  new Promise<Buffer>((done, fail) => zlib.deflateRaw(buf, opts, (err, out) => (err ? fail(err) : done(out))));

/**
 * Deflate stored blocks (RFC 1951 §3.2.4) over `data`, at most 65,535 bytes each,
 * as header + slice pairs (no copy). The stream is byte-aligned here: every block
 * before ends with a sync flush or is stored.
 */
function storedBlocks(data: Buffer, final: boolean): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  do {
    const len = Math.min(65535, data.length - off);
    const last = final && off + len === data.length;
    const h = Buffer.allocUnsafe(5);
    h[0] = last ? 1 : 0;
    h.writeUInt16LE(len, 1);
    h.writeUInt16LE(~len & 0xffff, 3);
    out.push(h, data.subarray(off, off + len));
    off += len;
  } while (off < data.length);
  return out;
}

const SAMPLE = 16 * 1024;
const counts = new Uint32Array(256);

/** Order-0 entropy of two samples above 7.9 bits per byte: deflate would not shrink this block. */
export function incompressible(block: Buffer): boolean {
  if (block.length < 4 * SAMPLE) return false;
  counts.fill(0);
  const mid = block.length >> 1;
  for (let i = 0; i < SAMPLE; i++) {
    const a = block[i] as number;
    const b = block[mid + i] as number;
    counts[a] = (counts[a] as number) + 1;
    counts[b] = (counts[b] as number) + 1;
  }
  const n = 2 * SAMPLE;
  let h = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i] as number;
    if (c) h -= (c / n) * Math.log2(c / n);
  }
  return h > 7.9;
}

/**
 * Where a layer's tar bytes go: the diff ID (sha256 of the tar) is computed, the
 * bytes are compressed (gzip in 1 MiB blocks deflated in parallel on libuv's pool,
 * each primed with the previous block's last 32 KiB as pigz does, and stored when
 * its entropy says it will not shrink; the output is a single standard gzip member),
 * hashed again (the blob digest) and written to `out` with backpressure. Both
 * digests and the gzip crc32 run on hash threads (OffloadedDigest). The output is
 * deterministic.
 */
export class LayerSink {
  private readonly diffHash: OffloadedDigest;
  private readonly blobHash: OffloadedDigest | undefined;
  private size = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private total = 0;
  private prevTail: Buffer | undefined;
  private readonly queue: Promise<Buffer | Buffer[]>[] = [];
  private started = false;

  constructor(
    private readonly out: Writable,
    private readonly compression: Compression = 'gzip',
    private readonly level = 6,
    private readonly signal?: AbortSignal,
  ) {
    // Both digests (and gzip's crc32) run on their own threads; the compressed blob
    // is hashed only when there is one.
    this.diffHash = new OffloadedDigest(compression === 'gzip');
    this.blobHash = compression === 'gzip' ? new OffloadedDigest(false) : undefined;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.signal?.aborted) throw abortError(this.signal);
    if (!chunk.length) return;
    const wait = this.diffHash.update(chunk);
    if (wait) await wait;
    if (this.compression === 'none') {
      await this.emit(chunk);
      return;
    }
    this.total += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BLOCK_SIZE) await this.flushBlock(false);
  }

  async end(): Promise<{ diffId: string; digest: string; size: number }> {
    try {
      const diff = await this.finish();
      const diffId = `sha256:${diff}`;
      const digest = this.blobHash ? `sha256:${(await this.blobHash.digest()).hex}` : diffId;
      return { diffId, digest, size: this.size };
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** Releases the hash threads' state for a layer that will not be ended. */
  dispose(): void {
    this.diffHash.dispose();
    this.blobHash?.dispose();
  }

  private async finish(): Promise<string> {
    if (this.compression !== 'gzip') return (await this.diffHash.digest()).hex;
    await this.flushBlock(true);
    while (this.queue.length) await this.emit(await (this.queue.shift() as Promise<Buffer | Buffer[]>));
    const { hex, crc } = await this.diffHash.digest();
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(this.total % 2 ** 32, 4);
    await this.emit(trailer);
    return hex;
  }

  private async flushBlock(final: boolean): Promise<void> {
    if (!this.started) {
      this.started = true;
      // gzip member header: deflate, no flags, mtime 0, xfl 0, OS unknown (as Go's compress/gzip).
      await this.emit(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]));
    }
    const block = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (!final && !block.length) return;
    const dictionary = this.prevTail;
    this.prevTail = block.length >= DICT ? block.subarray(block.length - DICT) : undefined;
    if (this.level === 0 || incompressible(block)) {
      // Incompressible data (random, already compressed) goes out as stored blocks, without a copy:
      // deflating it would cost ~15x more for nothing.
      this.queue.push(Promise.resolve(storedBlocks(block, final)));
    } else {
      const opts: zlib.ZlibOptions = {
        level: this.level,
        finishFlush: final ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      };
      if (dictionary) opts.dictionary = dictionary;
      this.queue.push(deflateRaw(block, opts));
    }
    while (this.queue.length >= IN_FLIGHT) await this.emit(await (this.queue.shift() as Promise<Buffer | Buffer[]>));
  }

  private async emit(data: Buffer | Buffer[]): Promise<void> {
    const parts = Array.isArray(data) ? data : [data];
    for (const b of parts) {
      const wait = this.blobHash?.update(b);
      if (wait) await wait;
      this.size += b.length;
    }
    const out = this.out;
    if (out.errored) throw out.errored;
    if (out.destroyed) throw new LayerError('TSB_LAYER_CORRUPT', 'the layer output closed early');
    // Stored blocks (header + slice pairs) go out as one writev.
    if (parts.length > 1) out.cork();
    for (const b of parts) if (b.length) out.write(b);
    if (parts.length > 1) out.uncork();
    if (out.writableNeedDrain && out.writableLength > OUT_BUFFER) await this.drained();
  }

  private drained(): Promise<void> {
    const out = this.out;
    const signal = this.signal;
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: unknown) => {
        out.off('drain', onDrain);
        out.off('error', onError);
        out.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => settle();
      const onError = (e: unknown) => settle(e);
      const onClose = () => settle(new LayerError('TSB_LAYER_CORRUPT', 'the layer output closed early'));
      const onAbort = () => settle(abortError(signal as AbortSignal));
      out.on('drain', onDrain);
      out.on('error', onError);
      out.on('close', onClose);
      signal?.addEventListener('abort', onAbort);
      if (signal?.aborted) onAbort();
    });
  }
}

/** Ends `out` and waits until it has flushed. */
export async function finishOutput(out: Writable): Promise<void> {
  if (out.writableFinished) return;
  const done = once(out, 'finish');
  out.end();
  await done;
}

/**
 * The uncompressed bytes of a layer: gzip detected by its magic (zstd too when this
 * Node has it), anything else read as a plain tar.
 */
export async function* decompressed(layer: Readable | AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = (layer as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  while (headLen < 4) {
    const r = await it.next();
    if (r.done) break;
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    head.push(c);
    headLen += c.length;
  }
  const first = Buffer.concat(head);
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
  }
  let transform: zlib.Gunzip | undefined;
  if (first[0] === 0x1f && first[1] === 0x8b) transform = zlib.createGunzip({ chunkSize: 256 * 1024 });
  else if (first[0] === 0x28 && first[1] === 0xb5 && first[2] === 0x2f && first[3] === 0xfd) {
    const create = (zlib as unknown as { createZstdDecompress?: () => zlib.Gunzip }).createZstdDecompress;
    if (!create) throw new LayerError('TSB_LAYER_UNSUPPORTED', 'zstd layers need Node 22.15 or newer');
    transform = create();
  } else if (first[0] === 0x42 && first[1] === 0x5a && first[2] === 0x68) {
    throw new LayerError('TSB_LAYER_UNSUPPORTED', 'bzip2-compressed layers are not supported');
  } else if (first[0] === 0xfd && first[1] === 0x37 && first[2] === 0x7a && first[3] === 0x58) {
    throw new LayerError('TSB_LAYER_UNSUPPORTED', 'xz-compressed layers are not supported');
  }
  if (!transform) {
    try {
      yield* rest();
    } finally {
      await it.return?.();
    }
    return;
  }
  const t = transform;
  const stop = new AbortController();
  const feed = (async () => {
    try {
      for await (const c of rest()) {
        if (stop.signal.aborted) break;
        if (!t.write(c)) await once(t, 'drain', { signal: stop.signal });
      }
      t.end();
    } catch (err) {
      if (!stop.signal.aborted) t.destroy(err as Error);
    }
  })();
  try {
    for await (const c of t) yield c as Buffer;
  } catch (err) {
    if (err instanceof LayerError) throw err;
    throw new LayerError('TSB_LAYER_CORRUPT', `cannot decompress the layer: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    stop.abort();
    t.destroy();
    // Destroying the source releases a read the feeder may be waiting on (an async
    // iterator's return() would queue behind that read).
    const destroy = (layer as Readable).destroy;
    if (typeof destroy === 'function') destroy.call(layer);
    await feed;
    await it.return?.();
  }
}

export function sha256Hex(): Hash {
  return createHash('sha256');
}
