import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { TsbuildError } from '../../errors.js';
import { ArchiveError } from '../errors.js';

/** A tar entry's body, read once. */
export type EntryBody = AsyncIterable<Uint8Array>;

/** Waits for the first bytes of a stream without consuming them. */
async function peek(input: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = input.read() as Buffer | null;
    if (chunk === null) {
      if (input.readableEnded || input.destroyed) break;
      const ended = await new Promise<boolean>((resolve, reject) => {
        const done = (v: boolean) => {
          input.off('readable', onReadable);
          input.off('end', onEnd);
          input.off('error', onError);
          resolve(v);
        };
        const onReadable = () => done(false);
        const onEnd = () => done(true);
        const onError = (err: Error) => {
          input.off('readable', onReadable);
          input.off('end', onEnd);
          reject(err);
        };
        input.on('readable', onReadable);
        input.on('end', onEnd);
        input.on('error', onError);
      });
      if (ended) break;
      continue;
    }
    chunks.push(chunk);
    have += chunk.length;
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) input.unshift(head);
  return head;
}

/** The stream itself, or its gunzipped form when it starts with the gzip magic. */
export async function maybeGunzip(input: Readable): Promise<Readable> {
  const head = await peek(input, 2);
  if (head[0] !== 0x1f || head[1] !== 0x8b) return input;
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  input.on('error', (err) => gunzip.destroy(err));
  return input.pipe(gunzip);
}

/** Maps tar-stream and zlib failures to archive errors; tsbuild errors pass through. */
export function toArchiveError(err: unknown, what: string): TsbuildError {
  if (err instanceof TsbuildError) return err;
  const e = err as NodeJS.ErrnoException;
  const message = e?.message ?? String(err);
  if (
    /unexpected end of (data|file)/i.test(message) ||
    e?.code === 'Z_BUF_ERROR' ||
    e?.code === 'ERR_STREAM_PREMATURE_CLOSE'
  ) {
    return new ArchiveError('TSB_ARCHIVE_TRUNCATED', `${what} is truncated: ${message.toLowerCase()}`, { cause: err });
  }
  if (
    /invalid|header|incorrect|unknown format|too far back|Z_DATA_ERROR/i.test(message) ||
    e?.code === 'Z_DATA_ERROR'
  ) {
    return new ArchiveError('TSB_ARCHIVE_CORRUPT', `${what} is corrupt: ${message.replace(/\.$/, '').toLowerCase()}`, {
      cause: err,
    });
  }
  if (e?.name === 'AbortError') return new TsbuildError('TSB_ABORTED', `reading ${what} was aborted`, { cause: err });
  return new TsbuildError('TSB_INTERNAL', `cannot read ${what}: ${message}`, { cause: err });
}

/**
 * Normalises an entry name inside an archive: `./a//b/` → `a/b`. Names that
 * leave the archive (`..`, absolute) are refused as corrupt.
 */
export function entryPath(name: string, what: string): string {
  const clean = posix.normalize(name.replace(/^\.\/+/, '')).replace(/\/+$/, '');
  if (clean === '.' || clean === '') return '';
  if (clean.startsWith('/') || clean === '..' || clean.startsWith('../')) {
    throw new ArchiveError('TSB_ARCHIVE_CORRUPT', `${what} is corrupt: unsafe entry name ${JSON.stringify(name)}`);
  }
  return clean;
}

/**
 * Reads a (possibly gzipped) tar stream entry by entry. `onEntry` must consume
 * or ignore the body before returning; bodies it leaves are drained.
 */
export async function readTar(
  input: Readable,
  onEntry: (header: Header, body: EntryBody) => Promise<void>,
  options: { what: string; signal?: AbortSignal },
): Promise<void> {
  const { what, signal } = options;
  const ex = extract();
  let source: Readable | undefined;
  let extractError: unknown;
  ex.on('error', (err: unknown) => {
    extractError ??= err;
  });
  const abort = () => ex.destroy(signal?.reason ?? new Error('aborted'));
  signal?.addEventListener('abort', abort, { once: true });
  try {
    if (input.errored) throw input.errored;
    source = await maybeGunzip(input);
    if (input.errored) throw input.errored;
    source.on('error', (err) => ex.destroy(err));
    source.pipe(ex as unknown as NodeJS.WritableStream);
    for await (const entry of ex) {
      signal?.throwIfAborted();
      const body = { [Symbol.asyncIterator]: () => entry[Symbol.asyncIterator]() } as EntryBody;
      await onEntry(entry.header, body);
      entry.resume();
    }
  } catch (err) {
    // An entry's body fails with a bare "premature close" when the archive itself failed: report the archive's error.
    await new Promise((resolve) => setImmediate(resolve));
    const cause = signal?.aborted ? (signal.reason ?? err) : (input.errored ?? extractError ?? err);
    throw toArchiveError(cause, what);
  } finally {
    signal?.removeEventListener('abort', abort);
    if (source && source !== input) source.destroy();
  }
}
