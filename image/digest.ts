import { createHash } from 'node:crypto';
import { ImageError } from './errors.js';

/** A content digest, `sha256:<64 lower-case hex>` (the only algorithm the store writes). */
export type Digest = `sha256:${string}`;

const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;
const SHA512_HEX = /^[a-f0-9]{128}$/;

/** True for a well-formed `sha256:<hex>` digest. */
export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && value.startsWith('sha256:') && SHA256_HEX.test(value.slice(7));
}

/** True for any OCI digest this model accepts in documents (sha256 and sha512). */
export function isOciDigest(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DIGEST.exec(value);
  if (!m) return false;
  if (m[1] === 'sha256') return SHA256_HEX.test(m[2] as string);
  if (m[1] === 'sha512') return SHA512_HEX.test(m[2] as string);
  return false;
}

/** Checks a digest the store can address, or throws `TSB_IMAGE_UNSUPPORTED` / `TSB_IMAGE_INVALID_DESCRIPTOR`. */
export function assertDigest(value: string, what = 'digest'): Digest {
  if (isDigest(value)) return value;
  if (isOciDigest(value))
    throw new ImageError('TSB_IMAGE_UNSUPPORTED', `${what}: unsupported digest algorithm in ${value}`);
  throw new ImageError('TSB_IMAGE_INVALID_DESCRIPTOR', `${what}: invalid digest ${JSON.stringify(value)}`);
}

/** The hex part of a sha256 digest. */
export function digestHex(digest: Digest | string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The OCI chain IDs of a list of diff IDs: chain[0] = diff[0]; chain[i] = sha256(chain[i-1] + " " + diff[i]). */
export function chainIds(diffIds: readonly string[]): Digest[] {
  const out: Digest[] = [];
  for (const [i, diff] of diffIds.entries()) {
    out.push(i === 0 ? assertDigest(diff, `rootfs.diff_ids[${i}]`) : sha256(`${out[i - 1]} ${diff}`));
  }
  return out;
}

/** The short image ID Docker prints: 12 hex characters of the config digest. */
export function shortId(digest: string): string {
  return digestHex(digest).slice(0, 12);
}
