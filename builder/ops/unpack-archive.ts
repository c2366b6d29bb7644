import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  createReadStream,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  type Stats,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import * as zlib from 'node:zlib';
import { isTarHeader, LayerError, type TarHeader, TarReader, type TarType } from '../../snapshotter/index.js';
import { CopyError, ioError, throwIfAborted } from './errors.js';
import { makeNode } from './make-node.js';
import { hostPath, mkdirAllInRoot, resolveImagePath } from './resolve-in-root.js';
import { setXattrs } from './xattrs.js';

/** How an archive is compressed, detected from its first bytes as moby's DetectCompression does. */
export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

type ZstdZlib = typeof zlib & { createZstdDecompress?: () => NodeJS.ReadWriteStream };

/** A decompressed stream of the file and a check that the decompressor ended well (bzip2, xz and old Nodes' zstd run as processes). */
interface Decompressed {
  stream: Readable;
  finished(): Promise<void>;
  stop(): void;
}

/** Read and inflate sizes for unpacking: fewer, larger chunks through the tar reader and into write(2). */
const UNPACK_CHUNK = 1 << 20;

/** The package that has each decompressor command, for the install hint. */
const PACKAGES: Record<string, string> = { bzip2: 'bzip2', xz: 'xz-utils', zstd: 'zstd' };

function decompress(file: string, compression: Compression, what: string, chunk?: number): Decompressed {
  // zstd runs as a process too where Node's zlib lacks it (before Node 22.15), so every Node unpacks what BuildKit does.
  const zstdProcess = compression === 'zstd' && !(zlib as ZstdZlib).createZstdDecompress;
  if (compression === 'bzip2' || compression === 'xz' || zstdProcess) {
    const cmd = compression;
    const fd = openSync(file, constants.O_RDONLY);
    let child: ChildProcess;
    try {
      child = spawn(cmd, ['-dc'], { stdio: [fd, 'pipe', 'pipe'] });
    } finally {
      closeSync(fd);
    }
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    let stopped = false;
    const exit = new Promise<void>((done, fail) => {
      child.on('error', (err) => {
        const hint =
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? ` (install ${cmd}: apt-get install -y ${PACKAGES[cmd] ?? cmd})`
            : '';
        fail(
          new CopyError('TSB_COPY_ARCHIVE', `cannot run ${cmd} to unpack ${what}: ${err.message}${hint}`, {
            cause: err,
          }),
        );
      });
      child.on('close', (code, sig) => {
        if (code === 0 || stopped) done();
        else
          fail(
            new CopyError(
              'TSB_COPY_ARCHIVE',
              `unpacking ${what}: ${cmd} failed: ${stderr.trim() || `exit ${code ?? sig}`}`,
            ),
          );
      });
    });
    exit.catch(() => undefined);
    return {
      stream: child.stdout as Readable,
      finished: () => exit,
      stop: () => {
        stopped = true;
        child.kill('SIGKILL');
      },
    };
  }
  const raw = createReadStream(file, chunk ? { highWaterMark: chunk } : {});
  let stream: Readable = raw;
  if (compression === 'gzip') stream = raw.pipe(zlib.createGunzip(chunk ? { chunkSize: chunk / 4 } : {}));
  else if (compression === 'zstd') {
    const make = (zlib as ZstdZlib).createZstdDecompress as () => NodeJS.ReadWriteStream;
    stream = raw.pipe(make() as unknown as NodeJS.WritableStream) as unknown as Readable;
  }
  if (stream !== raw) raw.on('error', (err) => stream.destroy(err));
  return {
    stream,
    finished: async () => undefined,
    stop: () => {
      raw.destroy();
      stream.destroy();
    },
  };
}

async function readPrefix(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got >= n) break;
    }
  } catch {
    // A truncated or corrupt stream: whatever came before the fault decides.
  }
  return Buffer.concat(chunks).subarray(0, n);
}

function readHead(file: string, n: number): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether ADD unpacks this file: it is a tar (plain, gzip, bzip2, xz or zstd;
 * bzip2, xz and zstd before Node 22.15 through their commands) whose first
 * header reads, as BuildKit's isArchivePath.
 * Returns the compression, or undefined for anything else (copied as a file).
 */
