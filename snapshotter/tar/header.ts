/**
 * The tar header codec: ustar headers with PAX extended headers (POSIX.1-2001),
 * binary-safe for SCHILY.xattr.* values, as Go's archive/tar writes for Docker
 * and BuildKit layers.
 */

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Relative path, `/`-separated, without a trailing slash. */
  name: string;
  type: TarType;
  /** Permission and special bits (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch; fractional only when a PAX mtime said so. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

export const BLOCK = 512;

const TYPEFLAG: Record<TarType, number> = {
  file: 0x30,
  link: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
};

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7e || s.charCodeAt(i) < 0x20) return false;
  return true;
}

function writeOctal(buf: Buffer, value: number, offset: number, width: number): void {
  const s = Math.max(0, Math.floor(value))
    .toString(8)
    .padStart(width - 1, '0');
  buf.write(s, offset, width - 1, 'ascii');
  buf[offset + width - 1] = 0;
}

/** Splits a long name into ustar prefix (≤155) and name (≤100), or null. */
function splitUstar(name: string): [string, string] | null {
  if (name.length <= 100) return ['', name];
  for (let i = name.length - 101; i < name.length; i++) {
    if (i <= 0) continue;
    if (name[i] === '/' && i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return [name.slice(0, i), name.slice(i + 1)];
    }
  }
  return null;
}

function paxRecord(key: string, value: Buffer): Buffer {
  // "<len> <key>=<value>\n" where len counts the whole record including its own digits.
  const body = 3 + Buffer.byteLength(key) + value.length; // ' ', '=', '\n'
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function ustarBlock(
  name: string,
  prefix: string,
  h: { mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string },
  typeflag: number,
  devmajor: number,
  devminor: number,
): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(name, 0, 100, 'utf8');
  writeOctal(buf, h.mode & 0o7777, 100, 8);
  writeOctal(buf, h.uid > MAX_OCTAL_7 ? 0 : h.uid, 108, 8);
  writeOctal(buf, h.gid > MAX_OCTAL_7 ? 0 : h.gid, 116, 8);
  writeOctal(buf, h.size > MAX_OCTAL_11 ? 0 : h.size, 124, 12);
  writeOctal(buf, h.mtime > MAX_OCTAL_11 || h.mtime < 0 ? 0 : h.mtime, 136, 12);
  buf[156] = typeflag;
  buf.write(h.linkname, 157, 100, 'utf8');
  buf.write('ustar\x0000', 257, 8, 'binary');
  writeOctal(buf, devmajor, 329, 8);
  writeOctal(buf, devminor, 337, 8);
  buf.write(prefix, 345, 155, 'utf8');
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i] as number;
  writeOctal(buf, sum, 148, 7);
  buf[155] = 0x20;
  return buf;
}

