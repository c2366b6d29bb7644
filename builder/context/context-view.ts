import type { Stats } from 'node:fs';
import { type ContextFs, guardFs } from './context-fs.js';
import { ContextError, contextReadError, isMissing } from './errors.js';
import { type ContextAddon, STAT_FIELDS } from './native-list.js';
import { type MatchInfo, NO_MATCH_INFO, type PatternMatcher } from './pattern-matcher.js';

/**
 * A path's standing under one pattern list, computed from its parent's as
 * fsutil does when it walks a context: `excluded` when the patterns exclude
 * it, `skip` when it lies in an excluded directory that no exception can
 * reach into (so nothing below it is visible).
 */
export interface FilterState {
  excluded: boolean;
  skip: boolean;
  info: MatchInfo;
}

export const OPEN_STATE: FilterState = { excluded: false, skip: false, info: NO_MATCH_INFO };
const SKIPPED: FilterState = { excluded: true, skip: true, info: NO_MATCH_INFO };

/** The state of `path` (relative to the matcher's base) given its parent directory's state. */
export function childState(
  matcher: PatternMatcher | undefined,
  parent: FilterState,
  path: string,
  isDir: boolean,
): FilterState {
  if (parent.skip) return SKIPPED;
  if (!matcher || matcher.empty) return OPEN_STATE;
  const { matched, info } = matcher.matchWithParent(path, parent.info);
  const skip =
    matched && isDir && matcher.onlyPrefixExceptions && (!matcher.exclusions || !matcher.exceptionUnder(path));
  return { excluded: matched, skip, info };
}

/** Orders names as Go does (by UTF-8 bytes, which is code point order). */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

const MAX_LINKS = 255;

/** A directory's entries, in name order, with their lstat data (`STAT_FIELDS` doubles per name, see `StatField`). */
export interface StatListing {
  names: string[];
  /** Absolute paths. */
  abs: string[];
  rows: Float64Array;
}

/**
 * The context as BuildKit's COPY sees it: the files on disk minus what
 * `.dockerignore` hides. Everything is computed on demand and remembered, so
 * only the parts of the context that COPY and ADD name are ever listed.
 */
export class ContextView {
  readonly root: string;
  readonly fs: ContextFs;
  readonly ignore: PatternMatcher | undefined;
  private readonly dirStates = new Map<string, FilterState>([['.', OPEN_STATE]]);
  private readonly nonEmpty = new Map<string, boolean>();
  private readonly listings = new Map<string, string[]>();

  private readonly addon: ContextAddon | undefined;

  /** `addon` lists and stats directories in one call; only for the real file system (`nodeContextFs`). */
  constructor(root: string, fs: ContextFs, ignore: PatternMatcher | undefined, addon?: ContextAddon) {
    this.root = root;
    this.fs = guardFs(fs);
    this.ignore = ignore && !ignore.empty ? ignore : undefined;
    this.addon = addon;
  }

  abs(rel: string): string {
    if (rel === '.') return this.root;
    return this.root === '/' ? `/${rel}` : `${this.root}/${rel}`;
  }

  /** Sorted names in a directory of the context (not filtered). */
  list(rel: string): string[] {
    let names = this.listings.get(rel);
    if (!names) {
      names = this.fs.readdir(this.abs(rel)).sort(compareNames);
      this.listings.set(rel, names);
    }
    return names;
  }

  /**
   * A directory's entries with their lstat data, in name order; a name
   * removed since the listing is left out. Every entry is stat'ed before the
   * caller descends into any of them: a listing is a snapshot.
   */
  statList(rel: string): StatListing {
    const dir = this.abs(rel);
    const prefix = dir === '/' ? '/' : `${dir}/`;
    let names: string[];
    let rows: Float64Array;
    if (this.addon) {
      try {
        [names, rows] = this.addon.listStats(dir);
      } catch (err) {
        if (isMissing(err)) throw err;
        const e = err as NodeJS.ErrnoException;
        throw contextReadError(e.syscall === 'lstat' ? 'stat' : 'list', e.path ?? dir, err);
      }
      this.listings.set(rel, names);
    } else {
      const listed = this.list(rel);
      names = listed;
      rows = new Float64Array(listed.length * STAT_FIELDS);
      let n = 0;
      for (let i = 0; i < listed.length; i++) {
        const name = listed[i] as string;
        let st: Stats;
        try {
          st = this.fs.lstat(prefix + name);
        } catch (err) {
          // Removed since the directory was listed: as fsutil, leave it out.
          if (!isMissing(err)) throw err;
          if (names === listed) names = listed.slice(0, i);
          continue;
        }
        if (names !== listed) names.push(name);
        const at = n++ * STAT_FIELDS;
        rows[at] = st.mode;
        rows[at + 1] = st.uid;
        rows[at + 2] = st.gid;
        rows[at + 3] = st.size;
        rows[at + 4] = st.mtimeMs;
        rows[at + 5] = st.ctimeMs;
        rows[at + 6] = st.dev;
        rows[at + 7] = st.ino;
        rows[at + 8] = st.nlink;
        rows[at + 9] = st.rdev;
      }
    }
    const abs: string[] = new Array(names.length);
    for (let i = 0; i < names.length; i++) abs[i] = prefix + names[i];
    return { names, abs, rows };
  }

