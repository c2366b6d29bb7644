import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  type Stats,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { abortError, LayerError } from './errors.js';
import { fsOps } from './native.js';
import type { TarHeader } from './tar/header.js';
import type { TarReader } from './tar/reader.js';

export interface ExtractLimits {
  /** Entries in one layer (default 10,000,000). */
  maxEntries: number;
  /** Bytes of file data in one layer (default: no cap besides the disk). */
  maxBytes: number;
  /** Path components (default 1024). */
  maxDepth: number;
  /** Bytes in one path (default 4096, PATH_MAX). */
  maxPathBytes: number;
}

export const DEFAULT_LIMITS: ExtractLimits = {
  maxEntries: 10_000_000,
  maxBytes: Number.MAX_SAFE_INTEGER,
  maxDepth: 1024,
  maxPathBytes: 4096,
};

export interface ExtractOptions {
  /** The directory written into: an overlay upper dir or a naive snapshot's full tree. */
  root: string;
  /** Overlay lower fs dirs, nearest first; empty for naive. */
  lowers: string[];
  /** `overlay`: whiteouts become char 0/0 devices and opaque xattrs; `delete`: they delete. */
  whiteouts: 'overlay' | 'delete';
  rootless: boolean;
  limits?: Partial<ExtractLimits>;
  signal?: AbortSignal;
}

/** O_PATH (Linux; absent from Node's fs.constants typings). */
const O_PATH = 0o10000000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const MAX_LINKS = 40;
const OPAQUE = '.wh..wh..opq';
const WH = '.wh.';

/** A directory reached while resolving a path: its real path below the root and where it shows in the lowers. */
interface Dir {
  rel: string;
  /** Lower fs dirs in which `rel` is a visible directory (overlay merge order). */
  lowers: string[];
}

interface Deferred {
  path: string;
  ino: number;
  h: TarHeader;
}

const isWhiteout = (st: Stats | undefined) => !!st && st.isCharacterDevice() && st.rdev === 0;

function lstat(p: string): Stats | undefined {
  return lstatSync(p, { throwIfNoEntry: false });
}

/**
 * Normalises a tar path to components. `..` may not climb above the root
 * (TSB_LAYER_BREAKOUT); a leading `/` is dropped, as Go's filepath.Clean does
 * for rooted names.
 */
export function cleanPath(name: string, what = 'entry'): string[] {
  const absolute = name.startsWith('/');
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length) out.pop();
      else if (!absolute)
        throw new LayerError('TSB_LAYER_BREAKOUT', `${what} ${JSON.stringify(name)} is outside the root`);
      continue;
    }
    if (c.includes('\0')) throw new LayerError('TSB_LAYER_INVALID', `${what} ${JSON.stringify(name)} contains a NUL`);
    out.push(c);
  }
  return out;
}

/**
 * Writes a layer's entries below `root`, safely: every path is resolved one
 * component at a time inside the root (symlinks followed only while they stay
 * inside, as os.Root does), files are opened with O_NOFOLLOW|O_EXCL, and
 * ownership, modes and times are set through fds or l* calls, never through a symlink.
 */
export class Extractor {
  private readonly root: string;
  private readonly limits: ExtractLimits;
  private readonly dirs = new Map<string, Dir>();
  private readonly deferred: Deferred[] = [];
  /** Paths this layer wrote (naive opaque dirs keep these). */
  private readonly created = new Set<string>();
  private entries = 0;
  private bytes = 0;
  private readonly xattrOps = fsOps();

  constructor(private readonly o: ExtractOptions) {
    this.root = o.root;
    this.limits = { ...DEFAULT_LIMITS, ...(o.limits ?? {}) };
  }

  async run(reader: TarReader): Promise<void> {
    for (;;) {
      if (this.o.signal?.aborted) throw abortError(this.o.signal);
      const h = await reader.next();
      if (!h) break;
      await this.entry(h, reader);
    }
    this.finish();
  }

