import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import {
  type ImageStore,
  normalizeReference,
  type ImageConfig as OciImageConfig,
  openImageStore,
  parsePlatform,
} from '../image/index.js';
import { migrate } from '../metadata/index.js';
import type { BaseImageConfig, BaseImageRef, BuildGraph } from '../parser/index.js';
import { makeMountDir, unmountAll } from '../snapshotter/index.js';
import { BuildCache, builderSchema } from './cache.js';
import { BuildContext, loadDockerfile, loadDockerignore, openStatCache } from './context/index.js';
import { BuildError } from './errors.js';
import { exportImage } from './export-image.js';
import { GraphCache, graphCacheSchema } from './graph-cache.js';
import { Limiter } from './limiter.js';
import { type BaseImage, Solver } from './solver.js';
import type { HistoryItem } from './state.js';
import type { BuildEvent, BuildEventListener, BuildOptions, BuildResult } from './types.js';

/**
 * Builds an image from a Dockerfile: `tsbuild build` and the programmatic API.
 * Safe to call concurrently in one process (identical steps run once) and from
 * several processes on one store (the cache is shared through SQLite). Events
 * describe progress; the result names the image. Errors are TsbuildErrors with
 * the Dockerfile's name and the instruction's range when a step caused them.
 */
export async function build(options: BuildOptions, onEvent?: BuildEventListener): Promise<BuildResult> {
  const started = Date.now();
  const emit = (e: BuildEvent) => {
    try {
      onEvent?.(e);
    } catch {
      // A listener's failure must not break the build.
    }
  };
  options.signal?.throwIfAborted();
  const loaded = await loadDockerfile({
    context: options.context,
    file: options.dockerfileText !== undefined ? '-' : options.dockerfile,
    ...(options.dockerfileText !== undefined ? { stdin: textStream(options.dockerfileText) } : {}),
  });
  const file = options.dockerfileText !== undefined ? (options.dockerfile ?? 'Dockerfile') : loaded.filename;
  const store = openImageStore(options.root);
  migrate(store.db, builderSchema);
  migrate(store.db, graphCacheSchema);
  const platform = options.platform !== undefined ? parsePlatform(options.platform) : undefined;
  const graphOptions = { target: options.target, buildArgs: options.buildArgs ?? {}, platform };
  const { graph, baseImages } = await makeGraph(store, loaded.text, file, graphOptions);
  const warnings = graph.warnings.map((w) => w.message);
  const ignore = await loadDockerignore({ context: loaded.context, dockerfile: loaded.path });
  const context = new BuildContext(loaded.context, { ignore: ignore.matcher });
  // Crash recovery (a scan of every snapshot) runs only once a step has to be built: see Solver.perform.
  const sn = await store.snapshotter({ recover: false });
  // Mount points go outside the store; mount dirs of dead builds are unmounted and removed first.
  const mnt = await makeMountDir('build');
  const lease = store.leases.acquire('build');
  const tmp = await store.content.makeTmpDir();
  try {
    const solver = new Solver({
      store,
      sn,
      cache: new BuildCache(store.db),
      graph,
      file,
      context,
      statCache: openStatCache(store.root),
      options,
      lease,
      limiter: new Limiter(Math.max(1, options.jobs ?? defaultJobs())),
      tmp,
      mnt,
      baseImages: new Map([...baseImages].map(([k, v]) => [k, v.base])),
      emit,
    });
    emit({
      type: 'build-start',
      buildId: randomBytes(8).toString('hex'),
      file,
      steps: solver.vertices,
      time: Date.now(),
    });
    for (const w of graph.warnings) {
      emit({ type: 'warning', message: w.message, code: w.code, file, range: w.range, time: Date.now() });
    }
    // Every stage starts now; each waits for what it needs.
    const all = graph.stages.map((s) => solver.stage(s.index));
    const settled = await Promise.allSettled(all);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    options.signal?.throwIfAborted();
    const target = graph.stages.find((s) => s.index === graph.target);
    if (!target) throw new BuildError('TSB_BUILD_INTERNAL', 'the target stage is not in the build graph');
    let state = await solver.stage(target.index);
    if (options.squash) state = await solver.squash(target, state);
    emit({ type: 'export', phase: 'layers', detail: `${state.layers.length} layers`, time: Date.now() });
    const names = (options.tags ?? []).map((t) => safeNormalize(t));
    const { record } = await exportImage({
      store,
      lease,
      stage: target,
      state,
      labels: options.labels,
      tags: options.tags,
      ...(graph.epoch !== undefined ? { epoch: graph.epoch } : {}),
    });
    emit({ type: 'export', phase: 'config', detail: record.id, time: Date.now() });
    const { writeOutput } = options.outputs?.length ? await import('./outputs.js') : { writeOutput: undefined };
    for (const output of options.outputs ?? []) {
      emit({ type: 'export', phase: 'output', detail: `${output.type} ${output.dest}`, time: Date.now() });
      await writeOutput?.(store, record, output, { stdout: options.outputStream, signal: options.signal, mnt });
    }
    for (const n of names) emit({ type: 'export', phase: 'naming', detail: n, time: Date.now() });
    const result: BuildResult = {
      imageId: record.id,
      digest: record.digest,
      names: record.names.filter((n) => names.includes(n)),
      warnings,
      steps: solver.steps,
      cachedSteps: solver.cachedSteps,
    };
    emit({
      type: 'build-done',
      imageId: result.imageId,
      digest: result.digest,
      names: result.names,
      durationMs: Date.now() - started,
      cachedSteps: solver.cachedSteps,
      steps: solver.steps,
      time: Date.now(),
    });
    return result;
  } catch (err) {
    if (options.signal?.aborted && !(err instanceof BuildError && err.code === 'TSB_BUILD_CANCELED')) {
      throw new BuildError('TSB_BUILD_CANCELED', 'canceled', { cause: err });
    }
    throw err;
  } finally {
    lease.release();
    await unmountAll(mnt).catch(() => undefined);
    await rm(mnt, { recursive: true, force: true }).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Steps that run at once by default: twice the cores (at least 4). A RUN step's
 * container mostly waits (on I/O, the network, sleep), so one per core leaves the
 * CPU idle while independent stages queue.
 */
function defaultJobs(): number {
  return Math.max(4, 2 * availableParallelism());
}

/**
 * The build graph and its base images: from the graph cache when the Dockerfile,
 * the options and the base images are unchanged (the parser is then not even
 * loaded), else parsed and remembered.
 */
async function makeGraph(
  store: ImageStore,
  text: string,
  file: string,
  options: { target?: string; buildArgs: Record<string, string>; platform?: ReturnType<typeof parsePlatform> },
): Promise<{ graph: BuildGraph; baseImages: Map<string, ResolvedBase> }> {
  const cache = GraphCache.open(store.db, text, file, {
    ...options,
    buildArgs: Object.entries(options.buildArgs).sort(),
    host: `${process.platform}/${process.arch}`,
  });
  const cachedRefs = cache?.refs();
  if (cache && cachedRefs) {
    const baseImages = await resolveBaseImages(store, cachedRefs, file);
    const graph = cache.graph(baseDigests(cachedRefs, baseImages));
    if (graph) return { graph, baseImages };
  }
  const parser = await import('../parser/index.js');
  const ast = parser.parseDockerfileOrThrow(text, { filename: file });
  const refs = parser.baseImageRefs(ast, options);
  const baseImages = await resolveBaseImages(store, refs, file);
  const graph = parser.toBuildGraph(ast, {
    ...options,
    baseImage: (ref) => {
      const found = baseImages.get(ref) ?? baseImages.get(safeNormalize(ref));
      if (!found) return undefined;
      return { ...found.config, ...(found.author ? { author: found.author } : {}) } as BaseImageConfig;
    },
  });
  cache?.put(refs, baseDigests(refs, baseImages), graph);
  return { graph, baseImages };
}

function baseDigests(refs: BaseImageRef[], bases: Map<string, ResolvedBase>): string[] {
  return refs.map((r) => bases.get(r.normalized)?.base.record.digest ?? '');
}

interface ResolvedBase {
  base: BaseImage;
  config: OciImageConfig['config'];
  author?: string;
}

/** Finds every base image in the store (no registry pulls yet) with its config, layers and history. */
async function resolveBaseImages(
  store: ImageStore,
  refs: BaseImageRef[],
  file: string,
): Promise<Map<string, ResolvedBase>> {
  const out = new Map<string, ResolvedBase>();
  for (const r of refs) {
    if (out.has(r.normalized)) {
      out.set(r.ref, out.get(r.normalized) as ResolvedBase);
      continue;
    }
    const found = store.tryResolve(r.normalized) ?? store.tryResolve(r.ref);
    if (!found) {
      throw new BuildError(
        'TSB_BUILD_BASE_NOT_FOUND',
        `failed to resolve source metadata for ${r.normalized}: no such image in the store (load it with \`tsbuild load\` or \`tsbuild import\`)`,
        { file, ranges: [r.range] },
      );
    }
    const { config } = await store.config(found.image);
    const layers = store.layers(found.image).map((l) => ({
      diffId: l.diffId,
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
    }));
    const history = (config.history ?? []) as HistoryItem[];
    const resolved: ResolvedBase = {
      base: { record: found.image, layers, history },
      config: config.config,
      author: config.author,
    };
    out.set(r.normalized, resolved);
    out.set(r.ref, resolved);
  }
  return out;
}

function safeNormalize(ref: string): string {
  try {
    return normalizeReference(ref);
  } catch {
    return ref;
  }
}

async function* textStream(text: string): AsyncIterable<string> {
  yield text;
}
