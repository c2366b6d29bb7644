import { LayerError } from '../errors.js';
import { BLOCK, decodeBlock, decodePax, padding, type TarHeader, typeOf } from './header.js';

/** Holes of sparse files are given as zero chunks of at most this size. */
const SPARSE_ZERO_CHUNK = 1 << 20;
/** More regions than this in one sparse map is refused (Go's archive/tar allows as many as memory does). */
const SPARSE_MAX_ENTRIES = 1 << 20;

export interface TarReaderOptions {
  /** Called with everything read (for the diff ID), including what follows the end-of-archive marker. */
  onData?: (chunk: Buffer) => void;
  /** What the stream is, in error messages: `unexpected end of layer …` (default `layer`). */
  subject?: string;
}

/**
 * A pull-based streaming tar reader: `next()` gives the next entry's header and
 * `body()` its data, chunk by chunk, without buffering whole entries. PAX (x, g)
 * and GNU long names (L, K) are folded into the header; values stay binary.
 * GNU sparse files in PAX form (versions 0.0, 0.1 and 1.0, as GNU tar and
 * bsdtar write them) come out as regular files of their real name and size, holes
 * read as zeros, as Go's archive/tar gives them to docker. It gives entries as
 * they are written: whiteouts (`.wh.*`) are the caller's to interpret or not.
 * What follows the end-of-archive marker is drained.
 */
export class TarReader {
  private readonly source: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private eof = false;
  private remaining = 0;
  private pad = 0;
  private global = new Map<string, Buffer>();
  /** The current entry's data regions when it is a sparse file (offset and length in the real file). */
  private sparse: { map: [number, number][]; size: number } | undefined;
  private finished = false;
  private readonly onData: ((chunk: Buffer) => void) | undefined;
  private readonly subject: string;
  /** Bytes read from the source so far. */
  bytes = 0;

  /** `options` may be just the `onData` callback. */
  constructor(source: AsyncIterable<Buffer>, options: TarReaderOptions = {}) {
    this.source = source[Symbol.asyncIterator]();
    this.onData = options.onData;
    this.subject = options.subject ?? 'layer';
  }

  private truncated(what: string): LayerError {
    return new LayerError('TSB_LAYER_CORRUPT', `unexpected end of ${this.subject} ${what}`);
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.eof) {
      const r = await this.source.next();
      if (r.done) {
        this.eof = true;
        break;
      }
      const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      if (!chunk.length) continue;
      this.bytes += chunk.length;
      this.onData?.(chunk);
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return this.buffered >= n;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }

  private async read(n: number, what: string): Promise<Buffer> {
    if (!(await this.fill(n))) throw this.truncated(`while reading ${what}`);
    return this.take(n);
  }

  private async skip(n: number, what: string): Promise<void> {
    while (n > 0) {
      if (!this.buffered && !(await this.fill(1))) throw this.truncated(`while reading ${what}`);
      const k = Math.min(n, this.buffered, (this.chunks[0] as Buffer).length);
      this.take(k);
      n -= k;
    }
  }

  /** The data of the current entry. Unread data is skipped by the next `next()`. */
  async *body(): AsyncGenerator<Buffer> {
    if (this.sparse) {
      yield* this.sparseBody(this.sparse);
      return;
    }
    yield* this.stored(this.remaining);
  }

