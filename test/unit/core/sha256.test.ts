import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sha256, sha256Hex } from '../../../sha256.js';

const node = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('sha256Hex', () => {
  it('gives the FIPS 180-4 example digests', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('matches node:crypto at every length around the block and padding boundaries', () => {
    for (let n = 0; n <= 200; n++) {
      const data = Buffer.alloc(n, n % 251);
      expect(sha256Hex(data), `length ${n}`).toBe(node(data));
    }
  });

  it('matches node:crypto for any bytes, strings and split into any updates', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.string({ unit: 'binary' }), fc.nat(600), (bytes, text, cut) => {
        expect(sha256Hex(bytes)).toBe(node(bytes));
        expect(sha256Hex(text)).toBe(node(text));
        const at = Math.min(cut, bytes.length);
        const split = new Sha256().update(bytes.subarray(0, at)).update(text).update(bytes.subarray(at)).hex();
        expect(split).toBe(
          createHash('sha256').update(bytes.subarray(0, at)).update(text).update(bytes.subarray(at)).digest('hex'),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('hashes a megabyte as node:crypto does', () => {
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    expect(sha256Hex(data)).toBe(node(data));
  });
});
