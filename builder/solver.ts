import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { withLocation } from '../errors.js';
import type { ImageRecord, ImageStore, Lease } from '../image/index.js';
import { chainIds, type Digest } from '../image/index.js';
import type { BuildGraph, CopyStep, RunStep, Stage, Step, WorkdirStep } from '../parser/index.js';
import type { Mount, Snapshotter } from '../snapshotter/index.js';
import { mountAll, ownerLabels, squash, unmountAll, writeLayer } from '../snapshotter/index.js';
import { type BuildCache, type CacheInputs, cacheKey, explainMiss } from './cache.js';
import type { BuildContext, StatCache } from './context/index.js';
import { BuildError } from './errors.js';
import type { Limiter } from './limiter.js';
import { copyInputs, performCopy, performWorkdir, workdirInputs } from './ops/file.js';
import { resolveRunMounts, runInputs } from './ops/run-mounts.js';
import type { FsState, HistoryItem, LayerRef } from './state.js';
import type { BuildEvent, BuildOptions, StepRef } from './types.js';

/** The layer media types the builder writes (BuildKit's default image exporter uses Docker's). */
export const LAYER_MEDIA_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const UNCOMPRESSED_LAYER_MEDIA_TYPE = 'application/vnd.docker.image.rootfs.diff.tar';

function layerMediaType(compression: 'gzip' | 'none'): string {
  return compression === 'gzip' ? LAYER_MEDIA_TYPE : UNCOMPRESSED_LAYER_MEDIA_TYPE;
}

/** A base image the builder resolved before it made the graph. */
export interface BaseImage {
  record: ImageRecord;
  layers: LayerRef[];
  history: HistoryItem[];
}

export interface SolverEnv {
  store: ImageStore;
  sn: Snapshotter;
  cache: BuildCache;
  graph: BuildGraph;
  /** The Dockerfile's name for messages and events. */
  file: string;
  context: BuildContext;
  statCache: StatCache;
  options: BuildOptions;
  lease: Lease;
  limiter: Limiter;
  /** A directory of this build under the store's tmp/, removed at the end (files: secrets, downloads). */
  tmp: string;
  /** A directory of this build for mount points, outside the store (see `buildMountDir`). */
  mnt: string;
  baseImages: Map<string, BaseImage>;
  emit(e: BuildEvent): void;
}

/** Results of identical steps in flight in this process (several builds may share one). */
const inflight = new Map<string, Promise<StepOutcome>>();

interface StepOutcome {
  state: FsState;
  cached: boolean;
}

/**
 * Executes a BuildGraph: every stage the target needs, each as soon as the stages
 * it depends on are done (so independent stages run in parallel, bounded by the
 * limiter), each step looked up in the cache by its key before it runs.
 */
export class Solver {
  private readonly stages = new Map<number, Promise<FsState>>();
  private readonly refs = new Map<Step | Stage, StepRef>();
  private vertex = 0;
  private readonly id = randomBytes(8).toString('hex');
  /** The snapshotter's crash recovery, run before the first snapshot this build makes. */
  private recovered?: Promise<void>;
  steps = 0;
  cachedSteps = 0;

  constructor(private readonly env: SolverEnv) {
    const multi = env.graph.stages.length > 1 || env.graph.pruned.length > 0;
    for (const stage of env.graph.stages) {
      const label = multi ? (stage.name ?? `stage-${stage.index}`) : '';
      const vertices: (Stage | Step)[] = [stage, ...stage.steps.filter(isVertex)];
      vertices.forEach((v, i) => {
        // FROM scratch and FROM <stage> have no vertex of their own (BuildKit shows none), but count.
        if (v === stage && stage.base.type !== 'image') return;
        this.refs.set(v, {
          id: ++this.vertex,
          stage: label,
          position: i + 1,
          total: vertices.length,
          name: v === stage ? `FROM ${fromName(stage)}` : (v as Step).name,
          file: env.file,
          range: v.range,
        });
      });
    }
  }

  private get compression(): 'gzip' | 'none' {
    return this.env.options.compression ?? 'none';
  }

  get vertices(): number {
    return this.vertex;
  }