/** A header as blocks (a PAX header first when ustar cannot hold it); the caller writes the data and padding. */
export function encodeHeader(h: TarHeader): Buffer {
  const name = h.type === 'dir' ? `${h.name}/` : h.name;
  const records: Buffer[] = [];
  let ustarName = name;
  let prefix = '';
  const split = isAscii(name) ? splitUstar(name) : null;
  if (split) [prefix, ustarName] = split;
  else {
    records.push(paxRecord('path', Buffer.from(name)));
    ustarName = asciiTail(name, 100);
  }
  let linkname = h.linkname;
  if (linkname.length > 100 || !isAscii(linkname)) {
    records.push(paxRecord('linkpath', Buffer.from(linkname)));
    linkname = asciiTail(linkname, 100);
  }
  if (h.uid > MAX_OCTAL_7) records.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > MAX_OCTAL_7) records.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (h.size > MAX_OCTAL_11) records.push(paxRecord('size', Buffer.from(String(h.size))));
  if (h.mtime > MAX_OCTAL_11 || h.mtime < 0) records.push(paxRecord('mtime', Buffer.from(String(h.mtime))));
  for (const [k, v] of [...h.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  }
  const fields = { ...h, linkname };
  const entry = ustarBlock(ustarName, prefix, fields, TYPEFLAG[h.type], h.devmajor, h.devminor);
  if (!records.length) return entry;
  const pax = Buffer.concat(records);
  const paxName = asciiTail(`PaxHeaders.0/${name.split('/').filter(Boolean).pop() ?? ''}`, 100);
  const paxHead = ustarBlock(paxName, '', { ...fields, size: pax.length, linkname: '' }, 0x78, 0, 0);
  return Buffer.concat([paxHead, pax, Buffer.alloc(padding(pax.length)), entry]);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function asciiTail(s: string, max: number): string {
  const a = s.replace(/[^\x20-\x7e]/g, '_');
  return a.length <= max ? a : a.slice(a.length - max);
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

// ---- decoding ----

export interface RawHeader {
  name: string;
  typeflag: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function readString(buf: Buffer, offset: number, width: number): string {
  let end = offset;
  while (end < offset + width && buf[end] !== 0) end++;
  return buf.toString('utf8', offset, end);
}

/** Octal (padded with spaces or NULs on either side), or GNU base-256 when the high bit of the first byte is set. NaN on garbage. */
function readNumber(buf: Buffer, offset: number, width: number): number {
  const first = buf[offset] as number;
  if (first & 0x80) {
    let v = first & 0x7f;
    for (let i = 1; i < width; i++) v = v * 256 + (buf[offset + i] as number);
    return v;
  }
  const end = offset + width;
  let i = offset;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const b = buf[i] as number;
    if (b < 0x30 || b > 0x37) break;
    v = v * 8 + (b - 0x30);
  }
  for (; i < end; i++) if (buf[i] !== 0x20 && buf[i] !== 0) return Number.NaN;
  return v;
}

/** Decodes one 512-byte header block; null for an all-zero block; throws on a bad checksum. */
export function decodeBlock(buf: Buffer): RawHeader | null {
  let zero = true;
  for (let i = 0; i < BLOCK; i++) {
    if (buf[i] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) return null;
  // The checksum field counts as spaces; old tars summed signed bytes, and Go's reader accepts either sum.
  let sum = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (buf[i] as number);
    sum += b;
    signed += b > 127 ? b - 256 : b;
  }
  const stored = readNumber(buf, 148, 8);
  if (stored !== sum && stored !== signed) throw new Error('bad tar header checksum');
  let name = readString(buf, 0, 100);
  const magic = buf.toString('binary', 257, 263);
  if (magic === 'ustar\0') {
    const prefix = readString(buf, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const header: RawHeader = {
    name,
    typeflag: buf[156] as number,
    mode: readNumber(buf, 100, 8),
    uid: readNumber(buf, 108, 8),
    gid: readNumber(buf, 116, 8),
    size: readNumber(buf, 124, 12),
    mtime: readNumber(buf, 136, 12),
    linkname: readString(buf, 157, 100),
    devmajor: readNumber(buf, 329, 8),
    devminor: readNumber(buf, 337, 8),
  };
  for (const k of ['mode', 'uid', 'gid', 'size', 'mtime'] as const) {
    if (!Number.isFinite(header[k])) throw new Error(`bad ${k} field in tar header for ${name}`);
  }
  if (!Number.isFinite(header.devmajor)) header.devmajor = 0;
  if (!Number.isFinite(header.devminor)) header.devminor = 0;
  return header;
}

/**
 * Whether a block is a tar header Go's reader would take as an archive's first
 * (a valid checksum and numeric fields); an all-zero block is not, since Go
 * reads it as the end of the archive, or as a fault when a header follows it.
 */
export function isTarHeader(buf: Buffer): boolean {
  if (buf.length < BLOCK) return false;
  try {
    return decodeBlock(buf.subarray(0, BLOCK)) !== null;
  } catch {
    return false;
  }
}

/** Parses PAX records; values stay raw bytes (xattrs are binary). */
export function decodePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  // GNU sparse 0.0 repeats offset and numbytes records: gathered in order into GNU.sparse.map, as Go does.
  const sparse: string[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break;
    const space = buf.indexOf(0x20, pos);
    if (space < 0) throw new Error('bad pax record');
    const len = Number(buf.toString('ascii', pos, space));
    if (!Number.isInteger(len) || len <= space - pos + 1 || pos + len > buf.length) throw new Error('bad pax record');
    const rec = buf.subarray(space + 1, pos + len - 1);
    if (buf[pos + len - 1] !== 0x0a) throw new Error('bad pax record');
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new Error('bad pax record');
    const key = rec.toString('utf8', 0, eq);
    if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes') sparse.push(rec.toString('utf8', eq + 1));
    else out.set(key, Buffer.from(rec.subarray(eq + 1)));
    pos += len;
  }
  if (sparse.length) out.set('GNU.sparse.map', Buffer.from(sparse.join(',')));
  return out;
}

export function typeOf(flag: number): TarType | 'pax' | 'global' | 'gnu-longname' | 'gnu-longlink' | undefined {
  switch (flag) {
    case 0:
    case 0x30:
    case 0x37:
      return 'file';
    case 0x31:
      return 'link';
    case 0x32:
      return 'symlink';
    case 0x33:
      return 'char';
    case 0x34:
      return 'block';
    case 0x35:
      return 'dir';
    case 0x36:
      return 'fifo';
    case 0x78:
      return 'pax';
    case 0x67:
      return 'global';
    case 0x4c:
      return 'gnu-longname';
    case 0x4b:
      return 'gnu-longlink';
    default:
      return undefined;
  }
}
