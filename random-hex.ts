import { closeSync, openSync, readSync } from 'node:fs';

/**
 * `bytes` random bytes from the kernel, as hex: for names and IDs (leases,
 * temporary files, containers) on paths whose start-up time counts, where
 * node:crypto's randomBytes would load node:crypto (~4 ms of a Node 20 start).
 */
export function randomHex(bytes: number): string {
  const buf = Buffer.allocUnsafe(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let off = 0; off < bytes; ) off += readSync(fd, buf, off, bytes - off, null);
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}
