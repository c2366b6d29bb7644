import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { busyboxFixture, requireCommand, requireDocker } from '../../helpers/prereqs.js';
import { docker, readTarEntries, tempRoot, tsb, uniqueName } from './support.js';

/** What `docker export` adds from the container's init layer, absent from the image itself. */
const DOCKER_INIT = new Set([
  '.dockerenv',
  'dev/console',
  'dev/pts',
  'dev/shm',
  'etc/hostname',
  'etc/hosts',
  'etc/resolv.conf',
  'etc/mtab',
]);

beforeAll(() => {
  requireDocker();
  requireCommand('skopeo', 'skopeo');
  requireCommand('umoci', 'umoci');
  busyboxFixture();
});

describe('interop with docker, skopeo and umoci', () => {
  let t: ReturnType<typeof tempRoot>;
  const dockerImages: string[] = [];
  beforeEach(() => {
    t = tempRoot();
  });
  afterEach(() => {
    for (const name of dockerImages.splice(0)) docker(['rmi', name], { allowFail: true });
    t.done();
  });

  it('an image saved by docker save loads, and its rootfs is identical to docker export', async () => {
    const archive = join(t.dir, 'docker.tar');
    docker(['save', '-o', archive, 'tsbuild-busybox:latest']);
    expect(tsb(t.root, ['load', '-i', archive]).stdout).toBe('Loaded image: tsbuild-busybox:latest\n');
    const ours = join(t.dir, 'ours.tar');
    tsb(t.root, ['export', 'tsbuild-busybox', '-o', ours]);
    const container = docker(['create', 'tsbuild-busybox:latest']).trim();
    const theirs = join(t.dir, 'theirs.tar');
    try {
      docker(['export', '-o', theirs, container]);
    } finally {
      docker(['rm', container], { allowFail: true });
    }
    const a = await readTarEntries(ours);
    const b = await readTarEntries(theirs);
    for (const p of DOCKER_INIT) b.delete(p);
    expect(a.size).toBeGreaterThan(100);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [path, entry] of b) expect({ path, ...a.get(path) }).toEqual({ path, ...entry });
    const inspect = JSON.parse(tsb(t.root, ['inspect', 'tsbuild-busybox']).stdout);
    const dockerInspect = JSON.parse(docker(['image', 'inspect', 'tsbuild-busybox:latest']));
    expect(inspect[0].Id).toBe(dockerInspect[0].Id);
    expect(inspect[0].RootFS).toEqual(dockerInspect[0].RootFS);
    expect(inspect[0].Config).toEqual(dockerInspect[0].Config);
  });

  it('an image tsbuild saves loads with docker load and runs with docker run', () => {
    tsb(t.root, ['load', '-i', busyboxDockerArchive(t.dir)]);
    const name = `${uniqueName()}:v1`;
    tsb(t.root, ['tag', 'tsbuild-busybox', name]);
    const archive = join(t.dir, 'ours.tar');
    tsb(t.root, ['save', '-o', archive, name]);
    dockerImages.push(name);
    expect(docker(['load', '-i', archive])).toContain(`Loaded image: ${name}`);
    expect(docker(['run', '--rm', name, '/bin/echo', 'ok'])).toBe('ok\n');
  });

  it('an imported rootfs (tar and directory) runs with docker after save', () => {
    const { tar } = busyboxFixture();
    const rootfs = extracted(tar, t.dir);
    const fromTar = `${uniqueName()}:tar`;
    const fromDir = `${uniqueName()}:dir`;
    tsb(t.root, ['import', tar, fromTar]);
    tsb(t.root, ['import', rootfs, fromDir, '-m', 'from a directory']);
    const archive = join(t.dir, 'imported.tar');
    tsb(t.root, ['save', '-o', archive, fromTar, fromDir]);
    dockerImages.push(fromTar, fromDir);
    const out = docker(['load', '-i', archive]);
    expect(out).toContain(`Loaded image: ${fromTar}`);
    expect(out).toContain(`Loaded image: ${fromDir}`);
    expect(docker(['run', '--rm', fromTar, '/bin/echo', 'tar'])).toBe('tar\n');
    expect(docker(['run', '--rm', fromDir, '/bin/busybox', 'echo', 'dir'])).toBe('dir\n');
    expect(tsb(t.root, ['history', fromDir]).stdout).toContain('from a directory');
  });

  it('export of an imported directory holds the same tree as the fixture tar', async () => {
    const { tar } = busyboxFixture();
    const rootfs = extracted(tar, t.dir);
    tsb(t.root, ['import', rootfs, 'fromdir:1']);
    const out = join(t.dir, 'exported.tar');
    tsb(t.root, ['export', 'fromdir:1', '-o', out]);
    const a = await readTarEntries(out);
    const b = await readTarEntries(tar);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [path, entry] of b) {
      const ours = a.get(path);
      expect({ path, type: ours?.type, mode: ours?.mode, sha256: ours?.sha256, linkname: ours?.linkname }).toEqual({
        path,
        type: entry.type,
        mode: entry.mode,
        sha256: entry.sha256,
        linkname: entry.linkname,
      });
    }
  });

  it('skopeo copies and inspects our docker archive and our OCI layout tar', () => {
    tsb(t.root, ['load', '-i', busyboxDockerArchive(t.dir)]);
    const dockerTar = join(t.dir, 'd.tar');
    const ociTar = join(t.dir, 'o.tar');
    tsb(t.root, ['save', '-o', dockerTar, 'tsbuild-busybox']);
    tsb(t.root, ['save', '--format', 'oci', '-o', ociTar, 'tsbuild-busybox']);
    const layout = join(t.dir, 'layout');
    execSkopeo(['copy', `docker-archive:${dockerTar}`, `oci:${layout}:copied`]);
    const fromDocker = JSON.parse(execSkopeo(['inspect', `docker-archive:${dockerTar}`]));
    const fromOci = JSON.parse(execSkopeo(['inspect', `oci-archive:${ociTar}:latest`]));
    const fromCopy = JSON.parse(execSkopeo(['inspect', `oci:${layout}:copied`]));
    const id = JSON.parse(tsb(t.root, ['inspect', 'tsbuild-busybox']).stdout)[0];
    expect(fromDocker.Layers).toEqual(id.RootFS.Layers);
    expect(fromOci.Digest).toBe(id.Descriptor.digest);
    expect(fromOci.Layers).toEqual(id.RootFS.Layers);
    expect(fromCopy.Layers.length).toBe(1);
    expect(fromDocker.Env).toEqual(id.Config.Env);
  });

  it('umoci unpacks the OCI layout in both formats', () => {
    tsb(t.root, ['load', '-i', busyboxDockerArchive(t.dir)]);
    for (const format of ['docker', 'oci']) {
      const tar = join(t.dir, `${format}.tar`);
      tsb(t.root, ['save', '--format', format, '-o', tar, 'tsbuild-busybox']);
      const layout = join(t.dir, `${format}-layout`);
      mkdirSync(layout);
      execTool('tar', ['-xf', tar, '-C', layout]);
      const bundle = join(t.dir, `${format}-bundle`);
      execTool('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
      expect(execTool(join(bundle, 'rootfs', 'bin', 'busybox'), ['echo', 'unpacked'])).toBe('unpacked\n');
    }
  });
});

function busyboxDockerArchive(dir: string): string {
  const archive = join(dir, 'busybox-docker.tar');
  docker(['save', '-o', archive, 'tsbuild-busybox:latest']);
  return archive;
}

/** The fixture tar unpacked into a fresh directory (the shared fixture directory may hold runtime leftovers). */
function extracted(tar: string, dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  execTool('tar', ['--numeric-owner', '-xpf', tar, '-C', rootfs]);
  return rootfs;
}

function execSkopeo(args: string[]): string {
  return execTool('skopeo', args);
}

function execTool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}
