import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TarReader } from '../../snapshotter/index.js';

/**
 * The size Docker shows for a layer (`docker images`, `history`, `inspect`'s
 * Size): the bytes of its files as unpacked, the way the overlay2 driver counts a
 * layer's directory — regular files by size, each file once (a hard link adds
 * nothing), symbolic links by the length of their target, and nothing for
 * directories, devices, FIFOs and whiteouts. Read from the layer's tar (gzip
 * detected), or undefined when the blob is compressed some other way.
 */
export async function layerUsage(blobPath: string): Promise<number | undefined> {
  const raw = createReadStream(blobPath);
  const head = await firstBytes(blobPath, 4);
  let source: Readable = raw;
  if (head[0] === 0x1f && head[1] === 0x8b) source = raw.pipe(createGunzip());
  else if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    raw.destroy();
    return undefined; // zstd
  }
  try {
    return await tarUsage(source as AsyncIterable<Buffer>);
  } finally {
    raw.destroy();
  }
}

/** The same count over an uncompressed layer tar. */
export async function tarUsage(tar: AsyncIterable<Buffer>): Promise<number> {
  const reader = new TarReader(tar, { subject: 'layer' });
  const sizes = new Map<string, number>();
  for (let h = await reader.next(); h !== null; h = await reader.next()) {
    const name = posix.normalize(h.name).replace(/^\.?\/+/, '');
    if (posix.basename(name).startsWith('.wh.')) {
      sizes.delete(name);
      continue;
    }
    if (h.type === 'file') sizes.set(name, h.size);
    else if (h.type === 'symlink') sizes.set(name, Buffer.byteLength(h.linkname));
    else sizes.delete(name);
  }
  let total = 0;
  for (const s of sizes.values()) total += s;
  return total;
}

async function firstBytes(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