  /** The state at the end of stage `index` (started once, shared by everything that needs it). */
  stage(index: number): Promise<FsState> {
    let p = this.stages.get(index);
    if (!p) {
      p = this.runStage(index);
      this.stages.set(index, p);
    }
    return p;
  }

  private async runStage(index: number): Promise<FsState> {
    const stage = this.env.graph.stages.find((s) => s.index === index);
    if (!stage) throw new BuildError('TSB_BUILD_INTERNAL', `stage ${index} is not in the build graph`);
    let state = await this.base(stage);
    for (const step of stage.steps) {
      this.env.options.signal?.throwIfAborted();
      state = await this.step(stage, step, state);
    }
    return state;
  }

  private async base(stage: Stage): Promise<FsState> {
    const b = stage.base;
    if (b.type === 'stage') return this.stage(b.stage);
    if (b.type === 'scratch') return { key: 'scratch', layers: [], history: [] };
    const ref = this.refs.get(stage) as StepRef;
    const image = this.env.baseImages.get(b.normalized) as BaseImage;
    const started = Date.now();
    this.env.lease.add('image', image.record.digest);
    // An image already unpacked is CACHED; otherwise its layers are unpacked now.
    const top = chainIds(image.layers.map((l) => l.diffId)).at(-1);
    const unpacked = top === undefined || (await this.committed(top));
    if (!unpacked) {
      this.emit({ type: 'step-start', step: ref });
      await this.recover();
    }
    const snapshot = await this.env.store.unpack(image.record, {
      snapshotter: this.env.sn,
      signal: this.env.options.signal,
    });
    this.done(ref, unpacked, Date.now() - started);
    return { key: `image:${image.record.digest}`, snapshot, layers: image.layers, history: image.history };
  }

  /** The snapshotter's crash recovery, once, before this build makes its first snapshot. */
  private recover(): Promise<void> {
    this.recovered ??= this.env.store.snapshotter().then(() => undefined);
    return this.recovered;
  }

  private async committed(name: string): Promise<boolean> {
    try {
      return (await this.env.sn.stat(name)).kind === 'committed';
    } catch {
      return false;
    }
  }

  private done(step: StepRef, cached: boolean, durationMs: number): void {
    this.steps++;
    if (cached) {
      this.cachedSteps++;
      this.emit({ type: 'step-cached', step });
    }
    this.emit({ type: 'step-done', step, cached, durationMs });
  }

  private emit(e: DistributiveOmit<BuildEvent, 'time'>): void {
    this.env.emit({ ...e, time: Date.now() } as BuildEvent);
  }

  private async step(stage: Stage, step: Step, state: FsState): Promise<FsState> {
    const history: HistoryItem | undefined = step.history
      ? {
          created_by: step.history.createdBy,
          comment: 'buildkit.dockerfile.v0',
          ...(step.history.emptyLayer ? { empty_layer: true } : {}),
        }
      : undefined;
    const ref = this.refs.get(step);
    if (!ref) {
      // A metadata step: it changes only the config.
      return history ? { ...state, history: [...state.history, history] } : state;
    }
    try {
      let outcome: StepOutcome;
      if (step.op === 'workdir' && !step.mkdir) {
        this.done(ref, true, 0);
        outcome = { state, cached: true };
      } else {
        outcome = await this.layerStep(stage, step as RunStep | CopyStep | WorkdirStep, state, ref);
      }
      if (!history) return outcome.state;
      const made = outcome.state.layers.length > state.layers.length;
      const item: HistoryItem = { ...history, ...(made ? {} : { empty_layer: true }) };
      if (made) item.created = outcome.state.history.at(-1)?.created;
      return { ...outcome.state, history: [...state.history, item] };
    } catch (err) {
      const canceled =
        this.env.options.signal?.aborted && !(err instanceof BuildError && err.code !== 'TSB_BUILD_CANCELED');
      const e = withLocation(
        canceled ? new BuildError('TSB_BUILD_CANCELED', 'canceled', { cause: err }) : err,
        step.range,
        this.env.file,
      );
      this.emit({
        type: 'step-error',
        step: ref,
        code: e.code,
        message: e.message,
        ...((e as BuildError).exitCode !== undefined ? { exitCode: (e as BuildError).exitCode } : {}),
      });
      throw e;
    }
  }

