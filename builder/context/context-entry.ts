import type { Stats } from 'node:fs';
import { STAT_FIELDS } from './native-list.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

/** One file-system object of the build context, as COPY and ADD see it. Content is not read. */
export interface ContextEntry {
  /** Path relative to the selected source (`''` for the source itself); the copy op puts it under the target. */
  path: string;
  /** Path relative to the context root (`.` for the root). */
  contextPath: string;
  /** Absolute path on disk (symlinks of the source path resolved). */
  absPath: string;
  type: EntryType;
  /** Permission bits, with setuid, setgid and sticky (`mode & 0o7777`). */
  mode: number;
  /** Owner: 0 unless the context was opened with `preserveOwnership` (Docker sends the context as 0:0). */
  uid: number;
  gid: number;
  size: number;
  /**
   * Modification time in ns since the epoch, as a double (exact to ~250 ns; enough for `utimes`, and the stat
   * cache's racy window covers what it cannot tell apart).
   */
  mtimeNs: number;
  /** Device number, for `char` and `block` entries. */
  rdev?: number;
  /** Target of a symlink, verbatim. */
  linkTarget?: string;
  /** For a regular file with several links: the `path` of the first entry of the same source with the same inode. */
  hardlinkOf?: string;
  /** Device and inode numbers as doubles: exact below 2^53 (see `inodeKey` for hard link grouping). */
  dev: number;
  ino: number;
  /** Number of hard links. */
  nlink: number;
  /** Status change time in ns since the epoch, as a double (see `mtimeNs`). */
  ctimeNs: number;
  /** `sha256:…` of the content, for regular files, once hashed. */
  digest?: string;
}

const S_IFMT = 0o170000;

export function entryType(mode: number): EntryType {
  switch (mode & S_IFMT) {
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    case 0o020000:
      return 'char';
    case 0o060000:
      return 'block';
    default:
      return 'file';
  }
}

/** Whether a `st_mode` is a directory's. */
export function isDirMode(mode: number): boolean {
  return (mode & S_IFMT) === 0o040000;
}

/** An entry from Node's Stats. */
export function makeEntry(
  st: Stats,
  path: string,
  contextPath: string,
  absPath: string,
  preserveOwnership: boolean,
): ContextEntry {
  return entryOf(
    st.mode,
    st.uid,
    st.gid,
    st.size,
    st.mtimeMs,
    st.ctimeMs,
    st.dev,
    st.ino,
    st.nlink,
    st.rdev,
    path,
    contextPath,
    absPath,
    preserveOwnership,
  );
}

/** An entry from row `i` of a stat table (`STAT_FIELDS` doubles per row). */
export function makeEntryAt(
  rows: Float64Array,
  i: number,
  path: string,
  contextPath: string,
  absPath: string,
  preserveOwnership: boolean,
): ContextEntry {
  const at = i * STAT_FIELDS;
  return entryOf(
    rows[at] as number,
    rows[at + 1] as number,
    rows[at + 2] as number,
    rows[at + 3] as number,
    rows[at + 4] as number,
    rows[at + 5] as number,
    rows[at + 6] as number,
    rows[at + 7] as number,
    rows[at + 8] as number,
    rows[at + 9] as number,
    path,
    contextPath,
    absPath,
    preserveOwnership,
  );
}

function entryOf(
  mode: number,
  uid: number,
  gid: number,
  size: number,
  mtimeMs: number,
  ctimeMs: number,
  dev: number,
  ino: number,
  nlink: number,
  rdev: number,
  path: string,
  contextPath: string,
  absPath: string,
  preserveOwnership: boolean,
): ContextEntry {
  const type = entryType(mode);
  const entry: ContextEntry = {
    path,
    contextPath,
    absPath,
    type,
    mode: mode & 0o7777,
    uid: preserveOwnership ? uid : 0,
    gid: preserveOwnership ? gid : 0,
    size: type === 'file' || type === 'symlink' ? size : 0,
    mtimeNs: mtimeMs * 1e6,
    dev,
    ino,
    nlink,
    ctimeNs: ctimeMs * 1e6,
  };
  if (type === 'char' || type === 'block') entry.rdev = rdev;
  return entry;
}

/**
 * The exact identity (`dev:ino`) of a regular file, for telling hard links
 * apart: the entry's doubles when they are exact, else a BigInt lstat (inode
 * numbers above 2^53 occur, e.g. on overlayfs with `xino`).
 */
export function inodeKey(e: ContextEntry, lstatBigint: (path: string) => { dev: bigint; ino: bigint }): string {
  if (Number.isSafeInteger(e.dev) && Number.isSafeInteger(e.ino)) return `${e.dev}:${e.ino}`;
  const st = lstatBigint(e.absPath);
  return `${st.dev}:${st.ino}`;
}
