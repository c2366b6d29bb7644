import {
  type BigIntStats,
  closeSync,
  createReadStream,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { ContextError, contextReadError, isMissing } from './errors.js';

/**
 * The file-system calls the context layer makes, so that tests can count
 * them and callers can wrap them. Paths are absolute. Metadata calls and
 * small reads are synchronous: for thousands of small files they are several
 * times faster than libuv's thread pool round trips, and the callers yield
 * to the event loop between batches.
 */
export interface ContextFs {
  /** Number-valued: several times fewer allocations than BigIntStats, which only hard link grouping needs. */
  lstat(path: string): Stats;
  /** Exact stat, for inode numbers above 2^53. */
  lstatBigint(path: string): BigIntStats;
  readdir(path: string): string[];
  readlink(path: string): string;
  /**
   * Reads a whole (small) file, handing its content to `onChunk` in order;
   * the chunk's memory may be reused after the call. Returns the byte count.
   */
  readChunks(path: string, onChunk: (chunk: Buffer) => void): number;
  /** Streams a (large) file. */
  createReadStream(path: string): Readable;
}

const scratch = Buffer.allocUnsafe(1 << 16);

export const nodeContextFs: ContextFs = {
  lstat: (path) => lstatSync(path),
  lstatBigint: (path) => lstatSync(path, { bigint: true }),
  readdir: (path) => readdirSync(path),
  readlink: (path) => readlinkSync(path),
  readChunks: (path, onChunk) => {
    const fd = openSync(path, 'r');
    let total = 0;
    try {
      for (;;) {
        const n = readSync(fd, scratch, 0, scratch.length, null);
        if (n === 0) break;
        onChunk(scratch.subarray(0, n));
        total += n;
      }
    } finally {
      closeSync(fd);
    }
    return total;
  },
  createReadStream: (path) => createReadStream(path, { highWaterMark: 1 << 20 }),
};

/** Lets the event loop run if the caller has held it for a while (call it often; it is cheap). */
export function yielder(budgetMs = 10): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    const now = performance.now();
    if (now - since < budgetMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        since = performance.now();
        resolve();
      }),
    );
  };
}

/**
 * Wraps a ContextFs so that any failure other than a missing path becomes a
 * `TSB_CONTEXT_READ` error naming the path; a missing path keeps its ENOENT.
 */
export function guardFs(fs: ContextFs): ContextFs {
  const fail = (op: string, path: string, err: unknown): never => {
    if (isMissing(err) || err instanceof ContextError) throw err;
    throw contextReadError(op, path, err);
  };
  // One wrapper per call, without rest arguments: lstat runs once per entry of the context.
  return {
    lstat: (p) => {
      try {
        return fs.lstat(p);
      } catch (err) {
        return fail('stat', p, err);
      }
    },
    lstatBigint: (p) => {
      try {
        return fs.lstatBigint(p);
      } catch (err) {
        return fail('stat', p, err);
      }
    },
    readdir: (p) => {
      try {
        return fs.readdir(p);
      } catch (err) {
        return fail('list', p, err);
      }
    },
    readlink: (p) => {
      try {
        return fs.readlink(p);
      } catch (err) {
        return fail('read link', p, err);
      }
    },
    readChunks: (p, onChunk) => {
      try {
        return fs.readChunks(p, onChunk);
      } catch (err) {
        return fail('read', p, err);
      }
    },
    createReadStream: (p) => fs.createReadStream(p),
  };
}