export async function detectArchive(file: string): Promise<Compression | undefined> {
  const head = readHead(file, 512);
  const compression = detectCompression(head);
  let data = head;
  if (compression !== 'none') {
    const d = decompress(file, compression, file);
    try {
      data = await readPrefix(d.stream, 512);
    } finally {
      d.stop();
    }
  }
  // Go's first Next() fails on a leading zero block (the end of the archive, or a fault when a header follows).
  return isTarHeader(data.subarray(0, 512)) ? compression : undefined;
}

export interface UnpackOptions {
  /** The image root (host path). */
  root: string;
  /** The directory to unpack into (image path, resolved, existing); the archive sees it as its `/`, as BuildKit's chrooted untar. */
  dest: string;
  /** Set owners from the archive (needs root). */
  ownership: boolean;
  /** Shown in errors. */
  name: string;
  signal?: AbortSignal;
}

/**
 * Unpacks a tar archive into a directory of an image tree, as BuildKit's
 * chrooted untar (moby's archive.Untar) does: the destination is the archive's
 * `/` (symlinks met on the way are resolved inside it, `..` stops at it), an
 * existing path is replaced unless both are directories, owners, modes, times
 * and extended attributes (binary ones such as security.capability too) come
 * from the archive, and whiteout files (`.wh.*`) are ordinary files. Nothing is
 * written outside the destination. The tar is read by the snapshotter's TarReader.
 */
export async function unpackArchive(
  file: string,
  compression: Compression,
  o: UnpackOptions,
): Promise<{ files: number; bytes: number }> {
  const d = decompress(file, compression, o.name, UNPACK_CHUNK);
  const reader = new TarReader(d.stream, { subject: 'archive' });
  const u = new Unpacker(hostPath(o.root, o.dest), o);
  const fail = (err: unknown): never => {
    if (err instanceof CopyError) throw err;
    throw new CopyError('TSB_COPY_ARCHIVE', `unpacking ${o.name}: ${(err as Error).message}`, { cause: err });
  };
  try {
    for (;;) {
      throwIfAborted(o.signal);
      const h = await reader.next();
      if (!h) break;
      await u.entry(h, reader);
    }
    await d.finished();
  } catch (err) {
    // A tar error after a decompressor failed is only its consequence: report the decompressor's own message.
    const exit = await Promise.race([
      d.finished().then(
        () => undefined,
        (e: unknown) => e,
      ),
      delay(1000, undefined, { ref: false }),
    ]);
    d.stop();
    fail(exit instanceof CopyError && !(err instanceof CopyError && err.code !== 'TSB_COPY_ARCHIVE') ? exit : err);
  }
  u.finish();
  return { files: u.files, bytes: u.bytes };
}