  /** The state of a directory reached by real (symlink-free) path components. */
  dirState(rel: string): FilterState {
    const known = this.dirStates.get(rel);
    if (known) return known;
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? OPEN_STATE : this.dirState(rel.slice(0, slash));
    const state = childState(this.ignore, parent, rel, true);
    this.dirStates.set(rel, state);
    return state;
  }

  /** The state of a file (not a directory) in the directory whose state is `parent`. */
  fileState(parent: FilterState, rel: string): FilterState {
    return childState(this.ignore, parent, rel, false);
  }

  /** The state of any path reached by real components. */
  state(rel: string, isDir: boolean): FilterState {
    if (rel === '.') return OPEN_STATE;
    if (isDir) return this.dirState(rel);
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? OPEN_STATE : this.dirState(rel.slice(0, slash));
    return childState(this.ignore, parent, rel, false);
  }

  /** Whether a path is in the filtered context: not ignored, or an ignored directory that holds something visible. */
  visible(rel: string, isDir: boolean): boolean {
    const s = this.state(rel, isDir);
    if (s.skip) return false;
    if (!s.excluded) return true;
    return isDir && this.hasVisibleContent(rel);
  }

  /** Whether an (ignored) directory holds a visible entry at any depth. */
  hasVisibleContent(rel: string): boolean {
    let known = this.nonEmpty.get(rel);
    if (known === undefined) {
      known = this.list(rel).some((name) => {
        const child = rel === '.' ? name : `${rel}/${name}`;
        let isDir: boolean;
        try {
          isDir = this.fs.lstat(this.abs(child)).isDirectory();
        } catch (err) {
          if (isMissing(err)) return false;
          throw err;
        }
        return this.visible(child, isDir);
      });
      this.nonEmpty.set(rel, known);
    }
    return known;
  }

  /**
   * Resolves a context-relative path as BuildKit does (continuity's
   * `RootPath`): symlinks are followed inside the context, an absolute target
   * starts again at the context root, and `..` stops at the root. Every path
   * it passes through must be visible. Returns undefined when the path does
   * not exist in the filtered context.
   */
  resolve(rel: string, followFinal: boolean): { real: string; stats: Stats } | undefined {
    const queue = rel === '.' ? [] : rel.split('/');
    const done: string[] = [];
    let links = 0;
    let stats: Stats | undefined;
    while (queue.length > 0) {
      const part = queue.shift() as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        done.pop();
        stats = undefined;
        continue;
      }
      const candidate = done.length === 0 ? part : `${done.join('/')}/${part}`;
      let st: Stats;
      try {
        st = this.fs.lstat(this.abs(candidate));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      if (st.isSymbolicLink() && (queue.length > 0 || followFinal)) {
        if (this.state(candidate, false).excluded || this.state(candidate, false).skip) return undefined;
        if (++links > MAX_LINKS) {
          throw new ContextError('TSB_CONTEXT_SYMLINK_LOOP', `too many levels of symbolic links: ${rel}`);
        }
        const target = this.fs.readlink(this.abs(candidate));
        if (target.startsWith('/')) done.length = 0;
        queue.unshift(...target.split('/'));
        stats = undefined;
        continue;
      }
      if (queue.length > 0 && !st.isDirectory()) return undefined;
      if (this.state(candidate, st.isDirectory()).skip) return undefined;
      done.push(part);
      stats = st;
    }
    const real = done.length === 0 ? '.' : done.join('/');
    if (!stats) {
      try {
        stats = this.fs.lstat(this.abs(real));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    }
    if (real !== '.' && !this.visible(real, stats.isDirectory())) return undefined;
    return { real, stats };
  }
}
