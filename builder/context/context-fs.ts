import { type BigIntStats, createReadStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';

/**
 * The file-system calls the context layer makes, so that tests can count
 * them and callers can wrap them. Paths are absolute.
 */
export interface ContextFs {
  lstat(path: string): Promise<BigIntStats>;
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
  /** Reads a whole (small) file. */
  readFile(path: string): Promise<Buffer>;
  /** Streams a (large) file. */
  createReadStream(path: string): Readable;
}

export const nodeContextFs: ContextFs = {
  lstat: (path) => fsp.lstat(path, { bigint: true }),
  readdir: (path) => fsp.readdir(path),
  readlink: (path) => fsp.readlink(path),
  readFile: (path) => fsp.readFile(path),
  createReadStream: (path) => createReadStream(path, { highWaterMark: 1 << 20 }),
};