  private async entry(h: TarHeader, reader: TarReader): Promise<void> {
    if (++this.entries > this.limits.maxEntries) {
      throw new LayerError('TSB_LAYER_LIMIT', `the layer has more than ${this.limits.maxEntries} entries`);
    }
    if (Buffer.byteLength(h.name) > this.limits.maxPathBytes) {
      throw new LayerError('TSB_LAYER_LIMIT', `entry name longer than ${this.limits.maxPathBytes} bytes`);
    }
    this.bytes += h.size;
    if (this.bytes > this.limits.maxBytes) {
      throw new LayerError('TSB_LAYER_LIMIT', `the layer holds more than ${this.limits.maxBytes} bytes of file data`);
    }
    const comps = cleanPath(h.name);
    if (comps.length > this.limits.maxDepth) {
      throw new LayerError('TSB_LAYER_LIMIT', `entry ${h.name} is deeper than ${this.limits.maxDepth} directories`);
    }
    if (comps.length === 0) {
      if (h.type === 'dir') this.defer(this.root, h);
      return;
    }
    // AUFS metadata (.wh..wh.plnk, .wh..wh.aufs) and everything below it is not content.
    if (comps.some((c) => c.startsWith(`${WH}${WH}`) && c !== OPAQUE)) return;
    const base = comps[comps.length - 1] as string;
    if (base.length > 255) throw new LayerError('TSB_LAYER_LIMIT', `entry ${h.name} has a name over 255 bytes`);
    const dir = this.resolveDir(comps.slice(0, -1), 0);
    if (base === OPAQUE) {
      this.opaque(dir);
      return;
    }
    if (base.startsWith(WH)) {
      const name = base.slice(WH.length);
      if (name === '' || name === '.' || name === '..') {
        throw new LayerError('TSB_LAYER_BREAKOUT', `whiteout ${JSON.stringify(h.name)} names no entry`);
      }
      this.whiteout(dir, name);
      return;
    }
    await this.create(dir, base, h, reader);
  }

  // ---- path resolution ----

  private resolveDir(comps: string[], depth: number): Dir {
    const key = comps.join('/');
    const hit = this.dirs.get(key);
    if (hit) return hit;
    let cur: Dir = { rel: '', lowers: this.rootLowers() };
    for (let i = 0; i < comps.length; i++) {
      cur = this.step(cur, comps[i] as string, depth);
    }
    this.dirs.set(key, cur);
    return cur;
  }

  private rootLowers(): string[] {
    return this.isOpaque(this.root) ? [] : this.o.lowers;
  }

  private isOpaque(p: string): boolean {
    if (this.o.whiteouts !== 'overlay') return false;
    const v = this.xattrOps.getXattr(p, 'trusted.overlay.opaque') ?? this.xattrOps.getXattr(p, 'user.overlay.opaque');
    return v?.toString() === 'y';
  }

  /** Lowers (after `lowers`) in which rel is a visible dir, by overlay's rules. */
  private mergeLowers(lowers: string[], rel: string): string[] {
    const out: string[] = [];
    for (const l of lowers) {
      const p = join(l, rel);
      const st = lstat(p);
      if (!st) continue;
      if (!st.isDirectory()) break; // a whiteout or a non-dir hides everything below
      out.push(l);
      if (this.isOpaque(p)) break;
    }
    return out;
  }

  /** One component: returns the real directory it leads to, creating it in the root if needed. */
  private step(cur: Dir, comp: string, depth: number): Dir {
    const rel = cur.rel ? `${cur.rel}/${comp}` : comp;
    const p = join(this.root, rel);
    const st = lstat(p);
    if (st && !isWhiteout(st)) {
      if (st.isDirectory()) return { rel, lowers: this.isOpaque(p) ? [] : this.mergeLowers(cur.lowers, rel) };
      if (st.isSymbolicLink()) return this.follow(readlinkSync(p), cur.rel, depth);
      throw new LayerError('TSB_LAYER_INVALID', `${rel} is not a directory`);
    }
    if (!st) {
      for (let i = 0; i < cur.lowers.length; i++) {
        const lp = join(cur.lowers[i] as string, rel);
        const ls = lstat(lp);
        if (!ls) continue;
        if (isWhiteout(ls)) break;
        if (ls.isSymbolicLink()) return this.follow(readlinkSync(lp), cur.rel, depth);
        if (!ls.isDirectory()) throw new LayerError('TSB_LAYER_INVALID', `${rel} is not a directory`);
        // Copy the lower dir's metadata up, so the merged view keeps it.
        mkdirSync(p, { mode: 0o700 });
        this.copyMeta(p, ls);
        return { rel, lowers: this.mergeLowers(cur.lowers.slice(i), rel) };
      }
    }
    // Missing (or whited out): a new directory, as MkdirAll makes parents (0755, root-owned).
    if (st) unlinkSync(p);
    mkdirSync(p, { mode: 0o755 });
    if (st) this.setOpaque(p);
    this.created.add(rel);
    return { rel, lowers: [] };
  }

