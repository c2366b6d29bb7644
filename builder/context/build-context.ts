import { resolve } from 'node:path';
import { cleanPath, contextRelative } from './clean-path.js';
import { type ContextEntry, inodeKey, isDirMode, makeEntry, makeEntryAt } from './context-entry.js';
import { type ContextFs, nodeContextFs, yielder } from './context-fs.js';
import { ContextView, childState, type FilterState, OPEN_STATE } from './context-view.js';
import { ContextError } from './errors.js';
import { compileGlob, hasWildcards } from './go-glob.js';
import { contextAddon, STAT_FIELDS } from './native-list.js';
import { type MatchInfo, NO_MATCH_INFO, PatternMatcher } from './pattern-matcher.js';

/** A COPY or ADD source that is missing from the (filtered) context. */
export class SourceNotFoundError extends ContextError {
  readonly source: string;
  constructor(source: string, path: string) {
    super('TSB_COPY_NOT_FOUND', `${JSON.stringify(`/${path === '.' ? '' : path}`)}: not found`);
    this.source = source;
  }
}

/** One match of a COPY or ADD source. */
export interface SelectedSource {
  /** The source as written in the instruction. */
  source: string;
  /** The matched path, relative to the context root (`.` for the root); with `parents`, the pivot directory. */
  path: string;
  /** The matched object itself (a symlink source is followed), with `path` `''`. */
  root: ContextEntry;
  /**
   * For a directory: what it holds, parents before children, in name order,
   * with `path` relative to the directory. Empty for anything else.
   */
  entries: ContextEntry[];
  /** True for `COPY --parents`: `entries` keep their path below the pivot, and the destination is a directory. */
  parents?: boolean;
}

export interface SelectOptions {
  /** `COPY --exclude` patterns (patternmatcher syntax), matched against paths below each source. */
  exclude?: string[];
  /** `COPY --parents`: keep each match's path (below an optional `/./` pivot). */
  parents?: boolean;
  /** Follow a source path that is a symlink (BuildKit does, for COPY and ADD). Default true. */
  followSymlinks?: boolean;
  /** A wildcard that matches nothing selects nothing (BuildKit's behaviour). Default true. */
  allowEmptyWildcard?: boolean;
  /** Take each source as a plain path, `*`, `?` and `[` included (a RUN bind mount's source). Default false. */
  literal?: boolean;
}

export interface BuildContextOptions {
  /** The `.dockerignore` patterns; see `loadDockerignore`. */
  ignore?: PatternMatcher;
  fs?: ContextFs;
  /** Report the files' real owners instead of 0:0 (Docker sends the context with uid and gid reset to 0). */
  preserveOwnership?: boolean;
}

/**
 * A build context directory, filtered by `.dockerignore`. `select` resolves
 * COPY and ADD sources lazily: it lists only the directories that a source
 * names or copies, and reads no file content. One instance can serve every
 * instruction of a build; what it lists is remembered.
 */
export class BuildContext {
  readonly dir: string;
  readonly view: ContextView;
  private readonly preserveOwnership: boolean;

  constructor(dir: string, options: BuildContextOptions = {}) {
    this.dir = resolve(dir);
    const fs = options.fs ?? nodeContextFs;
    this.view = new ContextView(this.dir, fs, options.ignore, fs === nodeContextFs ? contextAddon() : undefined);
    this.preserveOwnership = options.preserveOwnership ?? false;
  }

  /** Resolves the sources of one COPY or ADD, in order. Throws `SourceNotFoundError` for a missing plain path. */
  async select(sources: readonly string[], options: SelectOptions = {}): Promise<SelectedSource[]> {
    const exclude = options.exclude && options.exclude.length > 0 ? new PatternMatcher(options.exclude) : undefined;
    const out: SelectedSource[] = [];
    for (const source of sources) {
      if (options.parents) out.push(...(await this.selectParents(source, exclude)));
      else out.push(...(await this.selectOne(source, exclude, options)));
    }
    return out;
  }

