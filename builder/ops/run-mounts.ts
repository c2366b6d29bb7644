import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Lease } from '../../image/index.js';
import type { RunStep, StepMount } from '../../parser/index.js';
import type { Snapshotter } from '../../snapshotter/index.js';
import { mountAll, unmountAll } from '../../snapshotter/index.js';
import type { CacheInputs } from '../cache.js';
import { BuildError } from '../errors.js';
import type { FsState } from '../state.js';
import type { BuildSecret } from '../types.js';
import type { ExtraMount } from './exec.js';

/** What RUN --mount needs from the build. */
export interface MountEnv {
  sn: Snapshotter;
  lease: Lease;
  /** The store root (cache mounts live in `cache/mounts/`). */
  root: string;
  tmp: string;
  /** Where mount points go. */
  mnt: string;
  context: string;
  secrets: readonly BuildSecret[];
  stage(index: number): Promise<FsState>;
  /** Unpacks an image and returns its top snapshot. */
  image(normalized: string): Promise<string | undefined>;
  label(): string;
}

export interface ResolvedMounts {
  specs: ExtraMount[];
  env: string[];
  release(): Promise<void>;
}

/**
 * The cache inputs of a RUN: its argv, env (without the proxy variables), user,
 * working directory, network and security mode, inline files, and its mounts
 * (a mount from another stage counts by that stage's key; cache, tmpfs and secret
 * mounts by their settings, never by their content, as BuildKit does).
 */
export async function runInputs(step: RunStep, stageKey: (index: number) => Promise<string>): Promise<CacheInputs> {
  const mounts: unknown[] = [];
  for (const m of step.mounts) {
    const from =
      'from' in m && m.from
        ? m.from.type === 'stage'
          ? { stage: await stageKey(m.from.stage) }
          : { image: m.from.normalized }
        : undefined;
    mounts.push({ ...m, ...(from ? { from } : {}) });
  }
  return {
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
  };
}

/**
 * Turns a RUN's `--mount`s and inline files into bind and tmpfs mounts of the
 * sandbox: cache directories under the store, read-only views of stages and
 * images (a writable bind gets a throwaway layer), the context (read-only, or
 * with a throwaway layer), secrets as files. `release` undoes everything.
 */
export async function resolveRunMounts(step: RunStep, env: MountEnv): Promise<ResolvedMounts> {
  const specs: ExtraMount[] = [];
  const extraEnv: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const release = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    for (const f of step.files) {
      const path = join(env.tmp, `file-${randomBytes(6).toString('hex')}`);
      writeFileSync(path, f.content, { mode: f.mode });
      chmodSync(path, f.mode);
      specs.push({ type: 'bind', source: path, destination: f.path, readonly: true });
    }
    for (const m of step.mounts) await addMount(m, env, specs, extraEnv, cleanups);
  } catch (err) {
    await release();
    throw err;
  }
  return { specs, env: extraEnv, release };
}

async function addMount(
  m: StepMount,
  env: MountEnv,
  specs: ExtraMount[],
  extraEnv: string[],
  cleanups: (() => Promise<void>)[],
): Promise<void> {
  switch (m.type) {
    case 'tmpfs':
      specs.push({
        type: 'tmpfs',
        destination: m.target,
        ...(m.size !== undefined ? { options: [`size=${m.size}`] } : {}),
      });
      return;
    case 'cache': {
      const id = createHash('sha256').update(m.id).digest('hex').slice(0, 32);
      const dir = join(env.root, 'cache', 'mounts', id);
      mkdirSync(dirname(dir), { recursive: true });
      try {
        // Mode and owner are set once, when the cache is made; its content persists across builds.
        mkdirSync(dir, { mode: m.mode });
        chmodSync(dir, m.mode);
        chownSync(dir, m.uid, m.gid);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      specs.push({ type: 'bind', source: dir, destination: m.target, readonly: m.readonly });
      return;
    }
    case 'bind': {
      const dir = await mountSource(m, env, cleanups);
      specs.push({ type: 'bind', source: join(dir, m.source), destination: m.target, readonly: !m.readwrite });
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
        const path = join(env.tmp, `secret-${randomBytes(6).toString('hex')}`);
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

/** A directory holding the bind's source tree: a mounted stage/image, or the context (with a throwaway layer when writable). */
async function mountSource(
  m: Extract<StepMount, { type: 'bind' }>,
  env: MountEnv,
  cleanups: (() => Promise<void>)[],
): Promise<string> {
  let lower: string | undefined;
  let snapshot: string | undefined;
  if (m.from === undefined) lower = env.context;
  else if (m.from.type === 'stage') snapshot = (await env.stage(m.from.stage)).snapshot;
  else snapshot = await env.image(m.from.normalized);
  const dir = join(env.mnt, `mount-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  if (lower !== undefined) {
    if (!m.readwrite) return lower;
    const upper = join(env.tmp, `upper-${randomBytes(6).toString('hex')}`);
    const work = `${upper}-work`;
    await mkdir(upper, { recursive: true });
    await mkdir(work, { recursive: true });
    cleanups.push(async () => {
      await rm(upper, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    });
    await mountAll(
      [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`] }],
      dir,
    );
    cleanups.push(() => unmountAll(dir));
    return dir;
  }
  if (snapshot === undefined) return dir;
  const key = env.label();
  env.lease.add('snapshot', key);
  const mounts = m.readwrite ? await env.sn.prepare(key, snapshot) : await env.sn.view(key, snapshot);
  cleanups.push(() => env.sn.remove(key));
  await mountAll(mounts, dir);
  cleanups.push(() => unmountAll(dir));
  return dir;
}
