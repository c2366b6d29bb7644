import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CopyError } from './errors.js';
import { HttpStatusError, httpGet } from './http-get.js';

export interface FetchUrlOptions {
  /** A directory for the download (a fresh subdirectory is made in it). */
  dir: string;
  /** `--checksum=<algorithm>:<hex>` (sha256, sha384 or sha512): the content must match. */
  checksum?: string;
  signal?: AbortSignal;
}

export interface FetchedUrl {
  /** The file's name as ADD gives it: the URL path's last element, else `__unnamed__`. */
  name: string;
  /** The downloaded file (mode 0600). */
  path: string;
  /** From Last-Modified; the Unix epoch when the server sends none (or one that does not parse), as BuildKit. */
  mtime: Date;
  /** `sha256:…` of the content. */
  digest: string;
}

const ALGORITHMS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function parseChecksum(checksum: string): { algorithm: string; hex: string } {
  const colon = checksum.indexOf(':');
  const algorithm = colon < 0 ? '' : checksum.slice(0, colon);
  const hex = colon < 0 ? '' : checksum.slice(colon + 1);
  const len = ALGORITHMS[algorithm];
  if (len === undefined || hex.length !== len || !/^[0-9a-f]+$/.test(hex)) {
    throw new CopyError(
      'TSB_COPY_CHECKSUM',
      `invalid checksum ${JSON.stringify(checksum)}: expected sha256:<64 hex digits> (or sha384, sha512)`,
    );
  }
  return { algorithm, hex };
}

/**
 * The name BuildKit's Dockerfile frontend gives a downloaded file: the last
 * element of the URL's path (decoded), or `__unnamed__` when the path has none.
 * (Content-Disposition is not consulted, as BuildKit's frontend sets the name.)
 */
export function urlFileName(url: string): string {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return '__unnamed__';
  }
  const parts = pathname.split('/').filter((p) => p !== '');
  const base = parts[parts.length - 1];
  if (base === undefined || base === '.' || base === '..') return '__unnamed__';
  return base;
}

/**
 * Downloads an ADD URL (http or https, redirects followed) into a fresh
 * directory under `o.dir`, verifying `--checksum` when given. Errors name the URL.
 */
export async function fetchUrl(url: string, o: FetchUrlOptions): Promise<FetchedUrl> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CopyError('TSB_COPY_URL', `invalid URL ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CopyError('TSB_COPY_URL', `unsupported URL scheme ${parsed.protocol.slice(0, -1)} in ${url}`);
  }
  const want = o.checksum !== undefined ? parseChecksum(o.checksum) : undefined;
  let res: IncomingMessage;
  try {
    res = await httpGet(url, o.signal);
  } catch (err) {
    const why =
      err instanceof HttpStatusError ? err.message : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    throw new CopyError('TSB_COPY_URL', `failed to fetch ${url}: ${why}`, { cause: err });
  }
  const name = urlFileName(url);
  const tmp = mkdtempSync(join(o.dir, 'url-'));
  const path = join(tmp, name);
  const sha256 = createHash('sha256');
  const check = want && want.algorithm !== 'sha256' ? createHash(want.algorithm) : undefined;
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sha256.update(chunk);
      check?.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, hashing, createWriteStream(path, { mode: 0o600, flags: 'wx' }), { signal: o.signal });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new CopyError('TSB_COPY_URL', `failed to fetch ${url}: ${(err as Error).message}`, { cause: err });
  }
  const hex = sha256.digest('hex');
  if (want) {
    const got = check ? check.digest('hex') : hex;
    if (got !== want.hex) {
      rmSync(tmp, { recursive: true, force: true });
      throw new CopyError(
        'TSB_COPY_CHECKSUM',
        `checksum mismatch for ${url}: expected ${want.algorithm}:${want.hex}, got ${want.algorithm}:${got}`,
      );
    }
  }
  const lastModified = res.headers['last-modified'];
  const parsedTime = lastModified ? new Date(lastModified) : undefined;
  const mtime = parsedTime && !Number.isNaN(parsedTime.getTime()) ? parsedTime : new Date(0);
  return { name, path, mtime, digest: `sha256:${hex}` };
}