  private async inputs(step: RunStep | CopyStep | WorkdirStep): Promise<CacheInputs> {
    if (step.op === 'run') {
      return runInputs(step, {
        stageKey: async (i) => (await this.stage(i)).key,
        context: this.env.context,
        statCache: this.env.statCache,
        image: (normalized) => this.env.baseImages.get(normalized)?.record,
        view: (s, fn) => this.view(s, fn),
        cache: this.env.cache,
      });
    }
    if (step.op === 'workdir') return workdirInputs(step);
    return copyInputs(step, {
      context: this.env.context,
      statCache: this.env.statCache,
      stageKey: async (i) => (await this.stage(i)).key,
      image: (normalized) => this.env.baseImages.get(normalized)?.record,
      tmp: this.env.tmp,
      signal: this.env.options.signal,
      view: (s, fn) => this.view(s, fn),
      cache: this.env.cache,
    });
  }

  private async layerStep(
    stage: Stage,
    step: RunStep | CopyStep | WorkdirStep,
    state: FsState,
    ref: StepRef,
  ): Promise<StepOutcome> {
    const env = this.env;
    {
      const inputs = await this.inputs(step);
      const key = cacheKey(state.key, inputs);
      const useCache = !env.options.noCache && !this.noCacheStage(stage);
      const started = Date.now();
      if (useCache) {
        const hit = await this.lookup(key, state);
        if (hit) {
          env.cache.touch(key);
          this.done(ref, true, 0);
          return { state: hit, cached: true };
        }
        if (env.options.debugCache) {
          this.emit({ type: 'cache-miss', step: ref, reason: explainMiss(env.cache, state.key, step.op, inputs) });
        }
      }
      // Without the cache, identical steps of this build still run once, but never share with other builds.
      const flightKey = `${env.store.root}\0${key}${useCache ? '' : `\0${this.id}`}`;
      let flight = inflight.get(flightKey);
      const own = !flight;
      if (!flight) {
        flight = env.limiter.run(async () => {
          this.emit({ type: 'step-start', step: ref });
          return { state: await this.perform(step, state, key, inputs, ref), cached: false };
        });
        inflight.set(flightKey, flight);
        flight.then(
          () => inflight.delete(flightKey),
          () => inflight.delete(flightKey),
        );
      }
      const outcome = await flight;
      this.done(ref, !own, Date.now() - started);
      return own ? outcome : { ...outcome, cached: true };
    }
  }

  private noCacheStage(stage: Stage): boolean {
    const filter = this.env.options.noCacheFilter;
    if (!filter || filter.length === 0) return false;
    return filter.some((f) => f.toLowerCase() === stage.name || f === String(stage.index));
  }

  /** A cache hit whose snapshot and blob still exist, as the state after the step. */
  private async lookup(key: string, state: FsState): Promise<FsState | undefined> {
    const rec = this.env.cache.get(key);
    if (!rec) return undefined;
    if (!rec.layer) return { ...state, key, history: [...state.history, { created: rec.created }] };
    const layer = rec.layer;
    if (this.env.store.content.size(layer.digest) !== layer.size) return undefined;
    if (!(await this.committed(layer.snapshot))) return undefined;
    this.env.lease.add('snapshot', layer.snapshot);
    this.env.lease.add('blob', layer.digest);
    return {
      key,
      snapshot: layer.snapshot,
      layers: [
        ...state.layers,
        { diffId: layer.diffId, digest: layer.digest, size: layer.size, mediaType: layer.mediaType },
      ],
      history: [...state.history, { created: rec.created }],
    };
  }

  private mountEnv() {
    const env = this.env;
    return {
      sn: env.sn,
      lease: env.lease,
      root: env.store.root,
      db: env.store.db,
      tmp: env.tmp,
      mnt: env.mnt,
      context: env.context,
      secrets: env.options.secrets ?? [],
      signal: env.options.signal,
      stage: (i: number) => this.stage(i),
      stageName: (i: number) => env.graph.stages.find((s) => s.index === i)?.name,
      image: async (normalized: string) => {
        const image = env.baseImages.get(normalized) as BaseImage;
        env.lease.add('image', image.record.digest);
        return env.store.unpack(image.record, { snapshotter: env.sn, signal: env.options.signal });
      },
      label: () => this.activeKey('mount'),
    };
  }

