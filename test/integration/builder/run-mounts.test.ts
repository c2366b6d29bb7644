import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BuildOptions, build } from '../../../builder/index.js';
import { cacheDirName } from '../../../builder/ops/cache-mount.js';
import { importRootfs, openImageStore } from '../../../image/index.js';
import { CLI } from '../../helpers/cli.js';
import { busyboxFixture } from '../../helpers/prereqs.js';
import { buildCollecting, leftoverMounts as leftoverMountsUnder, makeBuilderStore, makeContext } from './support.js';

let dir: string;
let root: string;

beforeAll(async () => {
  ({ dir, root } = await makeBuilderStore('tsb-run-mounts-it-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  expect(leftoverMounts()).toEqual([]);
  expect(holders()).toBe(0);
});

const context = (files: Record<string, string>, parent = dir) => makeContext(parent, files);

async function run(options: Omit<BuildOptions, 'root'> & { root?: string }) {
  const r = await buildCollecting({ root, ...options });
  const runStep = r.done.find((d) => d.step.name.startsWith('RUN'));
  return { ...r, runCached: runStep?.cached };
}

const leftoverMounts = () => leftoverMountsUnder(dir);

/** Cache mount holders recorded in the store (none once every build has ended). */
function holders(): number {
  const db = openImageStore(root).db;
  const table = db.prepare("SELECT name FROM sqlite_master WHERE name = 'cache_mount_holders'").get();
  if (!table) return 0;
  return (db.prepare('SELECT COUNT(*) AS n FROM cache_mount_holders').get() as { n: number }).n;
}

/** The intervals `N start end` lines record (start and end from /proc/uptime, the host's clock). */
function intervals(text: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const line of text.trim().split('\n')) {
    const [n, a, b] = line.split(' ');
    out.set(n as string, [Number(a), Number(b)]);
  }
  return out;
}

function overlap(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[1] && b[0] < a[1];
}

/** A RUN that records when it held the cache: `N start end` into the cache dir and on stdout. */
const TIMED = [
  'a=$(cut -d" " -f1 /proc/uptime)',
  'echo "$N" > /c/owner',
  'sleep 1.5',
  'b=$(cut -d" " -f1 /proc/uptime)',
  'echo "$N $a $b $(cat /c/owner)" | tee -a /c/times',
].join('; ');

describe('RUN --mount=type=bind of the context', () => {
  it('a change in the mounted path runs the step again; a change elsewhere keeps it cached', async () => {
    const ctx = context({
      Dockerfile: 'FROM tsbuild-busybox\nRUN --mount=type=bind,source=src,target=/src cat /src/a.txt > /out\n',
      'src/a.txt': 'one\n',
      'other.txt': 'x\n',
    });
    const first = await run({ context: ctx, tags: ['bindkey:1'] });
    expect(first.runCached).toBe(false);
    expect((await run({ context: ctx })).runCached).toBe(true);
    writeFileSync(join(ctx, 'other.txt'), 'changed\n');
    expect((await run({ context: ctx })).runCached).toBe(true);
    writeFileSync(join(ctx, 'src/a.txt'), 'two\n');
    const changed = await run({ context: ctx });
    expect(changed.runCached).toBe(false);
    expect(changed.result.imageId).not.toBe(first.result.imageId);
    writeFileSync(join(ctx, 'src/new.txt'), 'added\n');
    expect((await run({ context: ctx })).runCached).toBe(false);
  });

  it('ignored files are absent inside the mount, read-only and read-write, and the context is not written', async () => {
    const ctx = context({
      Dockerfile: [
        'FROM tsbuild-busybox',
        'RUN --mount=type=bind,target=/m find /m | sort && (touch /m/x 2>/dev/null && echo writable || echo read-only)',
        'RUN --mount=type=bind,source=sub,target=/m,rw find /m | sort && rm /m/s.txt && echo new > /m/new && echo done',
      ].join('\n'),
      '.dockerignore': '**/*.log\n!sub/deep/keep.log\nsecrets\nDockerfile\n',
      'a.txt': 'a',
      'x.log': 'x',
      'sub/s.txt': 's',
      'sub/y.log': 'y',
      'sub/deep/keep.log': 'k',
      'sub/deep/z.log': 'z',
      'secrets/key': 'k',
    });
    const before = statSync(join(ctx, 'sub'));
    const r = await run({ context: ctx, noCache: true });
    expect(r.logs).toEqual([
      '/m',
      '/m/.dockerignore',
      '/m/a.txt',
      '/m/sub',
      '/m/sub/deep',
      '/m/sub/deep/keep.log',
      '/m/sub/s.txt',
      'read-only',
      '/m',
      '/m/deep',
      '/m/deep/keep.log',
      '/m/s.txt',
      'done',
    ]);
    expect(readdirSync(join(ctx, 'sub')).sort()).toEqual(['deep', 's.txt', 'y.log']);
    expect(statSync(join(ctx, 'sub')).mtimeMs).toBe(before.mtimeMs);
  });

  it('the mounted directories keep the modes and times of the context', async () => {
    const ctx = context({
      Dockerfile: 'FROM tsbuild-busybox\nRUN --mount=type=bind,source=d,target=/m stat -c "%a %Y" /m /m/e\n',
      '.dockerignore': 'd/e/*.tmp\n',
      'd/e/f.txt': 'f',
      'd/e/g.tmp': 'g',
    });
    const { chmodSync, utimesSync } = await import('node:fs');
    chmodSync(join(ctx, 'd'), 0o750);
    chmodSync(join(ctx, 'd/e'), 0o705);
    utimesSync(join(ctx, 'd/e'), 1_000_000, 1_000_000);
    utimesSync(join(ctx, 'd'), 2_000_000, 2_000_000);
    const r = await run({ context: ctx, noCache: true });
    expect(r.logs).toEqual(['750 2000000', '705 1000000']);
  });

  it('a mount of a missing or ignored source fails with the step line', async () => {
    const ctx = context({
      Dockerfile: 'FROM tsbuild-busybox\nRUN --mount=type=bind,source=secrets,target=/m true\n',
      '.dockerignore': 'secrets\n',
      'secrets/key': 'k',
    });
    await expect(run({ context: ctx })).rejects.toMatchObject({
      code: 'TSB_BUILD_MOUNT_SOURCE',
      message: 'failed to compute cache key: "/secrets" not found in the build context',
      ranges: [{ start: { line: 2 } }],
    });
  });

  it('a store inside the context works: the overlay layers go to a tmpfs', async () => {
    const ctx = context({
      Dockerfile: 'FROM tsbuild-busybox\nRUN --mount=type=bind,target=/m,rw ls -a /m && touch /m/w\n',
      '.dockerignore': 'store\n',
      'a.txt': 'a',
    });
    const inner = join(ctx, 'store');
    await importRootfs(
      openImageStore(inner),
      { kind: 'file', path: busyboxFixture().tar },
      { reference: 'tsbuild-busybox:latest' },
    );
    const r = await run({ context: ctx, root: inner, noCache: true });
    expect(r.logs).toEqual(['.', '..', '.dockerignore', 'Dockerfile', 'a.txt']);
    expect(readdirSync(ctx).sort()).toEqual(['.dockerignore', 'Dockerfile', 'a.txt', 'store']);
  });
});

describe('RUN --mount=type=bind from a stage', () => {
  it('a symlink source resolves inside the stage, never on the host', async () => {
    const hostOnly = join(dir, 'host-only.txt');
    writeFileSync(hostOnly, 'host\n');
    const ctx = context({
      Dockerfile: [
        'FROM tsbuild-busybox AS a',
        'RUN mkdir /data && echo inside > /data/f && ln -s /data /inner',
        `RUN ln -s ${hostOnly} /outer`,
        'FROM tsbuild-busybox',
        'RUN --mount=from=a,source=inner,target=/m cat /m/f',
      ].join('\n'),
    });
    expect((await run({ context: ctx, noCache: true })).logs).toEqual(['inside']);
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `${readFileSync(join(ctx, 'Dockerfile'), 'utf8')}\nRUN --mount=from=a,source=/outer,target=/m cat /m\n`,
    );
    await expect(run({ context: ctx })).rejects.toMatchObject({
      code: 'TSB_BUILD_MOUNT_SOURCE',
      message: 'failed to compute cache key: "/outer" not found in stage a',
    });
  });
});

