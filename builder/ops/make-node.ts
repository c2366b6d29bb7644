import { spawnSync } from 'node:child_process';

export type NodeType = 'fifo' | 'char' | 'block';

/** Linux's major and minor numbers of a device number (glibc's gnu_dev_major / gnu_dev_minor). */
export function splitDevice(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  const major = Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn));
  const minor = Number((r & 0xffn) | ((r >> 12n) & ~0xffn));
  return { major, minor };
}

/**
 * Creates a fifo or a device node through mknod(1) (Node's fs has no mknod;
 * these are rare in COPY and ADD). Throws an Error with the tool's message.
 */
export function makeNode(host: string, type: NodeType, major = 0, minor = 0): void {
  const args = type === 'fifo' ? [host, 'p'] : [host, type === 'char' ? 'c' : 'b', String(major), String(minor)];
  const r = spawnSync('mknod', args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error((r.stderr || r.error?.message || `mknod exited with ${r.status}`).trim());
  }
}
