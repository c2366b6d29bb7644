import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabases } from '../../../metadata/index.js';
import { applyLayer, mountAll, openSnapshotter, unmountAll, writeLayer } from '../../../snapshotter/index.js';
import { busyboxFixture, requireDocker, requireRoot } from '../../helpers/prereqs.js';
import { tempDir } from '../../unit/snapshotter/helpers.js';

const DOCKER = '/usr/bin/docker';
const SCRIPT = [
  'mkdir -p /d/sub',
  'echo a > /d/sub/f',
  'ln /d/sub/f /d/hard',
  'ln -s sub/f /d/sym',
  'mkfifo /d/pipe',
  'rm /bin/ls',
  'echo x >> /etc/passwd',
  'rm -rf /home',
  'mkdir /home',
  'touch /home/new',
  'chmod 700 /tmp',
].join(' && ');

beforeAll(() => {
  requireRoot();
  requireDocker();
  busyboxFixture();
});

/** `tar -tv` lines without dates: mode, owner, size, name (and link). */
function entries(file: string): string[] {
  return execFileSync('tar', ['-tvf', file, '--numeric-owner'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.split(/\s+/);
      return [f[0], f[1], f[2], ...f.slice(5)].join(' ');
    })
    .sort();
}

describe('the same change gives the same layer as docker commit', () => {
  let dir: string;
  let remove: () => void;
  const cleanup: string[] = [];
  beforeEach(() => {
    ({ dir, remove } = tempDir());
  });
  afterEach(async () => {
    await unmountAll(dir);
    for (const c of cleanup.splice(0)) execFileSync(DOCKER, ['rm', '-f', c], { stdio: 'ignore' });
    closeDatabases();
    remove();
  });

  it('matches entry names, types, modes, owners, sizes and links', async () => {
    const name = `tsb-parity-${process.pid}`;
    execFileSync(DOCKER, ['run', '--name', name, 'tsbuild-busybox:latest', 'sh', '-c', SCRIPT]);
    cleanup.push(name);
    const image = `tsb-parity-img:${process.pid}`;
    execFileSync(DOCKER, ['commit', name, image]);
    const saved = join(dir, 'saved');
    mkdirSync(saved);
    execFileSync('sh', ['-c', `${DOCKER} save ${image} | tar -x -C ${saved}`]);
    execFileSync(DOCKER, ['rmi', image], { stdio: 'ignore' });
    const manifest = JSON.parse(readFileSync(join(saved, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    const layers = manifest[0]?.Layers ?? [];
    const dockerLayer = join(saved, layers[layers.length - 1] as string);

    const sn = await openSnapshotter(join(dir, 'store'), { driver: 'overlay' });
    await applyLayer(sn, { name: 'base', layer: createReadStream(busyboxFixture().tar) });
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    await mountAll(await sn.prepare('work', 'base'), mnt);
    execFileSync('chroot', [mnt, '/bin/sh', '-c', SCRIPT]);
    await unmountAll(mnt);
    const ours = join(dir, 'ours.tar');
    await writeLayer(sn, 'work', createWriteStream(ours), { compression: 'none' });

    expect(entries(ours)).toEqual(entries(dockerLayer));
  });
});
