import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { extract } from 'tar-stream';
import type { BuildEventListener, BuildOptions, BuildResult } from '../../../builder/types.js';
import { exportRootfs, loadArchive, openImageStore } from '../../../image/index.js';
import { type Tree, treeFromTar } from '../../helpers/image-tree.js';

export const DOCKER = '/usr/bin/docker';
export const BASE_IMAGE = 'tsbuild-busybox:latest';
export const CASES_DIR = fileURLToPath(new URL('../../../fixtures/conformance/', import.meta.url));

/** Where BuildKit (current) and dockerd 20.10's BuildKit 0.8 disagree: the expectation follows BuildKit. */
export interface BuildkitWins {
  /** Why (the BuildKit change), for the report. */
  why: string;
  /** Paths docker 20.10 leaves in the rootfs and current BuildKit does not. */
  rootfsAbsent?: string[];
  /** Modes (octal strings) that current BuildKit gives differently, by path. */
  rootfsModes?: Record<string, { docker: string; buildkit: string }>;
  /** Contents of small text files that current BuildKit's RUN environment writes differently, by path. */
  rootfsText?: Record<string, { docker: string; buildkit: string }>;
  /** created_by strings that current BuildKit writes differently. */
  history?: { docker: string; buildkit: string }[];
}

export interface CaseSpec {
  name: string;
  dir: string;
  buildArgs?: Record<string, string>;
  target?: string;
  /** Shell commands run in the copied context first (links, modes, tars: what git cannot hold). */
  setup?: string;
  /** Images built (by both) before the case, each from its own directory under the case. */
  bases?: { dir: string; tag: string }[];
  buildkit?: BuildkitWins;
  /**
   * A Dockerfile in the context for docker to build instead (the same steps, without
   * syntax dockerd 20.10 lacks, such as heredocs).
   */
  dockerfileForDocker?: string;
  /** Why created_by strings are not compared (only empty_layer flags and the layer count are). */
  skipCreatedBy?: string;
}