  private async selectOne(
    source: string,
    exclude: PatternMatcher | undefined,
    options: SelectOptions,
  ): Promise<SelectedSource[]> {
    const follow = options.followSymlinks ?? true;
    const rel = contextRelative(source);
    const parts = rel === '.' ? [] : rel.split('/');
    const firstWild = options.literal ? -1 : parts.findIndex(hasWildcards);
    if (firstWild < 0) {
      const one = await this.matchPath(source, rel, follow, exclude);
      if (!one) throw new SourceNotFoundError(source, rel);
      return [one];
    }
    const baseRel = firstWild === 0 ? '.' : parts.slice(0, firstWild).join('/');
    const glob = compileGlob(parts.slice(firstWild).join('/'));
    const base = this.view.resolve(baseRel, true);
    const matches: string[] = [];
    if (base?.stats.isDirectory()) {
      const maxDepth = glob.depth;
      const pause = yielder();
      const walk = async (realDir: string, relDir: string, depth: number): Promise<void> => {
        await pause();
        const { names, rows } = this.view.statList(realDir);
        for (let i = 0; i < names.length; i++) {
          const name = names[i] as string;
          const real = realDir === '.' ? name : `${realDir}/${name}`;
          const relPath = relDir === '' ? name : `${relDir}/${name}`;
          const isDir = isDirMode(rows[i * STAT_FIELDS] as number);
          if (!this.view.visible(real, isDir)) continue;
          if (glob.match(relPath)) {
            // A match is judged by `--exclude` relative to the wildcard's base directory.
            if (!exclude?.matches(relPath)) matches.push(baseRel === '.' ? relPath : `${baseRel}/${relPath}`);
          } else if (isDir && depth < maxDepth) {
            await walk(real, relPath, depth + 1);
          }
        }
      };
      await walk(base.real, '', 0);
    }
    if (matches.length === 0 && options.allowEmptyWildcard === false) throw new SourceNotFoundError(source, rel);
    const out: SelectedSource[] = [];
    for (const m of matches) {
      const one = await this.matchPath(source, m, follow, exclude);
      if (!one) throw new SourceNotFoundError(source, m);
      out.push(one);
    }
    return out;
  }

  /** One matched path: follow it, and list it when it is a directory. */
  private async matchPath(
    source: string,
    rel: string,
    follow: boolean,
    exclude: PatternMatcher | undefined,
  ): Promise<SelectedSource | undefined> {
    const found = this.view.resolve(rel, follow);
    if (!found) return undefined;
    const root = makeEntry(found.stats, '', found.real, this.view.abs(found.real), this.preserveOwnership);
    if (root.type === 'symlink') root.linkTarget = this.view.fs.readlink(root.absPath);
    const entries = root.type === 'dir' ? await this.listTree(found.real, exclude) : [];
    return { source, path: rel, root, entries };
  }

  /** `COPY --parents`: the pattern (patternmatcher syntax, `**` allowed) selects paths below the pivot. */
  private async selectParents(source: string, exclude: PatternMatcher | undefined): Promise<SelectedSource[]> {
    const pivotAt = source.indexOf('/./');
    const pivot = pivotAt < 0 ? '.' : contextRelative(source.slice(0, pivotAt));
    const pattern = cleanPath(`/${pivotAt < 0 ? source : source.slice(pivotAt + 3)}`).slice(1);
    const found = this.view.resolve(pivot, true);
    if (!found?.stats.isDirectory()) throw new SourceNotFoundError(source, pivot);
    const include = pattern === '' ? undefined : new PatternMatcher([pattern]);
    const entries = await this.listTree(found.real, exclude, include);
    const literal = !hasWildcards(pattern);
    if (literal && entries.length === 0 && pattern !== '') {
      throw new SourceNotFoundError(source, pivot === '.' ? pattern : `${pivot}/${pattern}`);
    }
    const root = makeEntry(found.stats, '', found.real, this.view.abs(found.real), this.preserveOwnership);
    return [{ source, path: pivot, root, entries, parents: true }];
  }

