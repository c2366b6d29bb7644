import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, realpathSync, utimesSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsOps, mountAll, unmountAll } from '../../snapshotter/index.js';
import {
  type BuildContext,
  hashSources,
  type SelectedSource,
  SourceNotFoundError,
  type StatCache,
} from '../context/index.js';
import { BuildError } from '../errors.js';

/** Where a context mount puts its files: scratch files under the build's tmp, mount points under its mount dir. */
export interface ContextMountEnv {
  tmp: string;
  mnt: string;
}

export type Cleanup = () => Promise<void>;

const S_IFCHR = 0o020000;

/**
 * A RUN bind mount's source in the context, as BuildKit selects it: the path
 * taken literally, symlinks followed inside the context, `.dockerignore`d
 * paths absent. A missing source fails as BuildKit's does.
 */
export async function selectBindSource(context: BuildContext, source: string): Promise<SelectedSource> {
  try {
    const [selected] = await context.select([source], { literal: true });
    return selected as SelectedSource;
  } catch (err) {
    if (!(err instanceof SourceNotFoundError)) throw err;
    throw new BuildError(
      'TSB_BUILD_MOUNT_SOURCE',
      `failed to compute cache key: ${JSON.stringify(source)} not found in the build context`,
      { cause: err },
    );
  }
}

/**
 * The content digest of a bind mount's source: what COPY of the same path
 * would hash (paths, types, modes, link targets and file contents below it;
 * ignored files are not read), through the stat cache.
 */
export async function bindSourceDigest(selected: SelectedSource, statCache: StatCache): Promise<string> {
  return (await hashSources([selected], { statCache })).digest;
}

/**
 * The paths below a selected directory (relative to it) that exist on disk
 * but are not in the filtered context: the `.dockerignore`d entries at the
 * top of each ignored subtree. Uses the listings that selecting the source
 * made; reads nothing else.
 */
export function hiddenPaths(context: BuildContext, selected: SelectedSource): string[] {
  const view = context.view;
  if (!view.ignore || selected.root.type !== 'dir') return [];
  const base = selected.root.contextPath;
  const visible = new Set<string>();
  const dirs = [base];
  for (const e of selected.entries) {
    visible.add(e.contextPath);
    if (e.type === 'dir') dirs.push(e.contextPath);
  }
  const out: string[] = [];
  for (const dir of dirs) {
    for (const name of view.list(dir)) {
      const child = dir === '.' ? name : `${dir}/${name}`;
      if (!visible.has(child)) out.push(base === '.' ? child : child.slice(base.length + 1));
    }
  }
  return out;
}

/**
 * A host path showing the selected source as BuildKit's bind mount of the
 * context shows it, without writing into the context:
 *
 * - read-only, nothing ignored below it (or a single file): the path itself;
 * - with ignored entries below it: an overlay whose top layer (under the
 *   build's tmp) holds a whiteout for each of them, so they are absent; its
 *   directories carry the mode, owner and times of the ones they cover;
 * - writable: the same with an upper layer under the build's tmp, which
 *   `cleanups` throw away (a file's writable view is its directory's overlay).
 */
export async function mountContextSource(
  context: BuildContext,
  selected: SelectedSource,
  readwrite: boolean,
  env: ContextMountEnv,
  cleanups: Cleanup[],
): Promise<string> {
  const root = selected.root;
  if (root.type !== 'dir') {
    if (!readwrite) return root.absPath;
    const lower = dirname(root.absPath);
    const merged = await overlay([lower], await scratchDir(lower, env, cleanups), env, cleanups);
    return join(merged, basename(root.absPath));
  }
  const hidden = hiddenPaths(context, selected);
  if (hidden.length === 0 && !readwrite) return root.absPath;
  const scratch = await scratchDir(root.absPath, env, cleanups);
  const lowers = [root.absPath];
  if (hidden.length > 0) {
    const layer = join(scratch, `ctx-hide-${randomBytes(6).toString('hex')}`);
    cleanups.push(() => rm(layer, { recursive: true, force: true }));
    hideLayer(layer, root.absPath, hidden);
    lowers.unshift(layer);
  }
  return overlay(lowers, readwrite ? scratch : undefined, env, cleanups);
}