  /**
   * Follows a symlink met while resolving a parent directory: an absolute target
   * is taken from the root (as in a chroot); a relative one from the link's own
   * directory, and it may not climb above the root (TSB_LAYER_BREAKOUT).
   */
  private follow(target: string, linkDir: string, depth: number): Dir {
    if (depth >= MAX_LINKS) throw new LayerError('TSB_LAYER_INVALID', 'too many levels of symbolic links');
    const joined = target.startsWith('/') ? target : linkDir ? `${linkDir}/${target}` : target;
    return this.resolveDirUncached(cleanPath(joined, `symlink ${target} in /${linkDir}`), depth + 1);
  }

  private resolveDirUncached(comps: string[], depth: number): Dir {
    let cur: Dir = { rel: '', lowers: this.rootLowers() };
    for (const c of comps) cur = this.step(cur, c, depth);
    return cur;
  }

  private copyMeta(p: string, st: Stats): void {
    if (!this.o.rootless) lchownSync(p, st.uid, st.gid);
    const fd = openSync(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      fchmodSync(fd, this.o.rootless ? st.mode & 0o1777 : st.mode & 0o7777);
      futimesSync(fd, st.atime, st.mtime);
    } finally {
      closeSync(fd);
    }
  }

  private setOpaque(p: string): void {
    if (this.o.whiteouts === 'overlay') {
      this.xattrOps.setXattr(p, this.o.rootless ? 'user.overlay.opaque' : 'trusted.overlay.opaque', Buffer.from('y'));
    }
  }

  // ---- whiteouts ----

  private whiteout(dir: Dir, name: string): void {
    const rel = dir.rel ? `${dir.rel}/${name}` : name;
    const p = join(this.root, rel);
    const st = lstat(p);
    if (st) rmSync(p, { recursive: true, force: true });
    this.dirs.clear();
    if (this.o.whiteouts === 'overlay') {
      const inLowers = dir.lowers.some((l) => lstat(join(l, rel)) !== undefined);
      if (inLowers) this.xattrOps.mknod(p, S_IFCHR, 0, 0);
    }
    this.created.delete(rel);
  }

  private opaque(dir: Dir): void {
    const p = join(this.root, dir.rel);
    if (this.o.whiteouts === 'overlay') {
      this.setOpaque(p);
    } else {
      this.clearOld(dir.rel);
    }
    this.dirs.clear();
  }

  /** Naive opaque dir: removes what this layer did not write, recursively. */
  private clearOld(rel: string): void {
    const p = join(this.root, rel);
    for (const name of readdirSync(p)) {
      const r = rel ? `${rel}/${name}` : name;
      if (!this.created.has(r)) rmSync(join(p, name), { recursive: true, force: true });
      else if (lstat(join(p, name))?.isDirectory()) this.clearOld(r);
    }
  }

  // ---- entries ----