interface DeferredDir {
  /** The directory's path inside the destination, and where it was on the host when it was made. */
  inner: string;
  host: string;
  dev: number;
  ino: number;
  mode: number;
  mtime: number;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const WRITE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const NODE_NAMES: Partial<Record<TarType, string>> = {
  char: 'character-device',
  block: 'block-device',
  fifo: 'fifo',
};

/** Clean relative path elements of an entry name; `..` stops at the archive's root (it is its `/`). */
function entryParts(name: string): string[] {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

/** The last second of int64 nanoseconds since the epoch (2262), the end of Go's time for utimes. */
const MAX_TIME = 9_223_372_036;

/**
 * The mtime of a file, directory or node as moby's untar sets it (Chtimes):
 * one before 1970 or after MAX_TIME becomes the epoch.
 */
function chtime(seconds: number): number {
  return seconds < 0 || seconds > MAX_TIME ? 0 : seconds;
}

/** The mtime of a symlink, kept as it is (moby's lutimes): Node takes a negative number for "now", so those go as Dates. */
function lchtime(seconds: number): number | Date {
  return seconds < 0 ? new Date(seconds * 1000) : seconds;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** The entries of one archive, written below the destination. */
class Unpacker {
  files = 0;
  bytes = 0;
  /** Resolved directories (inside the destination) of entry parents, by their lexical path. */
  private readonly parents = new Map<string, string>();
  private readonly deferred: DeferredDir[] = [];
  /** Where each directory's deferred entry is, by `dev:ino`: a directory met again in the archive takes its later header. */
  private readonly deferredAt = new Map<string, number>();
  /** The native xattr calls, loaded on first use; null when the addon is not built (xattrs are then left out). */

  constructor(
    private readonly destRoot: string,
    private readonly o: UnpackOptions,
  ) {}

  private image(inner: string): string {
    const dest = this.o.dest;
    return dest === '/' ? inner : `${dest}${inner === '/' ? '' : inner}`;
  }

  async entry(h: TarHeader, reader: TarReader): Promise<void> {
    const parts = entryParts(h.name);
    // The archive's `./`: the destination keeps its own metadata, as moby's untar skips "." over a directory.
    if (parts.length === 0) return;
    const base = parts[parts.length - 1] as string;
    const parent = this.parent(parts, h.name);
    const inner = parent === '/' ? `/${base}` : `${parent}/${base}`;
    const host = hostPath(this.destRoot, inner);
    try {
      if (h.type === 'dir') this.dir(h, host, inner);
      else {
        if (h.type === 'file') await this.file(h, host, inner, reader);
        else if (h.type === 'symlink') this.symlink(h, host, inner);
        else if (h.type === 'link') this.link(h, host, inner);
        else this.node(h, host, inner);
        this.files++;
      }
    } catch (err) {
      if (err instanceof CopyError || err instanceof LayerError) throw err;
      throw ioError('unpack', this.image(inner), err);
    }
  }

  /**
   * The directory an entry goes into, as moby's untar finds it: a parent that is
   * missing is made (0755, root's); one that exists, or is a symlink, is used as
   * it resolves (inside the destination), and it must then be a directory.
   * Resolutions are kept until an entry removes a directory or a symlink.
   */
  private parent(parts: string[], name: string): string {
    if (parts.length === 1) return '/';
    const key = parts.slice(0, -1).join('/');
    const hit = this.parents.get(key);
    if (hit !== undefined) return hit;
    const lexical = resolveImagePath(this.destRoot, `/${key}`, { followFinal: false });
    const st = lstatSync(hostPath(this.destRoot, lexical), { throwIfNoEntry: false });
    let dir: string;
    if (!st) dir = mkdirAllInRoot(this.destRoot, lexical, this.o.ownership ? { uid: 0, gid: 0 } : {});
    else {
      dir = st.isSymbolicLink() ? resolveImagePath(this.destRoot, lexical) : lexical;
      const dst = dir === lexical ? st : lstatSync(hostPath(this.destRoot, dir), { throwIfNoEntry: false });
      if (!dst?.isDirectory()) {
        const why = dst ? 'not a directory' : 'no such file or directory';
        throw new CopyError(
          'TSB_COPY_ARCHIVE',
          `unpacking ${this.o.name}: open /${entryParts(name).join('/')}: ${why}`,
        );
      }
    }
    this.parents.set(key, dir);
    return dir;
  }

  /** Removes what is at `host` (a directory with its contents), so that an entry can take its place. */
  private remove(host: string, inner: string, st: Stats): void {
    if (st.isDirectory() || st.isSymbolicLink()) this.parents.clear();
    try {
      rmSync(host, { recursive: true, force: true });
    } catch (err) {
      throw ioError('remove', this.image(inner), err);
    }
  }

  /** Removes whatever is at `host`. */
  private clear(host: string, inner: string): void {
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (st) this.remove(host, inner, st);
  }

  /** Runs `make` (which creates `host`); when something is there already, it goes and `make` runs again. */
  private create<T>(host: string, inner: string, make: () => T): T {
    try {
      return make();
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    this.clear(host, inner);
    return make();
  }

  private dir(h: TarHeader, host: string, inner: string): void {
    try {
      mkdirSync(host, 0o700);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
      const st = lstatSync(host);
      if (!st.isDirectory()) {
        this.remove(host, inner, st);
        mkdirSync(host, 0o700);
      }
    }
    if (this.o.ownership) lchownSync(host, h.uid, h.gid);
    setXattrs(host, h.xattrs);
    // The mode and times are set last: the directory must stay writable, and its entries change its mtime.
    const st = lstatSync(host);
    const entry = { inner, host, dev: st.dev, ino: st.ino, mode: h.mode, mtime: chtime(h.mtime) };
    const key = `${st.dev}:${st.ino}`;
    const at = this.deferredAt.get(key);
    if (at === undefined) {
      this.deferredAt.set(key, this.deferred.length);
      this.deferred.push(entry);
    } else this.deferred[at] = entry;
  }

  private async file(h: TarHeader, host: string, inner: string, reader: TarReader): Promise<void> {
    const fd = this.create(host, inner, () => openSync(host, WRITE_NEW, 0o600));
    try {
      const body = reader.body();
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await body.next();
        } catch (err) {
          // The archive's fault (truncated, or its decompressor failed), not the tree's.
          throw new CopyError('TSB_COPY_ARCHIVE', `unpacking ${this.o.name}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        if (next.done) break;
        const chunk = next.value;
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        this.bytes += chunk.length;
      }
      if (this.o.ownership) fchownSync(fd, h.uid, h.gid);
      // After the data and the owner: writes and chown(2) drop security.capability.
      setXattrs(host, h.xattrs);
      fchmodSync(fd, h.mode);
      const t = chtime(h.mtime);
      futimesSync(fd, t, t);
    } finally {
      closeSync(fd);
    }
  }

  private symlink(h: TarHeader, host: string, inner: string): void {
    this.create(host, inner, () => symlinkSync(h.linkname, host));
    if (this.o.ownership) lchownSync(host, h.uid, h.gid);
    setXattrs(host, h.xattrs);
    const t = lchtime(h.mtime);
    lutimesSync(host, t, t);
  }

  private link(h: TarHeader, host: string, inner: string): void {
    // What is there goes first: the target is looked up in the tree without it, as moby's untar does.
    this.clear(host, inner);
    const targetParts = entryParts(h.linkname);
    if (targetParts.length === 0) {
      throw new CopyError('TSB_COPY_ARCHIVE', `unpacking ${this.o.name}: hardlink ${h.name} points at the root`);
    }
    const target = resolveImagePath(this.destRoot, `/${targetParts.join('/')}`, { followFinal: false });
    const targetHost = hostPath(this.destRoot, target);
    const tst = lstatSync(targetHost, { throwIfNoEntry: false });
    if (!tst || (tst.mode & S_IFMT) === S_IFDIR) {
      throw new CopyError(
        'TSB_COPY_ARCHIVE',
        `unpacking ${this.o.name}: hardlink ${h.name} points at ${h.linkname}, which is ${tst ? 'a directory' : 'missing'}`,
      );
    }
    linkSync(targetHost, host);
  }

  private node(h: TarHeader, host: string, inner: string): void {
    const what = NODE_NAMES[h.type] ?? h.type;
    this.clear(host, inner);
    try {
      makeNode(host, h.type === 'fifo' ? 'fifo' : h.type === 'char' ? 'char' : 'block', h.devmajor, h.devminor);
    } catch (err) {
      throw new CopyError(
        'TSB_COPY_UNSUPPORTED',
        `unpacking ${this.o.name}: cannot create ${what} ${h.name}: ${(err as Error).message}`,
      );
    }
    if (this.o.ownership) lchownSync(host, h.uid, h.gid);
    setXattrs(host, h.xattrs);
    chmodSync(host, h.mode);
    const t = chtime(h.mtime);
    utimesSync(host, t, t);
  }

  /**
   * Directory modes and times last, deepest first, on the directories the
   * entries made: a directory whose path now leads elsewhere (a later entry
   * replaced a parent with a symlink) or that was replaced is left alone, so
   * nothing outside the destination is ever touched.
   */
  finish(): void {
    for (let i = this.deferred.length - 1; i >= 0; i--) {
      const dir = this.deferred[i] as DeferredDir;
      if (hostPath(this.destRoot, resolveImagePath(this.destRoot, dir.inner, { followFinal: false })) !== dir.host) {
        continue;
      }
      const st = lstatSync(dir.host, { throwIfNoEntry: false });
      if (!st?.isDirectory() || st.dev !== dir.dev || st.ino !== dir.ino) continue;
      chmodSync(dir.host, dir.mode);
      utimesSync(dir.host, dir.mtime, dir.mtime);
    }
  }
}