describe('RUN --mount=type=cache sharing', () => {
  function cacheFile(id: string, name: string, instance = 0): string {
    const base = cacheDirName(id);
    return join(root, 'cache', 'mounts', instance === 0 ? base : `${base}.${instance}`, name);
  }

  it('sharing=locked: two concurrent builds use the cache one after the other', async () => {
    const ctx = context({
      Dockerfile: `FROM tsbuild-busybox\nARG N\nRUN --mount=type=cache,id=lk1,target=/c,sharing=locked ${TIMED}\n`,
    });
    await Promise.all([
      run({ context: ctx, buildArgs: { N: '1' }, noCache: true }),
      run({ context: ctx, buildArgs: { N: '2' }, noCache: true }),
    ]);
    const times = intervals(readFileSync(cacheFile('lk1', 'times'), 'utf8'));
    expect([...times.keys()].sort()).toEqual(['1', '2']);
    expect(overlap(times.get('1') as [number, number], times.get('2') as [number, number])).toBe(false);
    // Each saw its own owner mark: nobody wrote into the cache while it held it.
    for (const line of readFileSync(cacheFile('lk1', 'times'), 'utf8').trim().split('\n')) {
      const [n, , , owner] = line.split(' ');
      expect(owner).toBe(n);
    }
  });

  it('sharing=locked holds across processes: a CLI build waits for an in-process one', async () => {
    const ctx = context({
      Dockerfile: `FROM tsbuild-busybox\nARG N\nRUN --mount=type=cache,id=lk2,target=/c,sharing=locked ${TIMED}\n`,
    });
    const child = spawn(
      process.execPath,
      [CLI, '--root', root, 'build', '--no-cache', '--progress=plain', '--build-arg', 'N=cli', ctx],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const [code] = await Promise.all([exited, run({ context: ctx, buildArgs: { N: 'api' }, noCache: true })]);
    expect(output).toContain('cli ');
    expect(code).toBe(0);
    const times = intervals(readFileSync(cacheFile('lk2', 'times'), 'utf8'));
    expect([...times.keys()].sort()).toEqual(['api', 'cli']);
    expect(overlap(times.get('api') as [number, number], times.get('cli') as [number, number])).toBe(false);
  });

  it('sharing=private: concurrent users each get a directory of their own', async () => {
    const ctx = context({
      Dockerfile: `FROM tsbuild-busybox\nARG N\nRUN --mount=type=cache,id=pv1,target=/c,sharing=private ${TIMED}\n`,
    });
    const [a, b] = await Promise.all([
      run({ context: ctx, buildArgs: { N: '1' }, noCache: true }),
      run({ context: ctx, buildArgs: { N: '2' }, noCache: true }),
    ]);
    const seen = [a.logs.at(-1), b.logs.at(-1)].map((l) => (l as string).split(' '));
    // Both held a cache at once, and neither saw the other's mark.
    const [x, y] = seen.map((f) => [Number(f[1]), Number(f[2])] as [number, number]);
    expect(overlap(x as [number, number], y as [number, number])).toBe(true);
    for (const f of seen) expect(f[3]).toBe(f[0]);
    const dirs = [cacheFile('pv1', 'times', 0), cacheFile('pv1', 'times', 1)].map((p) =>
      readFileSync(p, 'utf8').trim(),
    );
    expect(dirs.map((t) => t.split('\n').length)).toEqual([1, 1]);
  });

  it('sharing=shared (the default): concurrent users share the directory', async () => {
    const ctx = context({
      Dockerfile: `FROM tsbuild-busybox\nARG N\nRUN --mount=type=cache,id=sh1,target=/c ${TIMED}\n`,
    });
    await Promise.all([
      run({ context: ctx, buildArgs: { N: '1' }, noCache: true }),
      run({ context: ctx, buildArgs: { N: '2' }, noCache: true }),
    ]);
    const times = intervals(readFileSync(cacheFile('sh1', 'times'), 'utf8'));
    expect([...times.keys()].sort()).toEqual(['1', '2']);
    expect(overlap(times.get('1') as [number, number], times.get('2') as [number, number])).toBe(true);
  });

  it('a failing or aborted step releases its locked cache', async () => {
    const failing = context({
      Dockerfile: 'FROM tsbuild-busybox\nRUN --mount=type=cache,id=lk3,target=/c,sharing=locked exit 4\n',
    });
    await expect(run({ context: failing })).rejects.toMatchObject({ exitCode: 4 });
    const slow = context({
      Dockerfile: 'FROM tsbuild-busybox\nARG N\nRUN --mount=type=cache,id=lk3,target=/c,sharing=locked sleep 2\n',
    });
    const holding = run({ context: slow, buildArgs: { N: '1' }, noCache: true });
    const ac = new AbortController();
    const waiting = build({ root, context: slow, buildArgs: { N: '2' }, noCache: true, signal: ac.signal }, (e) => {
      // Once its step has started it waits for the cache that the first build holds: cancel it.
      if (e.type === 'step-start' && e.step.name.startsWith('RUN')) setTimeout(() => ac.abort(), 300);
    });
    await expect(waiting).rejects.toMatchObject({ code: 'TSB_BUILD_CANCELED' });
    await holding;
    const after = await run({ context: slow, buildArgs: { N: '3' }, noCache: true });
    expect(after.runCached).toBe(false);
  });
});

describe('RUN --mount=type=cache from a stage', () => {
  it('a new cache starts as a copy of the stage path; it persists, and the same id without from is another cache', async () => {
    const ctx = context({
      Dockerfile: [
        'FROM tsbuild-busybox AS seed',
        'RUN mkdir -p /seed/sub && echo base > /seed/a.txt && echo deep > /seed/sub/b.txt && chown -R 7:8 /seed/sub && chmod 0750 /seed',
        'FROM tsbuild-busybox',
        'ARG N',
        'RUN --mount=type=cache,id=cf1,from=seed,source=/seed,target=/c cat /c/a.txt /c/sub/b.txt; stat -c "%u:%g %a" /c/sub /c; echo "run $N" >> /c/a.txt',
        'RUN --mount=type=cache,id=cf1,target=/c ls -A /c | wc -l',
      ].join('\n'),
    });
    const first = await run({ context: ctx, buildArgs: { N: '1' } });
    expect(first.logs.join('\n')).toContain('base\ndeep\n7:8 755\n0:0 750');
    // The id alone (no from) names an empty cache of its own.
    expect(first.logs.at(-1)).toBe('0');
    const second = await run({ context: ctx, buildArgs: { N: '2' } });
    expect(second.logs.join('\n')).toContain('base\nrun 1\ndeep');
  });

  it('a missing source in the stage fails with the step line', async () => {
    const ctx = context({
      Dockerfile:
        'FROM tsbuild-busybox AS seed\nFROM tsbuild-busybox\nRUN --mount=type=cache,from=seed,source=/nope,target=/c true\n',
    });
    await expect(run({ context: ctx })).rejects.toMatchObject({ code: 'TSB_BUILD_MOUNT_SOURCE' });
  });
});