  /**
   * What a directory holds, as the copy sees it: ignored entries are left
   * out, but an ignored directory stays when something below it is visible.
   * Symlinks are kept as they are. Hard links within the tree are marked.
   */
  private async listTree(
    realDir: string,
    exclude: PatternMatcher | undefined,
    include?: PatternMatcher,
  ): Promise<ContextEntry[]> {
    const view = this.view;
    const includePrefix = include ? literalPrefix(include) : [];
    const pause = yielder();
    const out: ContextEntry[] = [];
    // Appends what `real` holds to `out`; returns whether it appended anything.
    const collect = async (
      real: string,
      rel: string,
      ex: FilterState,
      inc: { matched: boolean; info: MatchInfo },
    ): Promise<boolean> => {
      await pause();
      const before = out.length;
      const parentState = view.dirState(real);
      const { names, abs, rows } = view.statList(real);
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        const childReal = real === '.' ? name : `${real}/${name}`;
        const childRel = rel === '' ? name : rel === real ? childReal : `${rel}/${name}`;
        const isDir = isDirMode(rows[i * STAT_FIELDS] as number);
        const ctx = isDir ? view.dirState(childReal) : view.fileState(parentState, childReal);
        if (ctx.skip) continue;
        const exState = childState(exclude, ex, childRel, isDir);
        if (exState.skip) continue;
        let incState = inc;
        if (include && !inc.matched) {
          incState = include.matchWithParent(childRel, inc.info);
          if (!incState.matched && !(isDir && mayHoldMatches(includePrefix, childRel))) continue;
        }
        const hidden = ctx.excluded || exState.excluded || (include !== undefined && !incState.matched);
        if (hidden && !isDir) continue;
        const entry = makeEntryAt(rows, i, childRel, childReal, abs[i] as string, this.preserveOwnership);
        if (isDir) {
          const at = out.length;
          out.push(entry);
          const any = await collect(childReal, childRel, exState, incState);
          if (hidden && !any) out.length = at;
          continue;
        }
        if (entry.type === 'symlink') entry.linkTarget = view.fs.readlink(entry.absPath);
        out.push(entry);
      }
      return out.length > before;
    };
    // Nothing to filter (the common case): every entry is kept, no match state to carry.
    const all = async (real: string, rel: string): Promise<void> => {
      await pause();
      const { names, abs, rows } = view.statList(real);
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        const childReal = real === '.' ? name : `${real}/${name}`;
        const childRel = rel === '' ? name : rel === real ? childReal : `${rel}/${name}`;
        const entry = makeEntryAt(rows, i, childRel, childReal, abs[i] as string, this.preserveOwnership);
        out.push(entry);
        if (entry.type === 'dir') await all(childReal, childRel);
        else if (entry.type === 'symlink') entry.linkTarget = view.fs.readlink(entry.absPath);
      }
    };
    if (!view.ignore && !exclude && !include) await all(realDir, '');
    else await collect(realDir, '', OPEN_STATE, { matched: false, info: NO_MATCH_INFO });
    const entries = out;
    markHardlinks(entries, (p) => view.fs.lstatBigint(p));
    return entries;
  }
}

/** The leading path elements of a one-pattern matcher that have no glob characters. */
function literalPrefix(matcher: PatternMatcher): string[] {
  const text = matcher.patterns[0]?.text ?? '';
  const out: string[] = [];
  for (const part of text.split('/')) {
    if (hasWildcards(part) || part.includes('\\')) break;
    out.push(part);
  }
  return out;
}

/** Whether directory `rel` can hold a path that starts with the literal prefix. */
function mayHoldMatches(prefix: string[], rel: string): boolean {
  const parts = rel.split('/');
  const n = Math.min(parts.length, prefix.length);
  for (let i = 0; i < n; i++) if (parts[i] !== prefix[i]) return false;
  return true;
}

function markHardlinks(entries: ContextEntry[], lstatBigint: ContextFs['lstatBigint']): void {
  const seen = new Map<string, string>();
  for (const e of entries) {
    if (e.type !== 'file' || e.nlink < 2) continue;
    const key = inodeKey(e, lstatBigint);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, e.path);
    else e.hardlinkOf = first;
  }
}

/** Resolves COPY or ADD sources in one call; see `BuildContext.select`. */
export function selectSources(
  contextDir: string,
  sources: readonly string[],
  options: SelectOptions & BuildContextOptions = {},
): Promise<SelectedSource[]> {
  return new BuildContext(contextDir, options).select(sources, options);
}