  private activeKey(what: string): string {
    return `build-${process.pid}-${randomBytes(6).toString('hex')}-${what}`;
  }

  /** Runs the step on a fresh active snapshot of `state`, and turns its diff into a layer. */
  private async perform(
    step: RunStep | CopyStep | WorkdirStep,
    state: FsState,
    key: string,
    inputs: CacheInputs,
    ref: StepRef,
  ): Promise<FsState> {
    const env = this.env;
    const signal = env.options.signal;
    await this.recover();
    const active = this.activeKey(step.op);
    env.lease.add('snapshot', active);
    const rootMounts = await env.sn.prepare(active, state.snapshot, {
      labels: ownerLabels(),
    });
    let committed = false;
    try {
      if (step.op === 'run') {
        const mounts = await resolveRunMounts(step, this.mountEnv(), inputs);
        try {
          // The sandbox is loaded only when a step runs: a cached build never needs it.
          const { execRun, sharedRuntime } = await import('./ops/exec.js');
          await execRun(step, {
            runtime: sharedRuntime(),
            rootfs: rootMounts,
            mounts: mounts.specs,
            env: mounts.env,
            network: env.options.network,
            signal,
            onLog: (stream, data) => this.emit({ type: 'step-log', step: ref, stream, data }),
          });
        } finally {
          await mounts.release();
        }
      } else {
        await this.withMounted(rootMounts, step.op, async (dir) => {
          if (step.op === 'workdir') await performWorkdir(dir, step);
          else await performCopy(dir, step, inputs, { signal, view: (s, fn) => this.view(s, fn) });
        });
      }
      signal?.throwIfAborted();
      const created = new Date().toISOString();
      const layer = await this.layerBlob(active);
      // A step that changed nothing still adds its (empty) layer, as BuildKit's image exporter does.
      const diffIds = [...state.layers.map((l) => l.diffId), layer.diffId];
      const snapshot = chainIds(diffIds).at(-1) as string;
      env.lease.add('snapshot', snapshot);
      try {
        await env.sn.commit(snapshot, active, { labels: {} });
        committed = true;
      } catch (err) {
        if ((err as { code?: string }).code !== 'TSB_SNAPSHOT_EXISTS') throw err;
      }
      const own: LayerRef = {
        diffId: layer.diffId,
        digest: layer.digest,
        size: layer.size,
        mediaType: layerMediaType(this.compression),
      };
      // The GC roots and the cache entry in one transaction: a kill between them would leave roots
      // that no entry names (kept forever) or an entry whose layer prune may take.
      this.record(key, snapshot, layer.digest, () =>
        env.cache.put({ key, parent: state.key, kind: step.op, inputs, created, layer: { ...own, snapshot } }),
      );
      return { key, snapshot, layers: [...state.layers, own], history: [...state.history, { created }] };
    } finally {
      if (!committed) await env.sn.remove(active).catch(() => undefined);
    }
  }

  /**
   * `--squash`: the layers the build made above its base image become one (the
   * base's layers stay), as Docker's squash: the squashed steps' history entries
   * are kept as empty layers and a `merge` entry describes the new layer. Cached
   * like a step, so a cached rebuild gives the same image.
   */
  async squash(stage: Stage, state: FsState): Promise<FsState> {
    let root = stage;
    while (root.base.type === 'stage') {
      const index = root.base.stage;
      root = this.env.graph.stages.find((s) => s.index === index) as Stage;
    }
    const base = root.base.type === 'image' ? this.env.baseImages.get(root.base.normalized) : undefined;
    const baseLayers = base?.layers.length ?? 0;
    const baseHistory = base?.history.length ?? 0;
    if (state.layers.length - baseLayers < 1) return state;
    const env = this.env;
    const inputs: CacheInputs = { op: { op: 'squash', baseLayers } };
    const key = cacheKey(state.key, inputs);
    const chain = chainIds(state.layers.map((l) => l.diffId));
    let rec = env.options.noCache ? undefined : env.cache.get(key);
    if (rec?.layer && env.store.content.size(rec.layer.digest) !== rec.layer.size) rec = undefined;
    if (!rec?.layer) {
      await this.recover();
      const name = `squash-${key.slice(7)}`;
      env.lease.add('snapshot', name);
      await squash(env.sn, {
        names: chain.slice(baseLayers),
        base: chain[baseLayers - 1],
        name,
        signal: env.options.signal,
      });
      const layer = await this.layerBlob(name);
      rec = {
        key,
        parent: state.key,
        kind: 'squash',
        inputs,
        created: new Date().toISOString(),
        layer: {
          snapshot: name,
          diffId: layer.diffId,
          digest: layer.digest,
          size: layer.size,
          mediaType: layerMediaType(this.compression),
        },
      };
      const made = rec;
      this.record(key, name, layer.digest, () => env.cache.put(made));
    }
    const { snapshot: _snapshot, ...own } = rec.layer as NonNullable<typeof rec.layer>;
    const merged: HistoryItem = {
      created: rec.created,
      created_by: `merge ${rec.layer?.diffId} to ${chain[baseLayers - 1] ?? 'scratch'}`,
      comment: 'squashed',
    };
    return {
      key,
      snapshot: rec.layer?.snapshot,
      layers: [...state.layers.slice(0, baseLayers), own],
      history: [
        ...state.history.slice(0, baseHistory),
        ...state.history.slice(baseHistory).map((h) => ({ ...h, empty_layer: true })),
        merged,
      ],
    };
  }

