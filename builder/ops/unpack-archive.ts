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
import { extract, type Header } from 'tar-stream';
import { CopyError, ioError, throwIfAborted } from './errors.js';
import { makeNode } from './make-node.js';
import { hostPath, mkdirAllInRoot, resolveImagePath } from './resolve-in-root.js';

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

/** A decompressed stream of the file and a check that the decompressor ended well (bzip2 and xz run as processes). */
interface Decompressed {
  stream: Readable;
  finished(): Promise<void>;
  stop(): void;
}

function decompress(file: string, compression: Compression, what: string): Decompressed {
  if (compression === 'bzip2' || compression === 'xz') {
    const cmd = compression === 'bzip2' ? 'bzip2' : 'xz';
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
            ? ` (install ${cmd}: apt-get install -y ${cmd === 'xz' ? 'xz-utils' : 'bzip2'})`
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
  const raw = createReadStream(file);
  let stream: Readable = raw;
  if (compression === 'gzip') stream = raw.pipe(zlib.createGunzip());
  else if (compression === 'zstd') {
    const make = (zlib as ZstdZlib).createZstdDecompress;
    if (!make) throw new CopyError('TSB_COPY_ARCHIVE', `unpacking ${what}: zstd needs Node 22.15 or later`);
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

/** Whether a 512-byte block is a tar header with a valid checksum (Go's tar reader accepts the unsigned or signed sum). */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const field = block
    .subarray(148, 156)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^[\0 ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const want = Number.parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
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
 * Whether ADD unpacks this file: it is a tar (plain, gzip, bzip2, xz, or zstd
 * where Node has it) whose first header reads, as BuildKit's isArchivePath.
 * Returns the compression, or undefined for anything else (copied as a file).
 */
export async function detectArchive(file: string): Promise<Compression | undefined> {
  const head = readHead(file, 1024);
  const compression = detectCompression(head);
  let data = head;
  if (compression !== 'none') {
    if (compression === 'zstd' && !(zlib as ZstdZlib).createZstdDecompress) return undefined;
    const d = decompress(file, compression, file);
    try {
      data = await readPrefix(d.stream, 1024);
    } finally {
      d.stop();
    }
  }
  const first = data.subarray(0, 512);
  if (first.length === 512 && first.every((b) => b === 0)) {
    // Go's reader skips one zero block; two mean an empty archive (io.EOF): not an archive.
    return isTarHeader(data.subarray(512, 1024)) ? compression : undefined;
  }
  return isTarHeader(first) ? compression : undefined;
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

interface DeferredDir {
  host: string;
  ino: number;
  mode: number;
  mtime: Date;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

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

/**
 * Unpacks a tar archive into a directory of an image tree, as BuildKit's
 * chrooted untar does: the destination is the archive's `/` (symlinks met on
 * the way are resolved inside it, `..` stops at it), an existing path is
 * replaced unless both are directories, owners, modes and times come from the
 * archive, and whiteout files are ordinary files. Nothing is written outside
 * the destination.
 */
export async function unpackArchive(
  file: string,
  compression: Compression,
  o: UnpackOptions,
): Promise<{ files: number; bytes: number }> {
  const destRoot = hostPath(o.root, o.dest);
  const imageOf = (inner: string) => (o.dest === '/' ? inner : `${o.dest}${inner === '/' ? '' : inner}`);
  const d = decompress(file, compression, o.name);
  // Go's reader takes V7 headers (no magic) too.
  const ex = extract({ allowUnknownFormat: true } as Parameters<typeof extract>[0]);
  const deferred: DeferredDir[] = [];
  let files = 0;
  let bytes = 0;
  d.stream.on('error', (err) => ex.destroy(err));
  d.stream.pipe(ex);
  const fail = (err: unknown): never => {
    if (err instanceof CopyError) throw err;
    const msg = (err as Error).message;
    throw new CopyError('TSB_COPY_ARCHIVE', `unpacking ${o.name}: ${msg}`, { cause: err });
  };
  try {
    for await (const entry of ex) {
      throwIfAborted(o.signal);
      const h = entry.header as Header & { type: string };
      const parts = entryParts(h.name);
      // AUFS metadata at the top (.wh..wh.plnk, .wh..wh.aufs): not content, as moby's untar skips it.
      if (parts.length === 0 || parts[0]?.startsWith('.wh..wh.')) {
        entry.resume();
        continue;
      }
      const base = parts[parts.length - 1] as string;
      const parent = entryParent(destRoot, `/${parts.slice(0, -1).join('/')}`, o, h.name);
      const inner = parent === '/' ? `/${base}` : `${parent}/${base}`;
      const host = hostPath(destRoot, inner);
      const image = imageOf(inner);
      let st: Stats | undefined;
      try {
        st = lstatSync(host);
      } catch {
        st = undefined;
      }
      const isDirEntry = h.type === 'directory';
      if (st && !(st.isDirectory() && isDirEntry)) {
        try {
          rmSync(host, { recursive: true, force: true });
        } catch (err) {
          fail(ioError('remove', image, err));
        }
        st = undefined;
      }
      const mode = h.mode & 0o7777;
      try {
        switch (h.type) {
          case 'directory': {
            if (!st) mkdirSync(host, 0o700);
            if (o.ownership) lchownSync(host, h.uid, h.gid);
            deferred.push({ host, ino: lstatSync(host).ino, mode, mtime: h.mtime });
            entry.resume();
            break;
          }
          case 'file':
          case 'contiguous-file': {
            const fd = openSync(
              host,
              constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
              0o600,
            );
            try {
              const chunks = entry[Symbol.asyncIterator]();
              for (;;) {
                let next: IteratorResult<Buffer>;
                try {
                  next = (await chunks.next()) as IteratorResult<Buffer>;
                } catch (err) {
                  throw new CopyError('TSB_COPY_ARCHIVE', `unpacking ${o.name}: ${(err as Error).message}`, {
                    cause: err,
                  });
                }
                if (next.done) break;
                const buf = next.value;
                let off = 0;
                while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
                bytes += buf.length;
              }
              if (o.ownership) fchownSync(fd, h.uid, h.gid);
              fchmodSync(fd, mode);
              futimesSync(fd, h.mtime, h.mtime);
            } finally {
              closeSync(fd);
            }
            break;
          }
          case 'symlink': {
            symlinkSync(h.linkname, host);
            if (o.ownership) lchownSync(host, h.uid, h.gid);
            lutimesSync(host, h.mtime, h.mtime);
            entry.resume();
            break;
          }
          case 'link': {
            const targetParts = entryParts(h.linkname);
            if (targetParts.length === 0) {
              throw new CopyError('TSB_COPY_ARCHIVE', `unpacking ${o.name}: hardlink ${h.name} points at the root`);
            }
            const target = resolveImagePath(destRoot, `/${targetParts.join('/')}`, { followFinal: false });
            const targetHost = hostPath(destRoot, target);
            const tst = lstatSync(targetHost, { throwIfNoEntry: false });
            if (!tst || (tst.mode & S_IFMT) === S_IFDIR) {
              throw new CopyError(
                'TSB_COPY_ARCHIVE',
                `unpacking ${o.name}: hardlink ${h.name} points at ${h.linkname}, which is ${tst ? 'a directory' : 'missing'}`,
              );
            }
            linkSync(targetHost, host);
            entry.resume();
            break;
          }
          case 'character-device':
          case 'block-device':
          case 'fifo': {
            const type = h.type === 'fifo' ? 'fifo' : h.type === 'character-device' ? 'char' : 'block';
            try {
              makeNode(host, type, h.devmajor ?? 0, h.devminor ?? 0);
            } catch (err) {
              throw new CopyError(
                'TSB_COPY_UNSUPPORTED',
                `unpacking ${o.name}: cannot create ${h.type} ${h.name}: ${(err as Error).message}`,
              );
            }
            if (o.ownership) lchownSync(host, h.uid, h.gid);
            chmodSync(host, mode);
            utimesSync(host, h.mtime, h.mtime);
            entry.resume();
            break;
          }
          default:
            entry.resume();
            continue;
        }
      } catch (err) {
        fail(err instanceof CopyError ? err : ioError('unpack', image, err));
      }
      if (!isDirEntry) files++;
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
    ex.destroy();
    fail(exit instanceof CopyError && !(err instanceof CopyError && err.code !== 'TSB_COPY_ARCHIVE') ? exit : err);
  }
  // Directory modes and times last: a read-only directory must stay writable, and writing into one changes its mtime.
  for (let i = deferred.length - 1; i >= 0; i--) {
    const dir = deferred[i] as DeferredDir;
    const st = lstatSync(dir.host, { throwIfNoEntry: false });
    if (!st?.isDirectory() || st.ino !== dir.ino) continue;
    chmodSync(dir.host, dir.mode);
    utimesSync(dir.host, dir.mtime, dir.mtime);
  }
  return { files, bytes };
}

/**
 * The directory an entry goes into, as moby's untar finds it: a parent that is
 * missing is made (0755, root's); one that exists, or is a symlink, is used as
 * it resolves (inside the destination), and it must then be a directory.
 */
function entryParent(destRoot: string, parent: string, o: UnpackOptions, name: string): string {
  const lexical = resolveImagePath(destRoot, parent, { followFinal: false });
  const st = lstatSync(hostPath(destRoot, lexical), { throwIfNoEntry: false });
  if (!st) return mkdirAllInRoot(destRoot, lexical, o.ownership ? { uid: 0, gid: 0 } : {});
  const real = st.isSymbolicLink() ? resolveImagePath(destRoot, lexical) : lexical;
  const rst = real === lexical ? st : lstatSync(hostPath(destRoot, real), { throwIfNoEntry: false });
  if (!rst?.isDirectory()) {
    const why = rst ? 'not a directory' : 'no such file or directory';
    throw new CopyError('TSB_COPY_ARCHIVE', `unpacking ${o.name}: open /${entryParts(name).join('/')}: ${why}`);
  }
  return real;
}
