import { chmodSync, lchownSync, lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import { CopyError, ioError } from './errors.js';

/** As Go's fs.RootPath and the kernel's own limit on nested links in one lookup. */
const MAX_LINKS = 255;

export interface ResolveOptions {
  /** Resolve the last element too when it is a symlink (default true, as BuildKit's RootPath). */
  followFinal?: boolean;
}

/** The host path of an image path below `root` (both absolute; the image path clean). */
export function hostPath(root: string, imagePath: string): string {
  return imagePath === '/' ? root : root + imagePath;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

function joinImage(done: string[]): string {
  return `/${done.join('/')}`;
}

/**
 * Walks `path` inside `root` as if `root` were `/` (a chroot): each element is
 * looked up with lstat, a symlink's target is spliced in (an absolute one from
 * the root, a relative one from the link's directory), and `..` never climbs
 * above the root. Elements that do not exist are kept as written. `visit` may
 * create a missing directory; it is called for every element that is not a symlink.
 */
function walk(
  root: string,
  path: string,
  followFinal: boolean,
  visit?: (image: string, st: Stats | undefined, last: boolean) => Stats | undefined,
): string {
  let pending = splitPath(path);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const comp = pending.shift() as string;
    if (comp === '..') {
      done.pop();
      continue;
    }
    done.push(comp);
    const image = joinImage(done);
    const last = pending.length === 0;
    let st = lstatOrUndefined(hostPath(root, image));
    if (st?.isSymbolicLink() && (followFinal || !last)) {
      if (++links > MAX_LINKS) {
        throw new CopyError('TSB_COPY_LINKS', `${path}: too many levels of symbolic links`);
      }
      const target = readlinkSync(hostPath(root, image));
      done.pop();
      if (target.startsWith('/')) done.length = 0;
      pending = [...splitPath(target), ...pending];
      continue;
    }
    if (visit) st = visit(image, st, last);
    // A non-directory in the middle: what follows cannot exist; keep it lexically, as RootPath does.
    if (st && !st.isDirectory() && !last && !visit) {
      for (const c of pending) {
        if (c === '..') done.pop();
        else done.push(c);
      }
      break;
    }
  }
  return joinImage(done);
}

/**
 * The image path that `path` names inside `root`, with every symlink resolved
 * as if `root` were `/` (absolute targets start from the root; `..` stops at
 * it). Missing elements are kept. The result is absolute and clean; no write
 * through it can leave the root, since it holds no symlink that existed when
 * it was resolved.
 */
export function resolveImagePath(root: string, path: string, options: ResolveOptions = {}): string {
  return walk(root, path, options.followFinal ?? true);
}

/** The host path below `root` that `path` names inside it; see `resolveImagePath`. */
export function resolveInRoot(root: string, path: string, options: ResolveOptions = {}): string {
  return hostPath(root, resolveImagePath(root, path, options));
}

export interface MkdirAllOptions {
  /** Owner of the directories created (left as the process's when undefined). */
  uid?: number;
  gid?: number;
  /** Called with the image path of each directory created, in order. */
  onCreate?: (imagePath: string) => void;
}

/**
 * Go's `os.MkdirAll` inside `root`: every missing element (symlinks followed
 * inside the root) is created with mode 0755 and the given owner. An element
 * that exists and is not a directory fails with `mkdir /path: not a directory`.
 * Returns the directory's resolved image path.
 */
export function mkdirAllInRoot(root: string, path: string, options: MkdirAllOptions = {}): string {
  return walk(root, path, true, (image, st) => {
    if (st) {
      if (!st.isDirectory()) throw new CopyError('TSB_COPY_MKDIR', `mkdir ${image}: not a directory`);
      return st;
    }
    const host = hostPath(root, image);
    try {
      mkdirSync(host, 0o755);
      chmodSync(host, 0o755);
      if (options.uid !== undefined) lchownSync(host, options.uid, options.gid ?? options.uid);
    } catch (err) {
      throw ioError('mkdir', image, err);
    }
    options.onCreate?.(image);
    return lstatSync(host);
  });
}
