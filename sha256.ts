import { createHash, type Hash } from 'node:crypto';

/**
 * SHA-256 (FIPS 180-4) in JavaScript, for the small inputs hashed on the paths
 * whose start-up time counts (cache keys, image configs, IDs): loading node:crypto
 * costs ~4 ms of a Node 20 start, more than a cached build spends hashing. Bulk
 * data (layers, context files) keeps node:crypto, which is many times faster.
 * The constants are derived as the standard defines them, not typed in.
 */
const H0 = new Uint32Array(8);
const K = new Uint32Array(64);
{
  const primes: number[] = [];
  for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  const frac32 = (x: number) => Math.floor((x - Math.floor(x)) * 2 ** 32) >>> 0;
  primes.forEach((p, i) => {
    K[i] = frac32(Math.cbrt(p));
    if (i < 8) H0[i] = frac32(Math.sqrt(p));
  });
}

export class Sha256 {
  private readonly h = H0.slice();
  private readonly block = new Uint8Array(64);
  private readonly view = new DataView(this.block.buffer);
  private readonly w = new Uint32Array(64);
  private fill = 0;
  private length = 0;

  update(data: string | Uint8Array): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.length += bytes.length;
    let i = 0;
    while (i < bytes.length) {
      const n = Math.min(64 - this.fill, bytes.length - i);
      this.block.set(bytes.subarray(i, i + n), this.fill);
      this.fill += n;
      i += n;
      if (this.fill === 64) {
        this.compress();
        this.fill = 0;
      }
    }
    return this;
  }

  /** The digest as lower-case hex; the object is spent afterwards. */
  hex(): string {
    const bits = this.length * 8;
    this.block[this.fill++] = 0x80;
    if (this.fill > 56) {
      this.block.fill(0, this.fill);
      this.compress();
      this.fill = 0;
    }
    this.block.fill(0, this.fill, 56);
    this.view.setUint32(56, Math.floor(bits / 2 ** 32));
    this.view.setUint32(60, bits >>> 0);
    this.compress();
    let out = '';
    for (const word of this.h) out += word.toString(16).padStart(8, '0');
    return out;
  }

  private compress(): void {
    const w = this.w;
    for (let t = 0; t < 16; t++) w[t] = this.view.getUint32(t * 4);
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15] as number;
      const b = w[t - 2] as number;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[t] = ((w[t - 16] as number) + s0 + (w[t - 7] as number) + s1) >>> 0;
    }
    const h = this.h;
    let a = h[0] as number;
    let b = h[1] as number;
    let c = h[2] as number;
    let d = h[3] as number;
    let e = h[4] as number;
    let f = h[5] as number;
    let g = h[6] as number;
    let k = h[7] as number;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (k + S1 + ch + (K[t] as number) + (w[t] as number)) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = (h[0] as number) + a;
    h[1] = (h[1] as number) + b;
    h[2] = (h[2] as number) + c;
    h[3] = (h[3] as number) + d;
    h[4] = (h[4] as number) + e;
    h[5] = (h[5] as number) + f;
    h[6] = (h[6] as number) + g;
    h[7] = (h[7] as number) + k;
  }
}

/** Past this many bytes node:crypto is loaded: it hashes ~20 times faster than the JavaScript above. */
const JS_LIMIT = 64 * 1024;

/** The SHA-256 of `data` (strings as UTF-8) in lower-case hex. */
export function sha256Hex(data: string | Uint8Array): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (bytes.length > JS_LIMIT) return createHash('sha256').update(bytes).digest('hex');
  return new Sha256().update(bytes).hex();
}

/**
 * An incremental SHA-256 that stays in JavaScript while its input is small and
 * hands it to node:crypto once it passes 64 KiB (the bytes so far are kept, not
 * hashed twice).
 */
export function createSha256(): { update(data: string | Uint8Array): void; hex(): string } {
  let held: Uint8Array[] = [];
  let size = 0;
  let node: Hash | undefined;
  return {
    update(data) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (node) {
        node.update(bytes);
        return;
      }
      held.push(bytes);
      size += bytes.length;
      if (size > JS_LIMIT) {
        node = createHash('sha256');
        for (const b of held) node.update(b);
        held = [];
      }
    },
    hex() {
      if (node) return node.digest('hex');
      const js = new Sha256();
      for (const b of held) js.update(b);
      return js.hex();
    },
  };
}
