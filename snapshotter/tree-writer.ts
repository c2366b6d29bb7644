import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { LayerSink } from './compression.js';
import { abortError } from './errors.js';
import { fsOps } from './native.js';
import { encodeHeader, padding, type TarHeader } from './tar/header.js';

const READ_CHUNK = 1 << 20;
/** Files up to this size go out as one write with their header. */
const SMALL = 64 * 1024;

/** xattrs never copied between trees: overlay's own, and host-specific SELinux labels. */
export function keepXattr(name: string): boolean {
  return !name.startsWith('trusted.overlay.') && !name.startsWith('user.overlay.') && name !== 'security.selinux';
}

/**
 * The one xattr written to layers: file capabilities. Docker's layer tars and
 * BuildKit's (containerd's archive ChangeWriter) carry `security.capability`
 * and nothing else, so `user.*` and `trusted.*` attributes never reach an image.
 */
export function layerXattr(name: string): boolean {
  return name === 'security.capability';
}

export function sortedNames(dir: string): string[] {
  return readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Turns files into tar entries in a LayerSink: numeric uid/gid, mtimes in whole
 * seconds, security.capability as SCHILY.xattr (see layerXattr), hardlinks (a second path of an inode becomes
 * a link entry), symlinks, fifos and devices. Sockets are skipped, as Docker does.
 */
export class TreeWriter {
  private readonly inodes = new Map<string, string>();
  private readonly ops = fsOps();
  empty = true;

  constructor(
    private readonly sink: LayerSink,
    private readonly signal?: AbortSignal,
  ) {}

  /** The header for `path` (its lstat `st`) named `rel`, or undefined for a socket. */
  header(path: string, rel: string, st: Stats): TarHeader | undefined {
    const h: TarHeader = {
      name: rel,
      type: 'file',
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      linkname: '',
      devmajor: 0,
      devminor: 0,
      xattrs: this.xattrs(path),
    };
    if (st.isDirectory()) h.type = 'dir';
    else if (st.isFile()) {
      if (st.nlink > 1) {
        const id = `${st.dev}:${st.ino}`;
        const first = this.inodes.get(id);
        if (first !== undefined) {
          h.type = 'link';
          h.linkname = first;
          return h;
        }
        this.inodes.set(id, rel);
      }
      h.size = st.size;
    } else if (st.isSymbolicLink()) {
      h.type = 'symlink';
      h.linkname = readlinkSync(path);
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      h.type = st.isCharacterDevice() ? 'char' : 'block';
      h.devmajor = Math.floor(st.rdev / 256) & 0xfff;
      h.devminor = (st.rdev & 0xff) | (Math.floor(st.rdev / 4096) & 0xfff00);
    } else if (st.isFIFO()) h.type = 'fifo';
    else return undefined;
    return h;
  }

  private xattrs(path: string): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const name of this.ops.listXattrs(path)) {
      if (!layerXattr(name)) continue;
      const v = this.ops.getXattr(path, name);
      if (v) out.set(name, v);
    }
    return out;
  }

  /** Writes one entry; a regular file's data is read from `path` (up to h.size bytes, as stat saw it). */
  async add(h: TarHeader, path?: string): Promise<void> {
    if (this.signal?.aborted) throw abortError(this.signal);
    this.empty = false;
    const head = encodeHeader(h);
    if (h.type !== 'file' || h.size === 0 || !path) {
      await this.sink.write(head);
      return;
    }
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (h.size <= SMALL) {
        const buf = Buffer.allocUnsafe(head.length + h.size + padding(h.size));
        head.copy(buf, 0);
        const n = readFull(fd, buf, head.length, h.size);
        buf.fill(0, head.length + n);
        await this.sink.write(buf);
        return;
      }
      await this.sink.write(head);
      let left = h.size;
      while (left > 0) {
        const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
        const n = readFull(fd, chunk, 0, chunk.length);
        // A file that shrank while being read is padded with zeros, so the tar stays well-formed.
        if (n < chunk.length) chunk.fill(0, n);
        left -= chunk.length;
        await this.sink.write(chunk);
      }
      const pad = padding(h.size);
      if (pad) await this.sink.write(Buffer.alloc(pad));
    } finally {
      closeSync(fd);
    }
  }

  /** Every entry below `dir` (not `dir` itself), depth first, names sorted, parents before children. */
  async addTree(dir: string, prefix = ''): Promise<void> {
    for (const name of sortedNames(dir)) {
      const path = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = lstatSync(path);
      const h = this.header(path, rel, st);
      if (!h) continue;
      await this.add(h, path);
      if (st.isDirectory()) await this.addTree(path, rel);
    }
  }
}

function readFull(fd: number, buf: Buffer, offset: number, length: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, offset + got, length - got, null);
    if (n === 0) break;
    got += n;
  }
  return got;
}

export function whiteoutHeader(rel: string, like: { uid: number; gid: number; mtime: number }): TarHeader {
  const i = rel.lastIndexOf('/');
  const name = i < 0 ? `.wh.${rel}` : `${rel.slice(0, i)}/.wh.${rel.slice(i + 1)}`;
  return {
    name,
    type: 'file',
    mode: 0o600,
    uid: like.uid,
    gid: like.gid,
    size: 0,
    mtime: like.mtime,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
  };
}