/**
 * Where the overlay's own layers go: the build's tmp, unless that lies inside
 * the mounted source (a store inside the context), where overlay would refuse
 * them as overlapping; then a tmpfs of the build's.
 */
async function scratchDir(lower: string, env: ContextMountEnv, cleanups: Cleanup[]): Promise<string> {
  const base = realpathSync(lower);
  const tmp = realpathSync(env.tmp);
  if (tmp !== base && !tmp.startsWith(base === '/' ? '/' : `${base}/`)) return env.tmp;
  return tmpfsDir(env.mnt, 'scratch', cleanups);
}

/** A fresh tmpfs (mode 0700) in `mnt`, unmounted and removed by `cleanups`: for what must not reach the store's disk. */
export async function tmpfsDir(mnt: string, prefix: string, cleanups: Cleanup[]): Promise<string> {
  const dir = join(mnt, `${prefix}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mountAll([{ type: 'tmpfs', source: 'tmpfs', options: ['mode=0700'] }], dir);
  cleanups.push(() => unmountAll(dir));
  return dir;
}

/**
 * Writes an overlay layer that hides `hidden` (paths relative to `lower`):
 * a whiteout for each, in copies of their parent directories.
 */
function hideLayer(layer: string, lower: string, hidden: readonly string[]): void {
  const ops = fsOps();
  const dirs = new Set<string>(['']);
  mkdirSync(layer, { recursive: true });
  for (const p of hidden) {
    const slash = p.lastIndexOf('/');
    const parent = slash < 0 ? '' : p.slice(0, slash);
    if (!dirs.has(parent)) {
      let at = 0;
      for (;;) {
        at = parent.indexOf('/', at + 1);
        const prefix = at < 0 ? parent : parent.slice(0, at);
        if (!dirs.has(prefix)) {
          mkdirSync(join(layer, prefix));
          dirs.add(prefix);
        }
        if (at < 0) break;
      }
    }
    ops.mknod(join(layer, p), S_IFCHR, 0, 0);
  }
  // Last, so that the whiteouts made in them do not change their times.
  for (const d of dirs) {
    const st = lstatSync(join(lower, d));
    const path = join(layer, d);
    chownSync(path, st.uid, st.gid);
    chmodSync(path, st.mode & 0o7777);
    utimesSync(path, st.atimeMs / 1000, st.mtimeMs / 1000);
  }
}

/** Characters that overlay's option syntax cannot carry in a lowerdir (or mountAll refuses). */
const UNSAFE_OPTION = /[,:\\]/;

/** Mounts an overlay of `lowers` (top first), writable into a throwaway upper layer under `scratch` when given. */
async function overlay(lowers: string[], scratch: string | undefined, env: ContextMountEnv, cleanups: Cleanup[]) {
  const paths: string[] = [];
  for (const lower of lowers) {
    if (!UNSAFE_OPTION.test(lower)) {
      paths.push(lower);
      continue;
    }
    // A path overlay cannot name: bind it to one it can.
    const alias = join(env.mnt, `lower-${randomBytes(6).toString('hex')}`);
    await mkdir(alias, { recursive: true });
    cleanups.push(() => rm(alias, { recursive: true, force: true }));
    await mountAll([{ type: 'bind', source: lower, options: ['ro'] }], alias);
    cleanups.push(() => unmountAll(alias));
    paths.push(alias);
  }
  const options = [`lowerdir=${paths.join(':')}`];
  if (scratch !== undefined) {
    const upper = join(scratch, `upper-${randomBytes(6).toString('hex')}`);
    const work = `${upper}-work`;
    await mkdir(upper, { recursive: true });
    await mkdir(work, { recursive: true });
    cleanups.push(async () => {
      await rm(upper, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    });
    options.push(`upperdir=${upper}`, `workdir=${work}`);
  }
  const dir = join(env.mnt, `mount-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mountAll([{ type: 'overlay', source: 'overlay', options }], dir);
  cleanups.push(() => unmountAll(dir));
  return dir;
}
