import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fchownSync,
  promises as fsp,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  realpathSync,
  type Stats,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { type ContextEntry, resolveDestination, type SelectedSource, sourceName } from '../context/index.js';
import { type Owner, resolveChown } from './chown.js';
import { CopyError, ioError, throwIfAborted } from './errors.js';
import { makeNode, splitDevice } from './make-node.js';
import { hostPath, mkdirAllInRoot, resolveImagePath } from './resolve-in-root.js';
import { type ModeChange, modeChange } from './symbolic-mode.js';
import { detectArchive, unpackArchive } from './unpack-archive.js';
import { readXattrs, setXattrs } from './xattrs.js';

export { type FetchedUrl, type FetchUrlOptions, fetchUrl } from './fetch-url.js';

/** One source of a COPY or ADD, in instruction order. */
export type CopyItem =
  | {
      kind: 'selected';
      /** From `BuildContext.select` over the build context, or over another stage's or image's mounted root. */
      source: SelectedSource;
      /** Keep the source's uid and gid (`COPY --from`); false: the copies are 0:0 (the build context). */
      preserveOwnership: boolean;
    }
  | {
      kind: 'file';
      /** The file's name when the destination is a directory. */
      name: string;
      /** The content (a heredoc), or `path`: a host file to copy (a downloaded URL). */
      content?: Buffer | string;
      path?: string;
      /** Permission bits (with setuid, setgid and sticky). */
      mode: number;
      /** Default: now. */
      mtime?: Date;
    };

export interface CopyIntoOptions {
  /** The target filesystem root (a mounted snapshot); nothing is written outside it. */
  root: string;
  items: CopyItem[];
  /** The destination as written (expanded): `app/`, `/x`, `.`; relative to `workdir`. */
  dest: string;
  /** The stage's WORKDIR (absolute). */
  workdir: string;
  /** `--chown=user[:group]`, names resolved from the root's /etc/passwd and /etc/group. */
  chown?: string;
  /**
   * `--chmod`: an octal mode (a number, or octal digits) replaces the permission, setuid, setgid and sticky bits of
   * each copied file and directory (current BuildKit; docker 20.10's kept the source's special bits); a symbolic one
   * (`u=rwX,go=rX`) is applied to each object's own mode (see parseSymbolicMode).
   */
  chmod?: number | string;
  /** ADD: local tar archives (plain, gzip, bzip2, xz) are unpacked into the destination. */
  unpack: boolean;
  instruction: 'COPY' | 'ADD';
  /** Set owners (default: when running as root). Without it, files keep the process's owner. */
  ownership?: boolean;
  signal?: AbortSignal;
}

export interface CopyResult {
  /** Objects written other than directories: files, symlinks, hardlinks, nodes. */
  files: number;
  /** Bytes of regular file content written. */
  bytes: number;
}

/** Files at least this big are copied off the main thread (the event loop stays free); smaller ones synchronously. */
const ASYNC_COPY_BYTES = 4 << 20;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const COPY_FLAGS = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

interface Meta {
  uid: number;
  gid: number;
  mode: number;
  /** Seconds since the epoch (fractional). */
  mtime: number;
}

interface PendingDir {
  host: string;
  image: string;
  meta: Meta;
}

function lstatOrUndefined(p: string): Stats | undefined {
  return lstatSync(p, { throwIfNoEntry: false });
}

