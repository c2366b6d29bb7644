import { posix } from 'node:path';
import type { ImageRecord } from '../../image/index.js';
import type { CopyStep, WorkdirStep } from '../../parser/index.js';
import { readRootfsFile, resolveUser } from '../../runtime-native/index.js';
import type { BuildCache, CacheInputs } from '../cache.js';
import {
  BuildContext,
  type BuildContext as Context,
  hashSources,
  type SelectedSource,
  type StatCache,
} from '../context/index.js';
import { BuildError } from '../errors.js';
import type { CopyItem } from './copy-into.js';
import { mkdirAllInRoot } from './resolve-in-root.js';
import { parseSymbolicMode } from './symbolic-mode.js';

export interface CopyInputEnv {
  context: Context;
  statCache: StatCache;
  /** The cache key of a stage's result (COPY --from=stage). */
  stageKey(index: number): Promise<string>;
  image(normalized: string): ImageRecord | undefined;
  tmp: string;
  signal?: AbortSignal;
  /**
   * Mounts another stage's result: with it (and `cache`), COPY --from=stage is
   * keyed by the content it selects there, not by how the stage was made, as
   * BuildKit's content-based cache keys (a stage that changed without changing
   * the copied files leaves the COPY and what follows it cached).
   */
  view?: ViewFn;
  cache?: BuildCache;
}

/** A view of another stage or image mounted for the duration of `fn`. */
export type ViewFn = <T>(
  source: { type: 'stage'; stage: number } | { type: 'image'; normalized: string },
  fn: (dir: string) => Promise<T>,
) => Promise<T>;

/** What `copyInputs` found, kept for `performCopy` so that nothing is selected or fetched twice. */
interface CopyPlan {
  /** Context selections by source position. */
  selected: Map<number, SelectedSource[]>;
  /** Downloaded URLs by source position. */
  fetched: Map<number, { name: string; path: string; mtime: Date }>;
}

const plans = new WeakMap<CacheInputs, CopyPlan>();

/**
 * The cache inputs of a COPY or ADD: the op's settings and, per source, the
 * content digest of what it selects in the context (through the stat cache),
 * the downloaded content of a URL, the text of a heredoc, or the key of the
 * stage (the image digest) it copies from.
 */
export async function copyInputs(step: CopyStep, env: CopyInputEnv): Promise<CacheInputs> {
  const plan: CopyPlan = { selected: new Map(), fetched: new Map() };
  const content: Record<string, string> = {};
  let from: string | undefined;
  if (step.from?.type === 'stage' && env.view && env.cache) {
    from = 'stage';
    Object.assign(content, await stageContent(step, step.from.stage, { ...env, view: env.view, cache: env.cache }));
  } else if (step.from?.type === 'stage') from = await env.stageKey(step.from.stage);
  else if (step.from?.type === 'image') from = env.image(step.from.normalized)?.digest ?? step.from.normalized;
  if (step.chmod && step.chmod.mode === undefined) {
    try {
      parseSymbolicMode(step.chmod.raw);
    } catch (err) {
      throw new BuildError('TSB_COPY_CHMOD', (err as Error).message, { ranges: [step.range] });
    }
  }
  for (const [i, s] of step.sources.entries()) {
    if (s.type === 'git') {
      throw new BuildError('TSB_BUILD_UNSUPPORTED', `${step.op.toUpperCase()} of a git repository is not supported`, {
        ranges: [step.range],
      });
    }
    if (s.type === 'heredoc') continue;
    if (s.type === 'url') {
      if (step.from) throw new BuildError('TSB_COPY_URL', 'a URL source cannot be used with --from');
      const { fetchUrl } = await import('./fetch-url.js');
      const got = await fetchUrl(s.url, {
        dir: env.tmp,
        checksum: step.checksum,
        signal: env.signal,
      });
      plan.fetched.set(i, got);
      content[`${i}:${s.url}`] = got.digest;
      continue;
    }
    if (step.from) continue;
    const normal = posix.normalize(s.path);
    if (normal === '..' || normal.startsWith('../')) {
      throw new BuildError('TSB_COPY_OUTSIDE_CONTEXT', `forbidden path outside the build context: ${s.path}`, {
        ranges: [step.range],
      });
    }
    const selected = await env.context.select([s.path], {
      exclude: step.exclude,
      parents: step.parents,
    });
    plan.selected.set(i, selected);
    const hashed = await hashSources(selected, { statCache: env.statCache });
    content[`${i}:${keyPath(s.path, step.parents)}`] = hashed.digest;
  }
  const inputs: CacheInputs = {
    op: {
      op: step.op,
      sources: step.sources.map((s) =>
        s.type === 'path'
          ? keyPath(s.path, step.parents)
          : s.type === 'heredoc'
            ? { heredoc: s.name, content: s.content }
            : s.url,
      ),
      dest: step.dest,
      destPath: step.destPath,
      workdir: step.workdir,
      ...(from !== undefined ? { from } : {}),
      ...(step.chown !== undefined ? { chown: step.chown } : {}),
      ...(step.chmod !== undefined ? { chmod: step.chmod.mode ?? step.chmod.raw } : {}),
      exclude: step.exclude,
      parents: step.parents,
      link: step.link,
      unpack: step.unpack,
    },
    content,
  };
  plans.set(inputs, plan);
  return inputs;
}

