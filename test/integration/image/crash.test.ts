import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI } from '../../helpers/cli.js';
import { requireDocker } from '../../helpers/prereqs.js';
import { docker, storeCounts, tempRoot, tsb } from './support.js';

beforeAll(() => requireDocker());

/** Starts the CLI and kills it with SIGKILL after `ms`; resolves when it is gone. */
function killedAfter(root: string, args: string[], ms: number): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--root', root, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL' });
    });
  });
}

describe('crash safety of load', () => {
  let t: ReturnType<typeof tempRoot>;
  let archive: string;
  beforeEach(() => {
    t = tempRoot();
    // Two images: busybox (plain layer from docker) and one with a large gzip layer (from a directory).
    const src = join(t.dir, 'src');
    const dockerTar = join(t.dir, 'docker.tar');
    docker(['save', '-o', dockerTar, 'tsbuild-busybox:latest']);
    tsb(src, ['load', '-i', dockerTar]);
    const big = join(t.dir, 'big');
    mkdirSync(big);
    for (let i = 0; i < 6; i++) writeFileSync(join(big, `f${i}`), randomBytes(8 * 1024 * 1024));
    tsb(src, ['import', big, 'big:1']);
    archive = join(t.dir, 'both.tar');
    tsb(src, ['save', '-o', archive, 'tsbuild-busybox', 'big:1']);
  });
  afterEach(() => t.done());

  it('a load killed at 24 random moments is followed by a load that succeeds and a prune that leaves no garbage', async () => {
    // How long a whole load takes here, in a root of its own (also the reference for the blob set).
    const reference = join(t.dir, 'reference');
    const started = Date.now();
    tsb(reference, ['load', '-i', archive]);
    const duration = Date.now() - started;
    // Blobs committed by one attempt make the next one shorter, so a late moment can miss the load:
    // attempts go on until 24 of them were killed in flight (a load that finished is an attempt, not a kill).
    let killed = 0;
    let attempts = 0;
    let leftovers = 0;
    while (killed < 24 && attempts < 60) {
      attempts++;
      const r = await killedAfter(
        t.root,
        ['load', '-q', '-i', archive],
        Math.floor(duration * (0.1 + Math.random() * 0.75)),
      );
      leftovers += storeCounts(t.root).tmp;
      if (r.killed) killed++;
      // A load that finished leaves nothing for the next to do: drop its images so the next one works again.
      else for (const args of [['rmi', 'tsbuild-busybox', 'big:1'], ['prune']]) tsb(t.root, args);
    }
    expect(killed, `${killed} of ${attempts} loads were killed in flight`).toBe(24);
    // The kills did interrupt work in flight (staged files under tmp/ were left behind).
    expect(leftovers).toBeGreaterThan(0);
    expect(tsb(t.root, ['load', '-i', archive]).stdout).toBe(
      'Loaded image: tsbuild-busybox:latest\nLoaded image: big:1\n',
    );
    const pruned = tsb(t.root, ['prune']);
    expect(pruned.stdout).toContain('Total reclaimed space');
    const blobs = readdirSync(join(t.root, 'blobs', 'sha256')).sort();
    expect(blobs).toEqual(readdirSync(join(reference, 'blobs', 'sha256')).sort());
    expect(storeCounts(t.root)).toEqual({ blobs: blobs.length, tmp: 0, snapshots: 0 });
    const info = JSON.parse(tsb(t.root, ['info', '--format', 'json']).stdout);
    expect(info).toMatchObject({ Images: 2, Leases: 0, Snapshots: 0 });
    // The store is usable: the image exports, and prune after rmi leaves only the other image.
    tsb(t.root, ['export', 'tsbuild-busybox', '-o', join(t.dir, 'rootfs.tar')]);
    tsb(t.root, ['rmi', 'big:1']);
    tsb(t.root, ['prune']);
    expect(storeCounts(t.root).blobs).toBe(3);
  });

  it('an export killed while it unpacks leaves nothing half-made once the next command starts', async () => {
    tsb(t.root, ['load', '-i', archive]);
    const reference = join(t.dir, 'reference');
    tsb(reference, ['load', '-i', archive]);
    const started = Date.now();
    tsb(reference, ['export', 'big:1', '-o', join(t.dir, 'ref.tar')]);
    const duration = Date.now() - started;
    let killed = 0;
    for (let i = 0; i < 6; i++) {
      const out = join(t.dir, `k${i}.tar`);
      const r = await killedAfter(
        t.root,
        ['export', 'big:1', '-o', out],
        Math.floor(duration * (0.2 + Math.random() * 0.6)),
      );
      if (r.killed) killed++;
      const info = JSON.parse(tsb(t.root, ['info', '--format', 'json']).stdout);
      expect(info.ActiveSnapshots).toBe(0);
      expect(storeCounts(t.root).tmp).toBe(0);
    }
    expect(killed).toBeGreaterThan(0);
    tsb(t.root, ['export', 'big:1', '-o', join(t.dir, 'ok.tar')]);
    tsb(t.root, ['rmi', 'big:1']);
    tsb(t.root, ['prune']);
    expect(storeCounts(t.root)).toEqual({ blobs: 3, tmp: 0, snapshots: 0 });
  });

  it('two loads of the same archive at once both succeed', async () => {
    const run = () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [CLI, '--root', t.root, 'load', '-q', '-i', archive], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.on('exit', (code) => resolve(`${code ?? -1}${stderr ? ` ${stderr}` : ''}`));
      });
    expect(await Promise.all([run(), run()])).toEqual(['0', '0']);
    expect(tsb(t.root, ['images', '--format', 'json']).stdout.trim().split('\n').length).toBe(2);
    expect(storeCounts(t.root).tmp).toBe(0);
  });
});
