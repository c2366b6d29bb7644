import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { OffloadedDigest } from '../../../snapshotter/offload-hash.js';

describe('OffloadedDigest', () => {
  it('matches sha256 and crc32 computed in place, across slot boundaries', async () => {
    const data = randomBytes((5 << 20) + 12_345);
    for (const size of [0, 100, 1 << 20, (1 << 20) + 1, data.length]) {
      const input = data.subarray(0, size);
      const d = new OffloadedDigest(true);
      for (let off = 0; off < size; off += 300_001) {
        const wait = d.update(input.subarray(off, off + 300_001));
        if (wait) await wait;
      }
      const r = await d.digest();
      expect(r.hex).toBe(createHash('sha256').update(input).digest('hex'));
      expect(r.crc).toBe(zlib.crc32(input) >>> 0);
    }
  });

  it('refuses updates after dispose', async () => {
    const d = new OffloadedDigest(false);
    const wait = d.update(randomBytes(3 << 20));
    if (wait) await wait;
    d.dispose();
    expect(() => d.update(Buffer.from('x'))).toThrow();
  });
});