  /** Makes a step's snapshot and blob GC roots of its cache entry and writes the entry (`put`), atomically. */
  private record(key: string, snapshot: string, blob: string, put: () => void): void {
    const store = this.env.store;
    store.db
      .transaction(() => {
        store.addRoots(`cache:${key}`, [
          { kind: 'snapshot', ref: snapshot },
          { kind: 'blob', ref: blob },
        ]);
        put();
      })
      .immediate();
  }

  /**
   * The diff of snapshot `key` (active or committed) as a layer blob in the
   * store, under the build's lease; the temporary file goes when writing fails.
   */
  private async layerBlob(key: string): Promise<{ diffId: string; digest: string; size: number }> {
    const env = this.env;
    // In the build's own tmp dir (named after this process): a build killed while it writes leaves
    // the file there, and the next command that opens the store removes the dir of a dead process.
    const path = join(env.tmp, `layer-${randomBytes(8).toString('hex')}`);
    let layer: { diffId: string; digest: string; size: number };
    try {
      layer = await writeLayer(env.sn, key, createWriteStream(path, { mode: 0o644 }), {
        signal: env.options.signal,
        compression: this.compression,
      });
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw err;
    }
    const staged = { digest: layer.digest as Digest, size: layer.size, path, gzip: this.compression === 'gzip' };
    await env.store.commitBlob(staged, env.lease);
    return layer;
  }

  /** Mounts `mounts` on a fresh directory of the build, runs `fn` on it, and unmounts. */
  private async withMounted<T>(mounts: Mount[], what: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = join(this.env.mnt, `${what}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    await mountAll(mounts, dir);
    try {
      return await fn(dir);
    } finally {
      await unmountAll(dir);
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Mounts a read-only view of another stage or image (COPY --from) for the
   * duration of `fn`; an empty filesystem is an empty directory.
   */
  private async view<T>(
    source: { type: 'stage'; stage: number } | { type: 'image'; normalized: string },
    fn: (dir: string) => Promise<T>,
  ): Promise<T> {
    const snapshot =
      source.type === 'stage'
        ? (await this.stage(source.stage)).snapshot
        : await this.mountEnv().image(source.normalized);
    if (snapshot === undefined) {
      const dir = join(this.env.mnt, `empty-${randomBytes(6).toString('hex')}`);
      await mkdir(dir, { recursive: true });
      try {
        return await fn(dir);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const key = this.activeKey('view');
    this.env.lease.add('snapshot', key);
    const mounts = await this.env.sn.view(key, snapshot, { labels: ownerLabels() });
    try {
      return await this.withMounted(mounts, 'view', fn);
    } finally {
      await this.env.sn.remove(key).catch(() => undefined);
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function isVertex(step: Step): boolean {
  return step.op === 'run' || step.op === 'copy' || step.op === 'add' || step.op === 'workdir';
}

function fromName(stage: Stage): string {
  const b = stage.base;
  if (b.type === 'scratch') return 'scratch';
  if (b.type === 'image') return b.normalized;
  return `stage-${b.stage}`;
}