  /** Up to `n` bytes of the entry's stored data. */
  private async *stored(n: number): AsyncGenerator<Buffer> {
    let left = Math.min(n, this.remaining);
    while (left > 0) {
      if (!this.buffered && !(await this.fill(1))) throw this.truncated('inside a file');
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, left);
      this.remaining -= k;
      left -= k;
      yield this.take(k);
    }
  }

  /** A sparse file's data: its stored regions in place, zeros in the holes between and after them. */
  private async *sparseBody(sparse: { map: [number, number][]; size: number }): AsyncGenerator<Buffer> {
    this.sparse = undefined;
    let pos = 0;
    const zeros = function* (n: number) {
      for (let left = n; left > 0; left -= SPARSE_ZERO_CHUNK) yield Buffer.alloc(Math.min(left, SPARSE_ZERO_CHUNK));
    };
    for (const [offset, length] of sparse.map) {
      yield* zeros(offset - pos);
      yield* this.stored(length);
      pos = offset + length;
    }
    yield* zeros(sparse.size - pos);
  }

  /** Reads a sparse 1.0 map from the front of the entry's data: decimal numbers, one a line, in whole blocks. */
  private async sparseMap1x0(name: string): Promise<[number, number][]> {
    const numbers: number[] = [];
    let text = '';
    let want = 1;
    while (numbers.length < want) {
      if (this.remaining < BLOCK) throw new LayerError('TSB_LAYER_CORRUPT', `invalid sparse map for ${name}`);
      text += (await this.read(BLOCK, 'a sparse map')).toString('latin1');
      this.remaining -= BLOCK;
      let nl = text.indexOf('\n');
      while (nl >= 0 && numbers.length < want) {
        const field = text.slice(0, nl);
        if (!/^\d+$/.test(field)) throw new LayerError('TSB_LAYER_CORRUPT', `invalid sparse map for ${name}`);
        numbers.push(Number(field));
        if (numbers.length === 1) {
          if (!Number.isSafeInteger(2 * (numbers[0] as number)) || (numbers[0] as number) > SPARSE_MAX_ENTRIES) {
            throw new LayerError('TSB_LAYER_LIMIT', `a sparse map of ${numbers[0]} entries for ${name}`);
          }
          want = 1 + 2 * (numbers[0] as number);
        }
        text = text.slice(nl + 1);
        nl = text.indexOf('\n');
      }
    }
    const map: [number, number][] = [];
    for (let i = 1; i < numbers.length; i += 2) map.push([numbers[i] as number, numbers[i + 1] as number]);
    return map;
  }

  /** The next entry, or null at the end of the archive (the rest of the stream is drained). */
  async next(): Promise<TarHeader | null> {
    if (this.finished) return null;
    await this.skip(this.remaining + this.pad, 'an entry');
    this.remaining = 0;
    this.pad = 0;
    this.sparse = undefined;
    let pax: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      if (!(await this.fill(BLOCK))) {
        if (this.buffered === 0 && pax === undefined && longName === undefined && longLink === undefined) {
          this.finished = true;
          return null;
        }
        throw this.truncated('inside a header');
      }
      let raw: ReturnType<typeof decodeBlock>;
      try {
        raw = decodeBlock(this.take(BLOCK));
      } catch (err) {
        throw new LayerError('TSB_LAYER_CORRUPT', `invalid tar header: ${(err as Error).message}`, { cause: err });
      }
      if (raw === null) {
        await this.drain();
        return null;
      }
      const kind = typeOf(raw.typeflag);
      if (kind === 'pax' || kind === 'global' || kind === 'gnu-longname' || kind === 'gnu-longlink') {
        if (raw.size > 1 << 20) throw new LayerError('TSB_LAYER_LIMIT', `a ${kind} header of ${raw.size} bytes`);
        const data = await this.read(raw.size, 'an extended header');
        await this.skip(padding(raw.size), 'an extended header');
        try {
          if (kind === 'pax') pax = new Map([...(pax ?? []), ...decodePax(data)]);
          else if (kind === 'global') this.global = new Map([...this.global, ...decodePax(data)]);
          else {
            const s = data.toString('utf8').replace(/\0+$/, '');
            if (kind === 'gnu-longname') longName = s;
            else longLink = s;
          }
        } catch (err) {
          throw new LayerError('TSB_LAYER_CORRUPT', `invalid extended header: ${(err as Error).message}`, {
            cause: err,
          });
        }
        continue;
      }
      const ext = pax === undefined ? this.global : this.global.size ? new Map([...this.global, ...pax]) : pax;
      const str = (k: string) => ext.get(k)?.toString('utf8');
      if (kind === undefined) {
        throw new LayerError(
          'TSB_LAYER_UNSUPPORTED',
          `unsupported tar entry type ${JSON.stringify(String.fromCharCode(raw.typeflag))} for ${str('path') ?? longName ?? raw.name}`,
        );
      }
      const num = (k: string, fallback: number) => {
        const v = str(k);
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!Number.isFinite(n)) throw new LayerError('TSB_LAYER_CORRUPT', `invalid pax ${k} ${JSON.stringify(v)}`);
        return n;
      };
      const xattrs = new Map<string, Buffer>();
      for (const [k, v] of ext) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice(13), v);
      let name = str('path') ?? longName ?? raw.name;
      let type = kind;
      if (name.endsWith('/') && type === 'file') type = 'dir';
      while (name.endsWith('/') && name.length > 1) name = name.slice(0, -1);
      const header: TarHeader = {
        name,
        type,
        mode: raw.mode & 0o7777,
        uid: num('uid', raw.uid),
        gid: num('gid', raw.gid),
        size: num('size', raw.size),
        mtime: num('mtime', raw.mtime),
        linkname: str('linkpath') ?? longLink ?? raw.linkname,
        devmajor: raw.devmajor,
        devminor: raw.devminor,
        xattrs,
      };
      if (!Number.isSafeInteger(header.size) || header.size < 0) {
        throw new LayerError('TSB_LAYER_CORRUPT', `invalid size for ${name}`);
      }
      // Only regular files carry data (as Go's archive/tar reads links, devices, dirs and fifos).
      if (type !== 'file') header.size = 0;
      this.remaining = header.size;
      this.pad = padding(header.size);
      if (type === 'file') await this.readSparse(header, str);
      return header;
    }
  }

  /**
   * A GNU sparse file in PAX form, recognized as Go's archive/tar does: its
   * real name and size go into `header`, and its map (from GNU.sparse.map for
   * 0.0 and 0.1, from the front of the data for 1.0) is kept for body().
   */
  private async readSparse(header: TarHeader, str: (k: string) => string | undefined): Promise<void> {
    const major = str('GNU.sparse.major');
    const minor = str('GNU.sparse.minor');
    const mapText = str('GNU.sparse.map');
    let v1 = false;
    if (major === '1' && minor === '0') v1 = true;
    else if (major === '0' && (minor === '0' || minor === '1')) v1 = false;
    else if (major !== undefined || minor !== undefined) return;
    else if (mapText === undefined) return;
    const bad = () => new LayerError('TSB_LAYER_CORRUPT', `invalid sparse map for ${header.name}`);
    const name = str('GNU.sparse.name');
    if (name) header.name = name.replace(/\/+$/, '') || name;
    const sizeText = str('GNU.sparse.size') ?? str('GNU.sparse.realsize');
    let map: [number, number][];
    if (v1) map = await this.sparseMap1x0(header.name);
    else {
      const fields = (mapText ?? '').split(',');
      if (mapText === '' || fields.length % 2 !== 0 || !fields.every((f) => /^\d+$/.test(f))) throw bad();
      if (fields.length / 2 > SPARSE_MAX_ENTRIES) {
        throw new LayerError('TSB_LAYER_LIMIT', `a sparse map of ${fields.length / 2} entries for ${header.name}`);
      }
      map = [];
      for (let i = 0; i < fields.length; i += 2) map.push([Number(fields[i]), Number(fields[i + 1])]);
    }
    const size = sizeText === undefined ? header.size : Number(sizeText);
    if (!/^\d*$/.test(sizeText ?? '') || !Number.isSafeInteger(size)) throw bad();
    // Regions in order, apart, inside the file; their lengths add up to the data stored.
    let end = 0;
    let stored = 0;
    for (const [offset, length] of map) {
      if (!Number.isSafeInteger(offset + length) || offset < end || offset + length > size) throw bad();
      end = offset + length;
      stored += length;
    }
    if (stored !== this.remaining) throw bad();
    header.size = size;
    this.sparse = { map, size };
  }

  private async drain(): Promise<void> {
    this.finished = true;
    this.chunks = [];
    this.buffered = 0;
    while (!this.eof) {
      const r = await this.source.next();
      if (r.done) break;
      const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      this.bytes += chunk.length;
      this.onData?.(chunk);
    }
    this.eof = true;
  }
}