/** Every case under fixtures/conformance: a directory with a Dockerfile and an optional case.json. */
export function loadCases(): CaseSpec[] {
  return readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(CASES_DIR, d.name, 'Dockerfile')))
    .map((d) => {
      const dir = join(CASES_DIR, d.name);
      const json = join(dir, 'case.json');
      const spec = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as Partial<CaseSpec>) : {};
      return { ...spec, name: d.name, dir };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Copies a case's files (without case.json and bases/) to `dest` and runs its
 * setup there; the same copy is the context of both builds.
 */
export function prepareContext(spec: CaseSpec, dest: string, from = spec.dir, setup = spec.setup): void {
  mkdirSync(dest, { recursive: true });
  execFileSync('sh', [
    '-ec',
    'cd "$1" && tar --exclude=./case.json --exclude=./bases -cf - . | tar -xf - -C "$2"',
    'sh',
    from,
    dest,
  ]);
  if (setup) execFileSync('sh', ['-ec', setup], { cwd: dest });
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env: env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

export function docker(args: string[]): Promise<string> {
  return run(DOCKER, args, { ...process.env, DOCKER_BUILDKIT: '1' });
}

export interface BuildInput {
  context: string;
  tag: string;
  buildArgs?: Record<string, string>;
  target?: string;
  /** `-f`, relative to the context. */
  dockerfile?: string;
}

/** `DOCKER_BUILDKIT=1 docker build -q -t TAG …`; returns the image ID. */
export async function dockerBuild(input: BuildInput): Promise<string> {
  const args = ['build', '-q', '-t', input.tag];
  for (const [k, v] of Object.entries(input.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
  if (input.target) args.push('--target', input.target);
  if (input.dockerfile) args.push('-f', join(input.context, input.dockerfile));
  args.push(input.context);
  return (await docker(args)).trim();
}

/** Runs docker with its stdout streamed to `read`; fails when either fails (with docker's stderr). */
export async function withOutputOf<T>(args: string[], read: (out: Readable) => Promise<T>): Promise<T> {
  const child = spawn(DOCKER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`docker ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    );
  });
  exited.catch(() => undefined);
  try {
    const [value] = await Promise.all([read(child.stdout), exited]);
    return value;
  } catch (err) {
    child.kill();
    throw err;
  }
}

export interface ImageView {
  /** The image config document (architecture, config, history, rootfs…). */
  config: ImageConfigDoc;
  tree: Tree;
}

export interface ImageConfigDoc {
  config?: Record<string, unknown> | null;
  history?: unknown[];
  rootfs?: { diff_ids?: unknown[] };
}

/** The raw image config of a docker image, read from `docker save` (exactly as BuildKit wrote it). */
export async function dockerConfig(ref: string): Promise<ImageConfigDoc> {
  const files = await withOutputOf(['save', ref], readJsonMembers);
  const manifest = JSON.parse(files.get('manifest.json') ?? '[]') as { Config: string }[];
  const configName = manifest[0]?.Config;
  const config = configName === undefined ? undefined : files.get(configName);
  if (config === undefined) throw new Error(`docker save ${ref} has no image config`);
  return JSON.parse(config) as ImageConfigDoc;
}

/** The JSON members of a tar stream (docker save's manifest.json and config), by name. */
async function readJsonMembers(input: Readable): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const ex = extract();
  await new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      const keep = header.name.endsWith('.json');
      body.on('data', (c: unknown) => {
        if (keep) chunks.push(c as Buffer);
      });
      body.on('end', () => {
        if (keep) files.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
      body.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
    input.on('error', reject);
    input.pipe(ex);
  });
  return files;
}

/** The flattened rootfs of a docker image: `docker create` then `docker export` (see DOCKER_EXPORT_ARTIFACTS). */
export async function dockerTree(ref: string): Promise<Tree> {
  const id = (await docker(['create', '--entrypoint', '/tsb-conformance-never-run', ref])).trim();
  try {
    return await withOutputOf(['export', id], treeFromTar);
  } finally {
    await docker(['rm', '-f', id]).catch(() => undefined);
  }
}

export async function dockerImage(ref: string): Promise<ImageView> {
  const [config, tree] = await Promise.all([dockerConfig(ref), dockerTree(ref)]);
  return { config, tree };
}

export async function dockerRmi(refs: string[]): Promise<void> {
  if (refs.length === 0) return;
  await docker(['rmi', '-f', ...refs]).catch(() => undefined);
}

/** Runs `tasks` with at most `limit` at once; each result is a settled promise. */
export function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T>[] {
  let running = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    running--;
    queue.shift()?.();
  };
  return tasks.map(
    (task) =>
      new Promise<T>((resolve, reject) => {
        const start = () => {
          running++;
          task().then(resolve, reject).finally(next);
        };
        if (running < limit) start();
        else queue.push(start);
      }),
  );
}

type BuildFn = (options: BuildOptions, onEvent?: BuildEventListener) => Promise<BuildResult>;

/** The builder's `build()` (builder/index.ts); a clear failure while it is not exported. */
export async function loadBuild(): Promise<BuildFn> {
  const mod = (await import('../../../builder/index.js')) as unknown as { build?: BuildFn };
  if (typeof mod.build !== 'function') throw new Error('builder/index.ts does not export build() (the builder API)');
  return mod.build;
}

/** Loads docker's base image into a tsbuild store under the same name (same layer, config and history). */
export async function loadBaseImage(root: string, ref = BASE_IMAGE): Promise<void> {
  const store = openImageStore(root);
  await withOutputOf(['save', ref], (out) => loadArchive(store, out, { what: `docker save ${ref}` }));
}

/** A tsbuild image's config (from the store) and flattened rootfs (exportRootfs). */
export async function tsbuildImage(root: string, ref: string): Promise<ImageView> {
  const store = openImageStore(root);
  const { image } = store.resolve(ref);
  const { config } = await store.config(image);
  const sn = await store.snapshotter();
  const out = new PassThrough();
  const [tree] = await Promise.all([treeFromTar(out), exportRootfs(store, image, sn, out)]);
  return { config: config as unknown as ImageConfigDoc, tree };
}