function childImage(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function dirnameImage(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/**
 * Performs one COPY or ADD into the directory tree `root`, as BuildKit's file
 * op does. For each item, in order:
 * - the destination's directory is created (0755, owned by `--chown` or 0:0);
 *   a destination ending in `/` is itself created;
 * - the destination is resolved inside `root` (its symlinks followed as if
 *   `root` were `/`);
 * - a directory copies its contents into it (an existing directory merges and
 *   keeps its own metadata; a non-directory there fails); a file goes inside an
 *   existing directory, else it is written at the destination path;
 * - with `unpack`, a local tar archive is unpacked into the destination instead.
 *
 * Copies keep modes (setuid and friends too), mtimes, symlinks, hardlinks
 * within one source, and devices (fifos are left out, as by BuildKit, and a
 * socket of the build context becomes an empty file); owners are 0:0 for the build context,
 * the source's for `COPY --from`, or `--chown`'s. An existing file, symlink or
 * node is replaced; an existing directory is never replaced by a non-directory.
 */
export async function copyInto(o: CopyIntoOptions): Promise<CopyResult> {
  throwIfAborted(o.signal);
  const root = realpathSync(resolvePath(o.root));
  const ownership = o.ownership ?? process.getuid?.() === 0;
  const chown = o.chown !== undefined && o.chown !== '' ? resolveChown(root, o.chown) : undefined;
  const copier = new Copier(root, ownership, chown, o.chmod === undefined ? undefined : modeChange(o.chmod), o.signal);
  const dest = resolveDestination(o.dest, o.workdir);
  const dirOwner = copier.ownerOpts(chown ?? { uid: 0, gid: 0 });
  for (const item of o.items) {
    throwIfAborted(o.signal);
    mkdirAllInRoot(root, dest.isDir ? dest.path : dirnameImage(dest.path), dirOwner);
    if (item.kind === 'selected' && o.unpack && item.source.root.type === 'file') {
      const compression = await detectArchive(item.source.root.absPath);
      if (compression !== undefined) {
        const into = mkdirAllInRoot(root, dest.path, dirOwner);
        const r = await unpackArchive(item.source.root.absPath, compression, {
          root,
          dest: into,
          ownership,
          name: item.source.path,
          signal: o.signal,
        });
        copier.files += r.files;
        copier.bytes += r.bytes;
        continue;
      }
    }
    const destImage = resolveImagePath(root, dest.path);
    const destSt = lstatOrUndefined(hostPath(root, destImage));
    const isDir = item.kind === 'selected' && (item.source.root.type === 'dir' || item.source.parents === true);
    if (isDir) {
      if (!destSt) mkdirAllInRoot(root, destImage, dirOwner);
      else mkdirAllInRoot(root, dirnameImage(destImage), dirOwner);
      await copier.copyTree(item.source, item.preserveOwnership, destImage);
      continue;
    }
    const name = item.kind === 'selected' ? sourceName(item.source.path) : item.name;
    const target = destSt?.isDirectory() ? childImage(destImage, name) : destImage;
    const parent = mkdirAllInRoot(root, dirnameImage(target), dirOwner);
    const final = childImage(parent, target.slice(target.lastIndexOf('/') + 1));
    if (item.kind === 'selected') await copier.copyEntry(item.source.root, item.preserveOwnership, final, true);
    else await copier.writeItem(item, final);
  }
  return { files: copier.files, bytes: copier.bytes };
}

/** The copy of one instruction: owners, modes and the tally. */
class Copier {
  files = 0;
  bytes = 0;
  private readonly uid = process.geteuid?.() ?? 0;
  /** The native xattr calls, loaded on first use; null when the addon is not built (xattrs are then not copied). */
  private readonly gid = process.getegid?.() ?? 0;
  private ops = 0;

  constructor(
    private readonly root: string,
    private readonly ownership: boolean,
    private readonly chown: Owner | undefined,
    private readonly chmod: ModeChange | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  ownerOpts(owner: Owner): { uid?: number; gid?: number } {
    return this.ownership ? owner : {};
  }

  private meta(e: ContextEntry, preserve: boolean): Meta {
    const owner = this.chown ?? (preserve ? { uid: e.uid, gid: e.gid } : { uid: 0, gid: 0 });
    const mode = this.chmod === undefined ? e.mode : this.chmod((e.type === 'dir' ? S_IFDIR : S_IFREG) | e.mode);
    return { uid: owner.uid, gid: owner.gid, mode, mtime: Number(e.mtimeNs) / 1e9 };
  }

  /** Whether a fresh object in a fresh directory (0700, not setgid) already has the owner `m` wants. */
  private ownedAlready(m: Meta): boolean {
    return m.uid === this.uid && m.gid === this.gid;
  }

  /** Copies a source's extended attributes (security.capability among them) best effort, as BuildKit's copy does. */
  private copyXattrs(src: string, dst: string, image: string): void {
    let attrs: [string, Buffer][];
    try {
      attrs = readXattrs(src);
    } catch (err) {
      throw ioError('read xattrs of the source of', image, err);
    }
    try {
      setXattrs(dst, attrs);
    } catch (err) {
      throw ioError('set xattr on', image, err);
    }
  }

  private tick(): void {
    if ((++this.ops & 1023) === 0) throwIfAborted(this.signal);
  }

  /**
   * Makes room for a non-directory at `host`: an existing file, symlink or node
   * goes; a directory stays and fails the copy, as BuildKit's ensureEmptyFileTarget.
   */
  private clearForFile(host: string, image: string): void {
    const st = lstatOrUndefined(host);
    if (!st) return;
    if (st.isDirectory()) throw new CopyError('TSB_COPY_REPLACE_DIR', `cannot replace to directory ${image} with file`);
    try {
      unlinkSync(host);
    } catch (err) {
      throw ioError('remove', image, err);
    }
  }

  /**
   * Copies one non-directory entry to `image` (its parent a real directory).
   * `mayExist` false: the parent was created by this copy, so nothing is in the way.
   * `link`: the host path of an earlier copy of the same inode, to hard-link to.
   */
  async copyEntry(e: ContextEntry, preserve: boolean, image: string, mayExist: boolean, link?: string): Promise<void> {
    const host = hostPath(this.root, image);
    if (mayExist) this.clearForFile(host, image);
    const m = this.meta(e, preserve);
    const fresh = !mayExist;
    try {
      switch (e.type) {
        case 'file': {
          if (link !== undefined) {
            linkSync(link, host);
            this.files++;
            return;
          }
          if (e.size >= ASYNC_COPY_BYTES) await fsp.copyFile(e.absPath, host, COPY_FLAGS);
          else copyFileSync(e.absPath, host, COPY_FLAGS);
          const chowned = this.ownership && !(fresh && this.ownedAlready(m));
          if (chowned) lchownSync(host, m.uid, m.gid);
          // copyFile gives the source's mode; chown clears setuid and setgid, and --chmod changes the bits.
          if (this.chmod !== undefined || (chowned && (m.mode & 0o6000) !== 0) || (e.mode & 0o7777) !== m.mode) {
            chmodSync(host, m.mode);
          }
          this.copyXattrs(e.absPath, host, image);
          lutimesSync(host, m.mtime, m.mtime);
          this.bytes += e.size;
          break;
        }
        case 'symlink': {
          symlinkSync(e.linkTarget ?? '', host);
          if (this.ownership && !(fresh && this.ownedAlready(m))) lchownSync(host, m.uid, m.gid);
          this.copyXattrs(e.absPath, host, image);
          lutimesSync(host, m.mtime, m.mtime);
          break;
        }
        case 'char':
        case 'block': {
          const { major, minor } = splitDevice(e.rdev ?? 0);
          try {
            makeNode(host, e.type, major, minor);
          } catch (err) {
            throw new CopyError('TSB_COPY_UNSUPPORTED', `cannot create ${e.type} ${image}: ${(err as Error).message}`);
          }
          if (this.ownership) lchownSync(host, m.uid, m.gid);
          chmodSync(host, m.mode);
          this.copyXattrs(e.absPath, host, image);
          lutimesSync(host, m.mtime, m.mtime);
          break;
        }
        case 'socket': {
          // The build context reaches BuildKit through fsutil's receiver, which writes a socket as an empty
          // regular file with the socket's mode; copies from stages and images pass over sockets.
          if (preserve) return;
          closeSync(openSync(host, WRITE_FLAGS, 0o600));
          if (this.ownership && !(fresh && this.ownedAlready(m))) lchownSync(host, m.uid, m.gid);
          chmodSync(host, m.mode);
          lutimesSync(host, m.mtime, m.mtime);
          break;
        }
        case 'fifo':
          // Fifos are not copied: BuildKit's copy (fsutil) passes over them without a word.
          return;
        case 'dir':
          throw new CopyError('TSB_COPY_NOT_DIR', `cannot copy directory to ${image}`);
      }
    } catch (err) {
      throw ioError('copy to', image, err);
    }
    this.files++;
  }

  /** Writes a heredoc or downloaded file at `image` (its parent resolved). */
  async writeItem(item: Extract<CopyItem, { kind: 'file' }>, image: string): Promise<void> {
    const host = hostPath(this.root, image);
    this.clearForFile(host, image);
    const owner = this.chown ?? { uid: 0, gid: 0 };
    const mode = this.chmod === undefined ? item.mode & 0o7777 : this.chmod(S_IFREG | (item.mode & 0o7777));
    const mtime = item.mtime ?? new Date();
    try {
      if (item.path !== undefined) {
        await fsp.copyFile(item.path, host, COPY_FLAGS);
        if (this.ownership) lchownSync(host, owner.uid, owner.gid);
        chmodSync(host, mode);
        lutimesSync(host, mtime, mtime);
        this.bytes += lstatSync(host).size;
      } else {
        const data = typeof item.content === 'string' ? Buffer.from(item.content) : (item.content ?? Buffer.alloc(0));
        const fd = openSync(host, WRITE_FLAGS, 0o600);
        try {
          let off = 0;
          while (off < data.length) off += writeSync(fd, data, off, data.length - off);
          if (this.ownership) fchownSync(fd, owner.uid, owner.gid);
          fchmodSync(fd, mode);
          futimesSync(fd, mtime, mtime);
        } finally {
          closeSync(fd);
        }
        this.bytes += data.length;
      }
    } catch (err) {
      throw ioError('write', image, err);
    }
    this.files++;
  }

  /**
   * Copies a directory source's entries under `destImage` (an existing
   * directory, or a symlink to one, resolved already). Directories that exist
   * are merged and take the source's metadata, except `destImage` itself.
   */
  async copyTree(source: SelectedSource, preserve: boolean, destImage: string): Promise<void> {
    const top = hostPath(this.root, destImage);
    const st = lstatOrUndefined(top);
    if (!st?.isDirectory()) throw new CopyError('TSB_COPY_NOT_DIR', `cannot copy to non-directory: ${destImage}`);
    /** Directories of this copy by entry path: their image path and whether this copy created them. */
    const dirs = new Map<string, { image: string; fresh: boolean }>([['', { image: destImage, fresh: false }]]);
    const pending: PendingDir[] = [];
    /** Host path of the first copy of each hardlinked inode, by entry path. */
    const linked = new Map<string, string>();
    for (const e of source.entries) {
      this.tick();
      const slash = e.path.lastIndexOf('/');
      const parentPath = slash < 0 ? '' : e.path.slice(0, slash);
      const name = slash < 0 ? e.path : e.path.slice(slash + 1);
      const parent = dirs.get(parentPath) ?? this.parentDir(dirs, parentPath, destImage, e, preserve, pending);
      const image = childImage(parent.image, name);
      const host = hostPath(this.root, image);
      if (e.type === 'dir') {
        const fresh = this.enterDir(host, image, !parent.fresh);
        const m = this.meta(e, preserve);
        if (this.ownership && !(fresh && this.ownedAlready(m))) lchownSync(host, m.uid, m.gid);
        this.copyXattrs(e.absPath, host, image);
        pending.push({ host, image, meta: m });
        dirs.set(e.path, { image, fresh });
        continue;
      }
      const linkTo = e.hardlinkOf !== undefined ? linked.get(e.hardlinkOf) : undefined;
      await this.copyEntry(e, preserve, image, !parent.fresh, linkTo);
      if (e.type === 'file' && e.nlink > 1 && e.hardlinkOf === undefined) linked.set(e.path, host);
    }
    this.finishDirs(pending);
  }

  /** A directory entry: made (0700 until its metadata is set) or merged. Returns whether it was made. */
  private enterDir(host: string, image: string, mayExist: boolean): boolean {
    if (mayExist) {
      const st = lstatOrUndefined(host);
      if (st) {
        if (!st.isDirectory()) throw new CopyError('TSB_COPY_NOT_DIR', `cannot copy to non-directory: ${image}`);
        return false;
      }
    }
    try {
      mkdirSync(host, 0o700);
    } catch (err) {
      throw ioError('mkdir', image, err);
    }
    return true;
  }

  /**
   * The parent of an entry whose directory did not come before it (entry
   * lists normally hold every directory first): each missing element is made
   * with 0755 and the entry's owner; an element that is not a real directory
   * fails, so nothing is written through a symlink.
   */
  private parentDir(
    dirs: Map<string, { image: string; fresh: boolean }>,
    parentPath: string,
    destImage: string,
    e: ContextEntry,
    preserve: boolean,
    pending: PendingDir[],
  ): { image: string; fresh: boolean } {
    let image = destImage;
    let path = '';
    let fresh = false;
    for (const part of parentPath.split('/')) {
      if (part === '' || part === '.' || part === '..') {
        throw new CopyError('TSB_COPY_IO', `invalid entry path ${JSON.stringify(e.path)}`);
      }
      path = path === '' ? part : `${path}/${part}`;
      const known = dirs.get(path);
      image = childImage(image, part);
      if (known) {
        fresh = known.fresh;
        continue;
      }
      const host = hostPath(this.root, image);
      fresh = this.enterDir(host, image, !fresh);
      const m = { ...this.meta(e, preserve), mode: 0o755 };
      if (this.ownership) lchownSync(host, m.uid, m.gid);
      pending.push({ host, image, meta: m });
      dirs.set(path, { image, fresh });
    }
    return { image, fresh };
  }

  /** Directory modes and times last, deepest first: writing into a directory changes its mtime. */
  private finishDirs(pending: PendingDir[]): void {
    for (let i = pending.length - 1; i >= 0; i--) {
      const d = pending[i] as PendingDir;
      try {
        chmodSync(d.host, d.meta.mode);
        lutimesSync(d.host, d.meta.mtime, d.meta.mtime);
      } catch (err) {
        throw ioError('chmod', d.image, err);
      }
    }
  }
}
