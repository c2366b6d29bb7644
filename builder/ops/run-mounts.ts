import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageRecord, Lease } from '../../image/index.js';
import type { Database } from '../../metadata/index.js';
import type { RunStep, StepMount } from '../../parser/index.js';
import type { Snapshotter } from '../../snapshotter/index.js';
import { mountAll, unmountAll } from '../../snapshotter/index.js';
import type { BuildCache, CacheInputs } from '../cache.js';
import { type BuildContext, type SelectedSource, SourceNotFoundError, type StatCache } from '../context/index.js';
import { BuildError } from '../errors.js';
import type { FsState } from '../state.js';
import type { BuildSecret } from '../types.js';
import { acquireCacheMount, type CacheMountLease, cacheDirName } from './cache-mount.js';
import { bindSourceDigest, type Cleanup, mountContextSource, selectBindSource, tmpfsDir } from './context-mount.js';
import type { ExtraMount } from './exec.js';
import { type StageContentEnv, stageSelectionDigests, type ViewFn } from './file.js';
import { resolveInRoot } from './resolve-in-root.js';

/** What RUN --mount needs from the build. */
export interface MountEnv {
  sn: Snapshotter;
  lease: Lease;
  /** The store root (cache mounts live in `cache/mounts/`). */
  root: string;
  /** The store's database (who holds which cache mount). */
  db: Database;
  tmp: string;
  /** Where mount points go. */
  mnt: string;
  context: BuildContext;
  secrets: readonly BuildSecret[];
  signal?: AbortSignal;
  stage(index: number): Promise<FsState>;
  /** A stage's `AS` name, for messages. */
  stageName?(index: number): string | undefined;
  /** Unpacks an image and returns its top snapshot. */
  image(normalized: string): Promise<string | undefined>;
  label(): string;
}

export interface ResolvedMounts {
  specs: ExtraMount[];
  env: string[];
  release(): Promise<void>;
}

export interface RunInputEnv {
  /** The cache key of a stage's result (a bind mount `from` a stage). */
  stageKey(index: number): Promise<string>;
  context: BuildContext;
  statCache: StatCache;
  /** A base image by name: a mount from an image counts by its digest. */
  image?(normalized: string): ImageRecord | undefined;
  /** With both, a bind mount from a stage counts by the content of its source there. */
  view?: ViewFn;
  cache?: BuildCache;
}

/** Context bind mounts selected by `runInputs`, by mount position, kept for `resolveRunMounts`. */
const plans = new WeakMap<CacheInputs, Map<number, SelectedSource>>();

/**
 * The cache inputs of a RUN: its argv, env (without the proxy variables), user,
 * working directory, network and security mode, inline files, and its mounts
 * (a mount from another stage counts by that stage's key; a bind mount of the
 * context by the content digest of its source, as COPY's, so that only a change
 * inside it runs the step again; cache, tmpfs and secret mounts by their
 * settings, never by their content, as BuildKit does).
 */