/**
 * A source path as the cache key has it: cleaned, as BuildKit's LLB has it
 * (`./a.txt`, `/a.txt` and `a.txt` are one source, and `dir/` is `dir`), but
 * as written under --parents, where a `/./` marks the pivot.
 */
function keyPath(path: string, parents: boolean | undefined): string {
  if (parents) return path;
  const clean = posix.join('/', path);
  return (clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean).slice(1) || '.';
}

/** What `stageSelectionDigests` needs: the stage's key, a view of its result, and the memo. */
export interface StageContentEnv {
  stageKey(index: number): Promise<string>;
  view: ViewFn;
  cache: BuildCache;
}

/**
 * The content digests (path, type, mode, owner, content; not times) of what
 * each path selects in stage `index`'s result, by the given names, remembered
 * by the stage's key so that a cached build mounts nothing. BuildKit keys a
 * COPY --from and a bind mount from a stage this way.
 */
export async function stageSelectionDigests(
  index: number,
  paths: ReadonlyArray<readonly [name: string, path: string]>,
  select: { exclude?: string[]; parents?: boolean },
  env: StageContentEnv,
): Promise<Record<string, string>> {
  const stageKey = await env.stageKey(index);
  const memo = env.cache.contentMemoKey(stageKey, { paths, ...select });
  const remembered = env.cache.content(memo);
  if (remembered !== undefined) return JSON.parse(remembered) as Record<string, string>;
  const content: Record<string, string> = {};
  await env.view({ type: 'stage', stage: index }, async (dir) => {
    const from = new BuildContext(dir, { preserveOwnership: true });
    for (const [name, path] of paths) content[name] = (await hashSources(await from.select([path], select))).digest;
  });
  env.cache.putContent(memo, JSON.stringify(content));
  return content;
}

/** A COPY --from=stage's sources by content (see `stageSelectionDigests`). */
function stageContent(step: CopyStep, index: number, env: StageContentEnv): Promise<Record<string, string>> {
  const paths = step.sources.flatMap((s, i) =>
    s.type === 'path' ? [[`from:${i}:${keyPath(s.path, step.parents)}`, s.path] as const] : [],
  );
  return stageSelectionDigests(index, paths, { exclude: step.exclude, parents: step.parents }, env);
}

/** Performs a COPY or ADD into `root` (the mounted active snapshot) as planned by `copyInputs`. */
export async function performCopy(
  root: string,
  step: CopyStep,
  inputs: CacheInputs,
  env: { signal?: AbortSignal; view: ViewFn },
): Promise<void> {
  const plan = plans.get(inputs) ?? { selected: new Map(), fetched: new Map() };
  const run = async (fromDir: string | undefined) => {
    const from = fromDir === undefined ? undefined : new BuildContext(fromDir, { preserveOwnership: true });
    const items: CopyItem[] = [];
    for (const [i, s] of step.sources.entries()) {
      if (s.type === 'heredoc') {
        items.push({ kind: 'file', name: s.name, content: s.content, mode: 0o644 });
      } else if (s.type === 'url') {
        const got = plan.fetched.get(i) as { name: string; path: string; mtime: Date };
        items.push({ kind: 'file', name: got.name, path: got.path, mode: 0o600, mtime: got.mtime });
      } else if (s.type !== 'path') {
      } else if (from) {
        for (const source of await from.select([s.path], { exclude: step.exclude, parents: step.parents })) {
          items.push({ kind: 'selected', source, preserveOwnership: true });
        }
      } else {
        for (const source of plan.selected.get(i) ?? [])
          items.push({ kind: 'selected', source, preserveOwnership: false });
      }
    }
    const { copyInto } = await import('./copy-into.js');
    await copyInto({
      root,
      items,
      dest: step.dest,
      workdir: step.workdir,
      chown: step.chown,
      chmod: step.chmod === undefined ? undefined : (step.chmod.mode ?? step.chmod.raw),
      unpack: step.unpack,
      instruction: step.op === 'add' ? 'ADD' : 'COPY',
      signal: env.signal,
    });
  };
  if (!step.from) return run(undefined);
  const source =
    step.from.type === 'stage'
      ? { type: 'stage' as const, stage: step.from.stage }
      : { type: 'image' as const, normalized: step.from.normalized };
  return env.view(source, (dir) => run(dir));
}

/** The cache inputs of a WORKDIR that creates its directory. */
export function workdirInputs(step: WorkdirStep): CacheInputs {
  return { op: { op: 'workdir', path: step.path, user: step.user } };
}

/**
 * WORKDIR's mkdir: the missing directories of the path, mode 0755, owned by the
 * stage's USER (resolved in the image's /etc/passwd and /etc/group), as BuildKit;
 * symlinks on the way are followed inside the root.
 */
export async function performWorkdir(root: string, step: WorkdirStep): Promise<void> {
  const user = resolveUser(step.user === '' ? undefined : step.user, {
    passwd: readRootfsFile(root, '/etc/passwd'),
    group: readRootfsFile(root, '/etc/group'),
  });
  mkdirAllInRoot(root, step.path, { uid: user.uid, gid: user.gid });
}
