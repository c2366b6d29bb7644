import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildOptions } from '../../../builder/index.js';
import { openImageStore } from '../../../image/index.js';
import { tsbuild } from '../../helpers/cli.js';
import { buildCollecting, leftoverMounts as leftoverMountsUnder, makeBuilderStore, makeContext } from './support.js';

let dir: string;
let root: string;

beforeAll(async () => {
  ({ dir, root } = await makeBuilderStore('tsb-build-it-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const context = (files: Record<string, string>) => makeContext(dir, files);
const run = (options: Omit<BuildOptions, 'root'>) => buildCollecting({ root, ...options });
const leftoverMounts = () => leftoverMountsUnder(root);

function runImage(image: string, args: string[]): string {
  const r = tsbuild(['--root', root, 'run', '--rm', image, ...args]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('build()', () => {
  it('builds a multi-stage image and a second build is fully cached with the same image ID', async () => {
    const ctx = context({
      Dockerfile: [
        'FROM tsbuild-busybox AS base',
        'WORKDIR /app',
        'COPY a.txt .',
        'RUN cat a.txt > b.txt',
        'FROM base',
        'ENV X=1',
        'CMD ["cat", "/app/b.txt"]',
      ].join('\n'),
      'a.txt': 'alpha\n',
    });
    const first = await run({ context: ctx, tags: ['multi:1'] });
    expect(first.cached('RUN cat a.txt > b.txt')).toBe(false);
    const second = await run({ context: ctx, tags: ['multi:1'] });
    expect(second.result.imageId).toBe(first.result.imageId);
    expect(
      second.done.filter((d) => d.step.name !== 'FROM docker.io/library/tsbuild-busybox:latest').every((d) => d.cached),
    ).toBe(true);
    expect(runImage('multi:1', ['cat', '/app/b.txt'])).toBe('alpha\n');
    expect(leftoverMounts()).toEqual([]);
  });

  it('rebuilds only from the first COPY that uses a changed file', async () => {
    const ctx = context({
      Dockerfile: [
        'FROM tsbuild-busybox',
        'RUN echo one > /one',
        'COPY keep.txt /keep.txt',
        'RUN echo two > /two',
        'COPY change.txt /change.txt',
        'RUN cat /change.txt > /three',
      ].join('\n'),
      'keep.txt': 'keep',
      'change.txt': 'v1',
    });
    await run({ context: ctx });
    writeFileSync(join(ctx, 'change.txt'), 'v2');
    const again = await run({ context: ctx, tags: ['changed:1'] });
    expect(again.cached('RUN echo one > /one')).toBe(true);
    expect(again.cached('COPY keep.txt /keep.txt')).toBe(true);
    expect(again.cached('RUN echo two > /two')).toBe(true);
    expect(again.cached('COPY change.txt /change.txt')).toBe(false);
    expect(again.cached('RUN cat /change.txt > /three')).toBe(false);
    expect(runImage('changed:1', ['cat', '/three'])).toBe('v2');
  });

  it('--debug-cache names the first input that differs', async () => {
    const ctx = context({ Dockerfile: 'FROM tsbuild-busybox\nCOPY f.txt /f.txt\n', 'f.txt': 'a' });
    await run({ context: ctx });
    writeFileSync(join(ctx, 'f.txt'), 'b');
    const again = await run({ context: ctx, debugCache: true });
    const miss = again.events.find((e) => e.type === 'cache-miss');
    expect(miss?.type === 'cache-miss' && miss.reason).toMatch(
      /^content of 0:f\.txt differs: was sha256:[0-9a-f]{64}, now sha256:/,
    );
  });

  it('--no-cache runs every step and --no-cache-filter only the named stage', async () => {
    const ctx = context({
      Dockerfile:
        'FROM tsbuild-busybox AS a\nRUN echo a > /a\nFROM tsbuild-busybox AS b\nRUN echo b > /b\nCOPY --from=a /a /a\n',
    });
    await run({ context: ctx });
    const all = await run({ context: ctx, noCache: true });
    expect(all.cached('RUN echo a > /a')).toBe(false);
    expect(all.cached('RUN echo b > /b')).toBe(false);
    const one = await run({ context: ctx, noCacheFilter: ['a'] });
    expect(one.cached('RUN echo a > /a')).toBe(false);
    expect(one.cached('RUN echo b > /b')).toBe(true);
  });

  it('runs independent stages in parallel and identical steps once', async () => {
    const ctx = context({
      Dockerfile: [
        'FROM tsbuild-busybox AS a',
        'RUN sleep 1 && echo a > /a',
        'FROM tsbuild-busybox AS b',
        'RUN sleep 1 && echo b > /b',
        'FROM tsbuild-busybox AS c',
        'RUN sleep 1 && echo a > /a',
        'FROM tsbuild-busybox',
        'COPY --from=a /a /a',
        'COPY --from=b /b /b',
        'COPY --from=c /a /c',
      ].join('\n'),
    });
    const r = await run({ context: ctx, jobs: 4, noCache: false, buildArgs: { NONCE: String(Date.now()) } });
    const starts = r.events.filter((e) => e.type === 'step-start' && e.step.name.startsWith('RUN sleep'));
    // a and b overlap: b starts before a is done.
    const aDone = r.events.findIndex((e) => e.type === 'step-done' && e.step.name === 'RUN sleep 1 && echo a > /a');
    const bStart = r.events.findIndex((e) => e.type === 'step-start' && e.step.name === 'RUN sleep 1 && echo b > /b');
    expect(bStart).toBeGreaterThanOrEqual(0);
    expect(bStart).toBeLessThan(aDone);
    // The RUN shared by stages a and c ran once.
    const ran = starts.filter((e) => e.type === 'step-start' && e.step.name === 'RUN sleep 1 && echo a > /a');
    expect(ran.map((e) => e.type === 'step-start' && e.step.stage)).toEqual(['a']);
    expect(r.result.warnings).toEqual(['one or more build-args [NONCE] were not consumed']);
  });

  it('is safe to call concurrently in one process and from several processes', async () => {
    const ctx = context({ Dockerfile: 'FROM tsbuild-busybox\nCOPY x /x\nRUN cat /x > /y\n', x: String(Math.random()) });
    const [a, b] = await Promise.all([
      run({ context: ctx, tags: ['conc:a'] }),
      run({ context: ctx, tags: ['conc:b'] }),
    ]);
    expect(a.result.imageId).toBe(b.result.imageId);
    const child = (tag: string) =>
      new Promise<number>((resolve) => {
        const p = spawn(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const { build } = await import(${JSON.stringify(join(process.cwd(), 'dist/builder/index.js'))});
             await build({ context: ${JSON.stringify(ctx)}, root: ${JSON.stringify(root)}, tags: [${JSON.stringify(tag)}], noCache: true });`,
          ],
          { stdio: 'inherit' },
        );
        p.on('exit', (code) => resolve(code ?? 1));
      });
    const codes = await Promise.all([child('proc:a'), child('proc:b')]);
    expect(codes).toEqual([0, 0]);
    const store = openImageStore(root);
    expect(store.resolve('proc:a').image.id).toMatch(/^sha256:/);
    expect(store.resolve('proc:b').image.id).toMatch(/^sha256:/);
  });

  it('a failing RUN reports its exit code, line and output, and leaves no mount or active snapshot', async () => {
    const ctx = context({ Dockerfile: 'FROM tsbuild-busybox\nRUN echo about to fail && exit 3\n' });
    const err = await run({ context: ctx }).catch((e: unknown) => e as Error & Record<string, unknown>);
    expect(err).toMatchObject({
      code: 'TSB_BUILD_RUN_FAILED',
      exitCode: 3,
      message: 'process "/bin/sh -c echo about to fail && exit 3" did not complete successfully: exit code: 3',
      ranges: [{ start: { line: 2, column: 1 } }],
      output: ['about to fail'],
    });
    expect(leftoverMounts()).toEqual([]);
    const sn = await openImageStore(root).snapshotter();
    const active: string[] = [];
    await sn.walk((i) => {
      if (i.kind !== 'committed') active.push(i.name);
    });
    expect(active).toEqual([]);
  });

  it('an aborted build stops the running step and cleans up', async () => {
    const ctx = context({ Dockerfile: 'FROM tsbuild-busybox\nRUN sleep 30\n' });
    const ac = new AbortController();
    const p = run({ context: ctx, signal: ac.signal, noCache: true });
    const started = Date.now();
    setTimeout(() => ac.abort(), 700);
    await expect(p).rejects.toMatchObject({ code: 'TSB_BUILD_CANCELED' });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(leftoverMounts()).toEqual([]);
    expect(readdirSync('/run/tsbuild/build').filter((d) => d.startsWith(`${process.pid}.`))).toEqual([]);
  });

  it('RUN --mount=type=cache keeps its content between builds, and --network=none has no network', async () => {
    const ctx = context({
      Dockerfile: [
        'FROM tsbuild-busybox',
        'ARG N',
        'RUN --mount=type=cache,target=/cache echo $N >> /cache/log && cat /cache/log',
        'RUN --network=none ip link | grep -c "^[0-9]" > /links || true',
      ].join('\n'),
    });
    await run({ context: ctx, buildArgs: { N: '1' } });
    const second = await run({ context: ctx, buildArgs: { N: '2' }, tags: ['cachemount:1'] });
    expect(second.logs).toEqual(['1', '2']);
    expect(runImage('cachemount:1', ['cat', '/links']).trim()).toBe('1');
  });

  it('RUN --mount=type=secret reads a secret that is not in the image, from a tmpfs', async () => {
    const secret = join(dir, 'token');
    writeFileSync(secret, 's3cr3t');
    const ctx = context({
      Dockerfile:
        'FROM tsbuild-busybox\nRUN --mount=type=secret,id=tok cat /run/secrets/tok && echo && stat -f -c %T /run/secrets/tok\n',
    });
    const r = await run({ context: ctx, secrets: [{ id: 'tok', src: secret }], noCache: true, tags: ['secret:1'] });
    expect(r.logs[0]).toBe('s3cr3t');
    // The secret's file never touched the store's disk.
    expect(r.logs[1]).toBe('tmpfs');
    expect(runImage('secret:1', ['sh', '-c', 'ls /run/secrets 2>&1 || true']).includes('tok')).toBe(false);
  });

  it('COPY ../x fails with "outside of the build context" and a missing file names the pattern and line', async () => {
    const ctx = context({ Dockerfile: 'FROM tsbuild-busybox\nCOPY ../x /x\n' });
    await expect(run({ context: ctx })).rejects.toMatchObject({
      code: 'TSB_COPY_OUTSIDE_CONTEXT',
      message: 'forbidden path outside the build context: ../x',
      ranges: [{ start: { line: 2 } }],
    });
    const ctx2 = context({ Dockerfile: 'FROM tsbuild-busybox\n\nCOPY nope.txt /x\n' });
    await expect(run({ context: ctx2 })).rejects.toMatchObject({
      code: 'TSB_COPY_NOT_FOUND',
      message: '"/nope.txt": not found',
      ranges: [{ start: { line: 3 } }],
    });
  });

  it('--squash merges the layers the build made into one and keeps the base layers', async () => {
    const ctx = context({
      Dockerfile: 'FROM tsbuild-busybox\nRUN echo 1 > /one\nRUN echo 2 > /two && rm /one\nCOPY f /f\n',
      f: 'file',
    });
    const plain = await run({ context: ctx, tags: ['nosquash:1'] });
    const squashed = await run({ context: ctx, tags: ['squash:1'], squash: true });
    const store = openImageStore(root);
    const layers = (id: string) => store.layers(store.resolve(id).image).length;
    expect(layers('nosquash:1')).toBe(4);
    expect(layers('squash:1')).toBe(2);
    const { config } = await store.config(store.resolve('squash:1').image);
    const history = config.history ?? [];
    expect(history.at(-1)?.created_by).toMatch(/^merge sha256:[0-9a-f]{64} to sha256:[0-9a-f]{64}$/);
    expect(history.filter((h) => !h.empty_layer)).toHaveLength(2);
    expect(runImage('squash:1', ['sh', '-c', 'cat /two /f; test -e /one || echo gone'])).toBe('2\nfilegone\n');
    const again = await run({ context: ctx, tags: ['squash:1'], squash: true });
    expect(again.result.imageId).toBe(squashed.result.imageId);
    expect(plain.result.imageId).not.toBe(squashed.result.imageId);
  });

  it('-o writes a docker-archive, an OCI layout, a rootfs tar and a rootfs directory', async () => {
    const ctx = context({ Dockerfile: 'FROM tsbuild-busybox\nCOPY f /out/f\n', f: 'exported' });
    const out = mkdtempSync(join(dir, 'out-'));
    await run({
      context: ctx,
      outputs: [
        { type: 'docker', dest: join(out, 'docker.tar') },
        { type: 'oci', dest: join(out, 'oci.tar') },
        { type: 'tar', dest: join(out, 'rootfs.tar') },
        { type: 'local', dest: join(out, 'rootfs') },
      ],
    });
    expect(readFileSync(join(out, 'rootfs', 'out', 'f'), 'utf8')).toBe('exported');
    expect(readdirSync(join(out, 'rootfs'))).toContain('bin');
    const tarList = (f: string) => execFileSync('tar', ['-tf', join(out, f)], { encoding: 'utf8' }).split('\n');
    expect(tarList('rootfs.tar')).toContain('out/f');
    expect(tarList('docker.tar')).toContain('manifest.json');
    expect(tarList('oci.tar')).toContain('index.json');
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci-archive:${join(out, 'oci.tar')}`], { encoding: 'utf8' }),
    ) as { Layers: string[] };
    expect(inspected.Layers).toHaveLength(2);
    expect(readdirSync(out).filter((f) => f.includes('.tsbuild-'))).toEqual([]);
  });

  it('ADD fetches a URL (cached by its content) and unpacks a local tar.gz', async () => {
    let body = 'remote v1\n';
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const ctx = context({
        Dockerfile: `FROM tsbuild-busybox\nADD http://127.0.0.1:${port}/files/remote.txt /r/\nADD a.tar.gz /t/\n`,
      });
      mkdirSync(join(ctx, 'src', 'inner'), { recursive: true });
      writeFileSync(join(ctx, 'src', 'inner', 'x.txt'), 'in the tar');
      execFileSync('tar', ['-czf', join(ctx, 'a.tar.gz'), '-C', join(ctx, 'src'), 'inner']);
      const first = await run({ context: ctx, tags: ['add:1'] });
      expect(runImage('add:1', ['sh', '-c', 'cat /r/remote.txt /t/inner/x.txt; stat -c %a /r/remote.txt'])).toBe(
        'remote v1\nin the tar600\n',
      );
      const again = await run({ context: ctx });
      expect(again.result.imageId).toBe(first.result.imageId);
      body = 'remote v2\n';
      const changed = await run({ context: ctx, tags: ['add:2'] });
      expect(changed.cached(`ADD http://127.0.0.1:${port}/files/remote.txt /r/`)).toBe(false);
      expect(runImage('add:2', ['cat', '/r/remote.txt'])).toBe('remote v2\n');
    } finally {
      server.close();
    }
  });
});
