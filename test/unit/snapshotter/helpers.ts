import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { BLOCK, END_OF_ARCHIVE, encodeHeader, padding, type TarHeader } from '../../../snapshotter/tar/header.js';
import { TarReader, type TarReaderOptions } from '../../../snapshotter/tar/reader.js';

export interface TarEntry extends Partial<TarHeader> {
  name: string;
  data?: string | Buffer;
}

/** A tar built entry by entry (any header, including malicious ones). */
export function makeTar(entries: TarEntry[], o: { gzip?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const h: TarHeader = {
      type: 'file',
      mode: e.type === 'dir' ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      mtime: 1_700_000_000,
      linkname: '',
      devmajor: 0,
      devminor: 0,
      xattrs: new Map(),
      ...e,
      size: e.type === undefined || e.type === 'file' ? data.length : 0,
    };
    parts.push(encodeHeader(h));
    if (h.type === 'file' && data.length) parts.push(data, Buffer.alloc(padding(data.length)));
  }
  parts.push(END_OF_ARCHIVE);
  const tar = Buffer.concat(parts);
  if (tar.length % BLOCK) throw new Error('tar not block aligned');
  return o.gzip ? gzipSync(tar) : tar;
}

export function stream(buf: Buffer): Readable {
  return Readable.from([buf]);
}

/** A temp dir under /var/tmp (a real disk: overlay cannot use tmpfs upper dirs on every kernel). */
export function tempDir(prefix = 'tsb-sn-'): { dir: string; remove: () => void } {
  const base = process.getuid?.() === 0 ? '/var/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every entry of a tar read with TarReader (its data as latin1), and the bytes the reader consumed. */
export async function readTarEntries(parts: Iterable<Buffer>, options?: TarReaderOptions) {
  const reader = new TarReader(Readable.from(parts), options);
  const entries: (TarHeader & { data: string })[] = [];
  for (;;) {
    const h = await reader.next();
    if (!h) break;
    const body: Buffer[] = [];
    for await (const c of reader.body()) body.push(c);
    entries.push({ ...h, data: Buffer.concat(body).toString('latin1') });
  }
  return { entries, bytes: reader.bytes };
}