  private async create(dir: Dir, base: string, h: TarHeader, reader: TarReader): Promise<void> {
    const rel = dir.rel ? `${dir.rel}/${base}` : base;
    const p = join(this.root, rel);
    const st = lstat(p);
    const wasWhiteout = isWhiteout(st);
    if (st) {
      if (st.isDirectory() && h.type === 'dir') {
        this.xattrs(p, h);
        this.defer(p, h);
        this.created.add(rel);
        return;
      }
      if (st.isDirectory() || st.isSymbolicLink()) this.dirs.clear();
      if (st.isDirectory()) rmSync(p, { recursive: true, force: true });
      else unlinkSync(p);
    }
    const rootless = this.o.rootless;
    const mode = rootless ? h.mode & 0o1777 : h.mode;
    switch (h.type) {
      case 'dir': {
        mkdirSync(p, { mode: 0o700 });
        if (wasWhiteout) this.setOpaque(p);
        this.xattrs(p, h);
        this.defer(p, h);
        break;
      }
      case 'file': {
        const fd = openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of reader.body()) {
            if (this.o.signal?.aborted) throw abortError(this.o.signal);
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          }
          if (!rootless) fchownSync(fd, h.uid, h.gid);
          fchmodSync(fd, mode);
          this.xattrs(p, h);
          futimesSync(fd, h.mtime, h.mtime);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink': {
        symlinkSync(h.linkname, p);
        if (!rootless) lchownSync(p, h.uid, h.gid);
        this.xattrs(p, h);
        lutimesSync(p, h.mtime, h.mtime);
        break;
      }
      case 'link': {
        linkSync(this.linkSource(h), p);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (h.type !== 'fifo' && rootless) return; // device nodes are refused without root
        const type = h.type === 'char' ? S_IFCHR : h.type === 'block' ? S_IFBLK : S_IFIFO;
        this.xattrOps.mknod(p, type | (mode & 0o7777), h.devmajor, h.devminor);
        if (!rootless) lchownSync(p, h.uid, h.gid);
        this.chmodNode(p, mode);
        this.xattrs(p, h);
        lutimesSync(p, h.mtime, h.mtime);
        break;
      }
    }
    this.created.add(rel);
  }

  /** The path a hardlink entry links to, inside the root; a lower-layer target is copied up first. */
  private linkSource(h: TarHeader): string {
    const comps = cleanPath(h.linkname, 'hardlink target');
    if (!comps.length) throw new LayerError('TSB_LAYER_INVALID', `hardlink ${h.name} points at the root`);
    const dir = this.resolveDir(comps.slice(0, -1), 0);
    const base = comps[comps.length - 1] as string;
    const rel = dir.rel ? `${dir.rel}/${base}` : base;
    const src = join(this.root, rel);
    const st = lstat(src);
    if (st && !isWhiteout(st)) {
      if (st.isDirectory()) throw new LayerError('TSB_LAYER_INVALID', `hardlink ${h.name} points at a directory`);
      return src;
    }
    if (!st) {
      for (const l of dir.lowers) {
        const lp = join(l, rel);
        const ls = lstat(lp);
        if (!ls) continue;
        if (isWhiteout(ls) || ls.isDirectory()) break;
        this.copyUp(lp, src, ls);
        return src;
      }
    }
    throw new LayerError('TSB_LAYER_INVALID', `hardlink ${h.name} points at ${h.linkname}, which does not exist`);
  }

  private copyUp(from: string, to: string, st: Stats): void {
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (st.isFile()) copyFileSync(from, to, constants.COPYFILE_EXCL);
    else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      const type = st.isFIFO() ? S_IFIFO : st.isCharacterDevice() ? S_IFCHR : S_IFBLK;
      this.xattrOps.mknod(to, type | (st.mode & 0o7777), Math.floor(st.rdev / 256) & 0xfff, st.rdev & 0xff);
    } else throw new LayerError('TSB_LAYER_INVALID', `cannot copy ${from} up`);
    if (!this.o.rootless) lchownSync(to, st.uid, st.gid);
    if (!st.isSymbolicLink()) this.chmodNode(to, st.mode & 0o7777);
    for (const name of this.xattrOps.listXattrs(from)) {
      if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
      const v = this.xattrOps.getXattr(from, name);
      if (v) this.trySetXattr(to, name, v);
    }
    lutimesSync(to, st.atime, st.mtime);
  }

  /** chmod of a node (device, fifo) without following a symlink: through an O_PATH fd's /proc link. */
  private chmodNode(p: string, mode: number): void {
    const fd = openSync(p, O_PATH | constants.O_NOFOLLOW);
    try {
      if (fstatSync(fd).isSymbolicLink()) return;
      chmodSync(`/proc/self/fd/${fd}`, mode);
    } finally {
      closeSync(fd);
    }
  }

  private xattrs(p: string, h: TarHeader): void {
    for (const [name, value] of h.xattrs) {
      if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
      if (name.startsWith('security.') && (name !== 'security.capability' || this.o.rootless)) continue;
      if (name.startsWith('trusted.') && this.o.rootless) continue;
      this.trySetXattr(p, name, value);
    }
  }

  private trySetXattr(p: string, name: string, value: Buffer): void {
    try {
      this.xattrOps.setXattr(p, name, value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EOPNOTSUPP' && code !== 'EPERM' && code !== 'EACCES') throw err;
    }
  }

  private defer(path: string, h: TarHeader): void {
    const st = lstat(path);
    if (!st?.isDirectory()) return;
    if (!this.o.rootless) lchownSync(path, h.uid, h.gid);
    this.deferred.push({ path, ino: st.ino, h });
  }

  /** Directory modes and times last (children change a dir's mtime; a read-only dir must stay writable until then). */
  private finish(): void {
    for (let i = this.deferred.length - 1; i >= 0; i--) {
      const d = this.deferred[i] as Deferred;
      let fd: number;
      try {
        fd = openSync(d.path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      } catch {
        continue; // replaced or removed later in the layer
      }
      try {
        if (fstatSync(fd).ino !== d.ino) continue;
        fchmodSync(fd, this.o.rootless ? d.h.mode & 0o1777 : d.h.mode);
        futimesSync(fd, d.h.mtime, d.h.mtime);
      } finally {
        closeSync(fd);
      }
    }
  }
}
