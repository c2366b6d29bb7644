import {
  type BigIntStats,
  closeSync,
  createReadStream,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
} from 'node:fs';
import type { Readable } from 'node:stream';

/**
 * The file-system calls the context layer makes, so that tests can count
 * them and callers can wrap them. Paths are absolute. Metadata calls and
 * small reads are synchronous: for thousands of small files they are several
 * times faster than libuv's thread pool round trips, and the callers yield
 * to the event loop between batches.
 */
export interface ContextFs {
  lstat(path: string): BigIntStats;
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
  lstat: (path) => lstatSync(path, { bigint: true }),
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
