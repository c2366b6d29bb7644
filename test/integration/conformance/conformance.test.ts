import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../../builder/types.js';
import { closeDatabases } from '../../../metadata/index.js';
import { configView, diffTrees, dropDockerExportArtifacts, historyView, layerCount } from '../../helpers/image-tree.js';
import { busyboxFixture, requireDocker, requireRoot } from '../../helpers/prereqs.js';
import {
  type CaseSpec,
  dockerBuild,
  dockerImage,
  dockerRmi,
  type ImageView,
  loadBaseImage,
  loadBuild,
  loadCases,
  pool,
  prepareContext,
  tsbuildImage,
} from './support.js';

/**
 * The differential conformance suite: every case under fixtures/conformance is
 * built by `DOCKER_BUILDKIT=1 docker build` and by tsbuild's build(), from the
 * same context copy and the same base image, and the results must agree on
 * the rootfs (paths, types, modes, owners, sizes, contents, links, hardlink
 * groups), the config fields Docker users see, and the history
 * (created_by, empty_layer) and layer count.
 *
 * Where dockerd 20.10's BuildKit 0.8 differs from current BuildKit, BuildKit
 * wins: the case's case.json records the difference (`buildkit`), the expected
 * result is docker's with that difference applied, and a test checks that
 * docker still shows the recorded 0.8 behaviour.
 */

const cases = loadCases();
const tagOf = (spec: CaseSpec) => `tsb-conf-${spec.name}:latest`;

let work = '';
let root = '';
const dockerResults = new Map<string, Promise<ImageView>>();
const dockerTags = new Set<string>();

function contextOf(spec: CaseSpec, base?: number): string {
  return join(work, 'ctx', base === undefined ? spec.name : `${spec.name}--base-${base}`);
}

beforeAll(async () => {
  requireRoot();
  requireDocker();
  busyboxFixture();
  work = mkdtempSync('/var/tmp/tsb-conf-');
  root = join(work, 'root');
  for (const spec of cases) {
    prepareContext(spec, contextOf(spec));
    spec.bases?.forEach((b, i) => {
      prepareContext(spec, contextOf(spec, i), join(spec.dir, b.dir), undefined);
    });
  }
  // Docker builds run in the background (two at a time) while tsbuild builds the earlier cases.
  const tasks = cases.map((spec) => async () => {
    for (const [i, b] of (spec.bases ?? []).entries()) {
      dockerTags.add(b.tag);
      await dockerBuild({ context: contextOf(spec, i), tag: b.tag });
    }
    dockerTags.add(tagOf(spec));
    await dockerBuild({
      context: contextOf(spec),
      tag: tagOf(spec),
      buildArgs: spec.buildArgs,
      target: spec.target,
      dockerfile: spec.dockerfileForDocker,
    });
    return dockerImage(tagOf(spec));
  });
  pool(2, tasks).forEach((p, i) => {
    p.catch(() => undefined);
    dockerResults.set(cases[i]!.name, p);
  });
  await loadBaseImage(root);
});

afterAll(async () => {
  await Promise.allSettled(dockerResults.values());
  await dockerRmi([...dockerTags]);
  closeDatabases();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Docker's result with the recorded BuildKit differences applied: what tsbuild must produce. */
function expectedFrom(docker: ImageView, spec: CaseSpec): ImageView {
  const tree = new Map(docker.tree);
  for (const p of spec.buildkit?.rootfsAbsent ?? []) tree.delete(p);
  for (const [p, m] of Object.entries(spec.buildkit?.rootfsModes ?? {})) {
    const e = tree.get(p);
    if (e) tree.set(p, { ...e, mode: Number.parseInt(m.buildkit, 8) });
  }
  for (const [p, t] of Object.entries(spec.buildkit?.rootfsText ?? {})) {
    const e = tree.get(p);
    const data = Buffer.from(t.buildkit);
    if (e)
      tree.set(p, {
        ...e,
        size: data.length,
        digest: createHash('sha256').update(data).digest('hex'),
        text: t.buildkit,
      });
  }
  const history = (docker.config.history ?? []).map((h) => {
    const entry = h as { created_by?: string };
    const swap = spec.buildkit?.history?.find((s) => s.docker === entry.created_by);
    return swap ? { ...entry, created_by: swap.buildkit } : entry;
  });
  return { tree, config: { ...docker.config, history } };
}

describe.each(cases)('$name', (spec) => {
  let docker: ImageView | undefined;
  let ours: ImageView | undefined;
  let buildError: unknown;
  const events: BuildEvent[] = [];

  beforeAll(async () => {
    const build = await loadBuild();
    try {
      for (const [i, b] of (spec.bases ?? []).entries()) {
        await build({ context: contextOf(spec, i), tags: [b.tag], root }, (e) => events.push(e));
      }
      await build(
        { context: contextOf(spec), tags: [tagOf(spec)], buildArgs: spec.buildArgs, target: spec.target, root },
        (e) => events.push(e),
      );
      ours = await tsbuildImage(root, tagOf(spec));
    } catch (err) {
      buildError = err;
    }
    docker = await dockerResults.get(spec.name);
  });

  const both = (): { expected: ImageView; got: ImageView } => {
    if (buildError !== undefined) {
      const e = buildError as { code?: string; message?: string };
      throw new Error(`tsbuild build failed: ${e.code ?? ''} ${e.message ?? String(buildError)}`);
    }
    if (!docker || !ours) throw new Error('no result');
    return { expected: expectedFrom(docker, spec), got: ours };
  };

  it('builds with tsbuild as it does with docker', () => {
    both();
  });

  it('has the rootfs docker builds', () => {
    const { expected, got } = both();
    const a = new Map(expected.tree);
    const b = new Map(got.tree);
    dropDockerExportArtifacts(a, b);
    expect(diffTrees(a, b, [spec.buildkit ? 'docker+buildkit' : 'docker', 'tsbuild'])).toEqual([]);
  });

  it('has the config docker builds', () => {
    const { expected, got } = both();
    expect(configView(got.config.config)).toEqual(configView(expected.config.config));
  });

  it('has the history and layer count docker builds', () => {
    const { expected, got } = both();
    const view = (h: unknown) => historyView(h).map((e) => (spec.skipCreatedBy ? { empty_layer: e.empty_layer } : e));
    expect(view(got.config.history)).toEqual(view(expected.config.history));
    expect(layerCount(got.config)).toBe(layerCount(expected.config));
  });

  if (spec.buildkit) {
    it('docker 20.10 still differs from BuildKit as recorded in case.json', () => {
      if (!docker) throw new Error('no docker result');
      for (const p of spec.buildkit?.rootfsAbsent ?? []) expect(docker.tree.has(p), p).toBe(true);
      for (const [p, m] of Object.entries(spec.buildkit?.rootfsModes ?? {})) {
        expect(docker.tree.get(p)?.mode.toString(8).padStart(4, '0'), p).toBe(m.docker);
      }
      for (const [p, t] of Object.entries(spec.buildkit?.rootfsText ?? {}))
        expect(docker.tree.get(p)?.text, p).toBe(t.docker);
      const createdBy = historyView(docker.config.history).map((h) => h.created_by);
      for (const h of spec.buildkit?.history ?? []) expect(createdBy).toContain(h.docker);
    });
  }
});