export async function runInputs(step: RunStep, env: RunInputEnv): Promise<CacheInputs> {
  const mounts: unknown[] = [];
  const content: Record<string, string> = {};
  const selected = new Map<number, SelectedSource>();
  for (const [i, m] of step.mounts.entries()) {
    let from: { stage: string } | { image: string } | undefined;
    if (m.type === 'bind' && m.from?.type === 'stage' && env.view && env.cache) {
      const digest = await bindFromStageDigest(m.from.stage, m.source, { ...env, view: env.view, cache: env.cache });
      if (digest !== undefined) {
        content[`mount:${i}:from:${m.source}`] = digest;
        from = { stage: 'content' };
      }
    }
    if (from === undefined && 'from' in m && m.from) {
      from =
        m.from.type === 'stage'
          ? { stage: await env.stageKey(m.from.stage) }
          : { image: env.image?.(m.from.normalized)?.digest ?? m.from.normalized };
    }
    mounts.push({ ...m, ...(from ? { from } : {}) });
    if (m.type === 'bind' && m.from === undefined) {
      const source = await selectBindSource(env.context, m.source);
      selected.set(i, source);
      content[`mount:${i}:${m.source}`] = await bindSourceDigest(source, env.statCache);
    }
  }
  const inputs: CacheInputs = {
    op: {
      op: 'run',
      args: step.args,
      env: step.env,
      user: step.user,
      workdir: step.workdir,
      network: step.network,
      security: step.security,
      files: step.files,
      mounts,
    },
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
  plans.set(inputs, selected);
  return inputs;
}

/**
 * A bind mount from a stage (read-only or not) by the content of its source
 * there, as BuildKit keys it (a stage that changed elsewhere keeps the step
 * cached); undefined when the source is missing, which the mount then reports.
 */
async function bindFromStageDigest(stage: number, source: string, env: StageContentEnv): Promise<string | undefined> {
  try {
    return (await stageSelectionDigests(stage, [['source', source]], {}, env)).source;
  } catch (err) {
    if (err instanceof SourceNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Turns a RUN's `--mount`s and inline files into bind and tmpfs mounts of the
 * sandbox: cache directories under the store (taken as their `sharing` says),
 * read-only views of stages and images (a writable bind gets a throwaway
 * layer), the filtered context (read-only, or with a throwaway layer), secrets
 * as files. `inputs` are the step's from `runInputs` (its context selections
 * are reused). `release` undoes everything, and must be called whatever happens.
 */
export async function resolveRunMounts(step: RunStep, env: MountEnv, inputs?: CacheInputs): Promise<ResolvedMounts> {
  const specs: ExtraMount[] = [];
  const extraEnv: string[] = [];
  const cleanups: Cleanup[] = [];
  const release = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const pendingCaches: PendingCache[] = [];
    const selected = (inputs && plans.get(inputs)) ?? new Map<number, SelectedSource>();
    for (const f of step.files) {
      const path = join(env.tmp, `file-${randomBytes(6).toString('hex')}`);
      writeFileSync(path, f.content, { mode: f.mode });
      chmodSync(path, f.mode);
      specs.push({ type: 'bind', source: path, destination: f.path, readonly: true });
    }
    for (const [i, m] of step.mounts.entries()) {
      env.signal?.throwIfAborted();
      await addMount(m, env, { specs, extraEnv, cleanups, pendingCaches, selected: selected.get(i) });
    }
    // Caches last: a locked one is held only while the step runs, not while the other mounts are made.
    const caches = await acquireCaches(pendingCaches, env, cleanups);
    for (const p of pendingCaches) p.spec.source = (caches.get(p.name) as CacheMountLease).dir;
  } catch (err) {
    await release();
    throw err;
  }
  return { specs, env: extraEnv, release };
}

/**
 * Takes the step's cache directories, in one order (by directory name) so
 * that two steps that lock the same caches cannot wait for each other; a
 * cache mounted twice by one step is taken once.
 */
async function acquireCaches(
  pending: PendingCache[],
  env: MountEnv,
  cleanups: Cleanup[],
): Promise<Map<string, CacheMountLease>> {
  const held = new Map<string, CacheMountLease>();
  const mountsDir = join(env.root, 'cache', 'mounts');
  for (const p of [...pending].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (held.has(p.name)) continue;
    const m = p.mount;
    const lease = await acquireCacheMount(
      env.db,
      mountsDir,
      { id: m.id, sharing: m.sharing, mode: m.mode, uid: m.uid, gid: m.gid, ...(p.base ? { base: p.base } : {}) },
      { signal: env.signal },
    );
    cleanups.push(async () => lease.release());
    held.set(p.name, lease);
  }
  return held;
}

/** A cache mount's spec, its source filled in once the caches are taken. */
interface PendingCache {
  spec: ExtraMount & { type: 'bind' };
  mount: Extract<StepMount, { type: 'cache' }>;
  /** The cache's directory name (its id and base). */
  name: string;
  base?: { key: string; dir: string };
}

interface MountSink {
  specs: ExtraMount[];
  extraEnv: string[];
  cleanups: Cleanup[];
  pendingCaches: PendingCache[];
  /** The step's tmpfs for secret files, made for the first one. */
  secretDir?: string;
  /** A context bind's selection from `runInputs`. */
  selected?: SelectedSource;
}

async function addMount(m: StepMount, env: MountEnv, sink: MountSink): Promise<void> {
  const { specs, extraEnv, cleanups } = sink;
  switch (m.type) {
    case 'tmpfs':
      specs.push({
        type: 'tmpfs',
        destination: m.target,
        ...(m.size !== undefined ? { options: [`size=${m.size}`] } : {}),
      });
      return;
    case 'cache': {
      const spec = { type: 'bind' as const, source: '', destination: m.target, readonly: m.readonly };
      specs.push(spec);
      // A based cache (from=, source=) is keyed by its base's content: the stage's key or the image's top layer.
      let base: PendingCache['base'];
      if (m.from) {
        const from = m.from;
        const fromKey = from.type === 'stage' ? (await env.stage(from.stage)).key : await env.image(from.normalized);
        const dir = await mountedSource(
          { type: 'bind', target: m.target, source: m.source, from, readwrite: false },
          env,
          cleanups,
        );
        base = { key: `${fromKey ?? 'scratch'}:${m.source}`, dir };
      }
      sink.pendingCaches.push({ spec, mount: m, name: cacheDirName(m.id, base?.key), ...(base ? { base } : {}) });
      return;
    }
    case 'bind': {
      let source: string;
      if (m.from === undefined) {
        const selected = sink.selected ?? (await selectBindSource(env.context, m.source));
        source = await mountContextSource(env.context, selected, m.readwrite, env, cleanups);
      } else {
        source = await mountedSource(m, env, cleanups);
      }
      specs.push({ type: 'bind', source, destination: m.target, readonly: !m.readwrite });
      return;
    }
    case 'secret': {
      const secret = env.secrets.find((s) => s.id === m.id);
      let value: Buffer | undefined;
      if (secret?.src !== undefined) value = readFileSync(secret.src);
      else if (secret?.env !== undefined && process.env[secret.env] !== undefined) {
        value = Buffer.from(process.env[secret.env] as string);
      }
      if (value === undefined) {
        if (m.required) throw new BuildError('TSB_BUILD_SECRET', `secret ${m.id} not found`);
        return;
      }
      if (m.env !== undefined) extraEnv.push(`${m.env}=${value.toString()}`);
      if (m.target !== undefined || m.env === undefined) {
        // Secrets live in a tmpfs of the step's (as BuildKit's), never on the store's disk.
        sink.secretDir ??= await tmpfsDir(env.mnt, 'secrets', cleanups);
        const path = join(sink.secretDir, `secret-${randomBytes(6).toString('hex')}`);
        writeFileSync(path, value, { mode: m.mode });
        chmodSync(path, m.mode);
        chownSync(path, m.uid, m.gid);
        specs.push({
          type: 'bind',
          source: path,
          destination: m.target ?? `/run/secrets/${m.id}`,
          readonly: true,
        });
      }
      return;
    }
    case 'ssh':
      throw new BuildError(
        'TSB_BUILD_UNSUPPORTED',
        'RUN --mount=type=ssh is not supported: tsbuild has no ssh agent forwarding',
      );
  }
}

/**
 * The host path of a bind's source in a mounted stage or image (with a
 * throwaway layer when writable): symlinks on the way resolve inside that
 * root, never on the host.
 */
async function mountedSource(
  m: Extract<StepMount, { type: 'bind' }>,
  env: MountEnv,
  cleanups: Cleanup[],
): Promise<string> {
  const from = m.from as NonNullable<typeof m.from>;
  const snapshot = from.type === 'stage' ? (await env.stage(from.stage)).snapshot : await env.image(from.normalized);
  const dir = join(env.mnt, `mount-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  if (snapshot !== undefined) {
    const key = env.label();
    env.lease.add('snapshot', key);
    const mounts = m.readwrite ? await env.sn.prepare(key, snapshot) : await env.sn.view(key, snapshot);
    cleanups.push(() => env.sn.remove(key));
    await mountAll(mounts, dir);
    cleanups.push(() => unmountAll(dir));
  }
  const source = resolveInRoot(dir, m.source);
  if (!existsSync(source)) {
    throw new BuildError(
      'TSB_BUILD_MOUNT_SOURCE',
      `failed to compute cache key: ${JSON.stringify(m.source)} not found in ${from.type === 'stage' ? `stage ${env.stageName?.(from.stage) ?? from.stage}` : from.normalized}`,
    );
  }
  return source;
}
