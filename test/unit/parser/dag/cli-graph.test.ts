import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tsbuild } from '../../../helpers/cli.js';

// Runs the built CLI (dist/bin/main.cjs): `npm run build` first.
describe('tsbuild parse --graph', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-graph-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const dockerfile =
    'ARG V=1\nFROM busybox:$V AS build\nARG N\nRUN make $N\nFROM scratch AS unused\nFROM scratch\nCOPY --from=build /out /\n';

  it('prints the graph as JSON with build args, target and platform', () => {
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    const r = tsbuild(
      ['parse', '--graph', '--json', '--build-arg', 'V=2', '--build-arg', 'N=3', '--platform', 'linux/arm64'],
      {
        cwd: dir,
      },
    );
    expect(r.status).toBe(0);
    const g = JSON.parse(r.stdout);
    expect(g.target).toBe(2);
    expect(g.stages.map((s: { index: number }) => s.index)).toEqual([0, 2]);
    expect(g.pruned).toEqual([{ index: 1, name: 'unused' }]);
    expect(g.stages[0].base).toEqual({
      type: 'image',
      ref: 'busybox:2',
      normalized: 'docker.io/library/busybox:2',
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(g.stages[0].steps[1].history.createdBy).toBe('RUN |1 N=3 /bin/sh -c make $N # buildkit');
  });

  it('prints a readable outline without --json, for the --target stage', () => {
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    const r = tsbuild(['parse', '--graph', '--target', 'build'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'target: stage 0 (build), platform linux/amd64',
        'stage 0 (build) FROM docker.io/library/busybox:1 (linux/amd64)',
        '  3:1 ARG N',
        '  4:1 RUN ["/bin/sh","-c","make $N"]',
        'pruned: stage 1 (unused), stage 2',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 with file:line:col and a code frame on a graph error', () => {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox AS a\nCOPY --from=a /x /y\n');
    const r = tsbuild(['parse', '--graph'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'Dockerfile:2:1: error: circular dependency detected on stage: a [TSB_DOCKERFILE_CYCLE]',
    );
    expect(r.stderr).toContain('>>> COPY --from=a /x /y');
  });

  it('names an unknown target', () => {
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    const r = tsbuild(['parse', '--graph', '--target', 'biuld'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('target stage "biuld" could not be found (did you mean build?)');
  });
});
