import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { busyboxFixture, requireDocker } from '../../helpers/prereqs.js';
import { docker, readTarEntries, storeCounts, tempRoot, tsb, tsbBytes } from './support.js';

beforeAll(() => {
  requireDocker();
  busyboxFixture();
});

describe('image commands through the CLI', () => {
  let t: ReturnType<typeof tempRoot>;
  let id: string;
  beforeEach(() => {
    t = tempRoot();
    const archive = join(t.dir, 'bb.tar');
    docker(['save', '-o', archive, 'tsbuild-busybox:latest']);
    tsb(t.root, ['load', '-i', archive]);
    id = JSON.parse(tsb(t.root, ['inspect', 'tsbuild-busybox']).stdout)[0].Id;
  });
  afterEach(() => t.done());

  it('images prints Docker columns, and JSON lines with --format json', () => {
    tsb(t.root, ['tag', 'tsbuild-busybox', 'ghcr.io/me/bb:2']);
    const lines = tsb(t.root, ['images']).stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(lines.slice(1).sort()).toEqual([
      expect.stringMatching(new RegExp(`^ghcr.io/me/bb\\s+2\\s+${id.slice(7, 19)}\\s+.+ ago\\s+1.99MB$`)),
      expect.stringMatching(new RegExp(`^tsbuild-busybox\\s+latest\\s+${id.slice(7, 19)}\\s+.+ ago\\s+1.99MB$`)),
    ]);
    const json = tsb(t.root, ['images', '--format', 'json'])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(json.map((j) => `${j.Repository}:${j.Tag}`).sort()).toEqual(['ghcr.io/me/bb:2', 'tsbuild-busybox:latest']);
    expect(json[0]).toMatchObject({ ID: id.slice(7, 19), Size: '1.99MB', Containers: 'N/A' });
    expect(tsb(t.root, ['images', '-q']).stdout).toBe(`${id.slice(7, 19)}\n`);
    expect(tsb(t.root, ['images', 'ghcr.io/me/bb']).stdout.trim().split('\n')).toHaveLength(2);
    expect(tsb(t.root, ['images', '--no-trunc', '-q']).stdout).toBe(`${id}\n`);
  });

  it('history and inspect show the config', () => {
    const history = tsb(t.root, ['history', 'tsbuild-busybox']).stdout.split('\n');
    expect(history[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(history[1]).toMatch(new RegExp(`^${id.slice(7, 19)}\\s+.+ ago\\s+1.99MB\\s+Imported from -$`));
    const [inspect] = JSON.parse(tsb(t.root, ['inspect', id.slice(7, 15)]).stdout);
    expect(inspect).toMatchObject({
      Id: id,
      RepoTags: ['tsbuild-busybox:latest'],
      Architecture: 'amd64',
      Os: 'linux',
      RootFS: { Type: 'layers' },
    });
    expect(inspect.Config.Cmd).toEqual(['/bin/sh']);
    const missing = tsb(t.root, ['inspect', 'nope:1'], { allowFail: true });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no such image: nope:1 [TSB_IMAGE_NOT_FOUND]');
  });

  it('rmi untags, deletes the last name, and refuses an ID with several repositories unless forced', () => {
    tsb(t.root, ['tag', 'tsbuild-busybox', 'other:1']);
    expect(tsb(t.root, ['rmi', 'other:1']).stdout).toBe('Untagged: other:1\n');
    tsb(t.root, ['tag', 'tsbuild-busybox', 'other:1']);
    const refused = tsb(t.root, ['rmi', id.slice(7, 19)], { allowFail: true });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('must be forced');
    expect(refused.stderr).toContain('[TSB_IMAGE_IN_USE]');
    expect(tsb(t.root, ['rmi', '-f', id.slice(7, 19)]).stdout).toBe(
      `Untagged: other:1\nUntagged: tsbuild-busybox:latest\nDeleted: ${id}\n`,
    );
    expect(tsb(t.root, ['images', '-q']).stdout).toBe('');
    expect(storeCounts(t.root).blobs).toBe(0);
  });

  it('rmi also removes the snapshots of an unpacked image', () => {
    tsb(t.root, ['export', 'tsbuild-busybox', '-o', join(t.dir, 'rootfs.tar')]);
    expect(storeCounts(t.root).snapshots).toBe(1);
    tsb(t.root, ['rmi', 'tsbuild-busybox']);
    expect(storeCounts(t.root)).toEqual({ blobs: 0, tmp: 0, snapshots: 0 });
  });

  it('save to stdout, load from stdin', () => {
    const saved = tsbBytes(t.root, ['save', 'tsbuild-busybox']);
    expect(saved.status).toBe(0);
    const file = join(t.dir, 'file.tar');
    tsb(t.root, ['save', '-o', file, 'tsbuild-busybox']);
    expect(saved.stdout.equals(readFileSync(file))).toBe(true);
    const other = join(t.dir, 'other');
    const loaded = tsbBytes(other, ['load'], saved.stdout);
    expect(loaded.status).toBe(0);
    expect(loaded.stdout.toString()).toBe('Loaded image: tsbuild-busybox:latest\n');
    expect(JSON.parse(tsb(other, ['inspect', 'tsbuild-busybox']).stdout)[0].Id).toBe(id);
  });

  it('import a tar with a name, export it back, prune --all drops untagged images', async () => {
    const { tar } = busyboxFixture();
    const imported = tsb(t.root, ['import', tar, 'imported:1']).stdout.trim();
    expect(imported).toMatch(/^sha256:[a-f0-9]{64}$/);
    const out = join(t.dir, 'exported.tar');
    tsb(t.root, ['export', 'imported:1', '-o', out]);
    const a = await readTarEntries(out);
    const b = await readTarEntries(tar);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    const anonymous = tsb(t.root, ['import', tar]).stdout.trim();
    expect(tsb(t.root, ['images']).stdout).toContain('<none>');
    const pruned = tsb(t.root, ['prune', '--all']).stdout;
    expect(pruned).toContain(`deleted: ${anonymous}`);
    expect(tsb(t.root, ['images', '-q', '--no-trunc']).stdout.trim().split('\n').sort()).toEqual([id, imported].sort());
  });

  it('info shows the root, the driver and counts', () => {
    const text = tsb(t.root, ['info']).stdout;
    expect(text).toContain(`Root Dir: ${t.root}`);
    expect(text).toMatch(/Storage Driver: (overlay|naive)/);
    expect(text).toContain('Images: 1');
    const json = JSON.parse(tsb(t.root, ['info', '--format', 'json']).stdout);
    expect(json).toMatchObject({ RootDir: t.root, Images: 1, Blobs: 3 });
  });

  it('save refuses a terminal and unknown images before writing anything', () => {
    const r = tsb(t.root, ['save', '-o', join(t.dir, 'x.tar'), 'tsbuild-busybox', 'nope'], { allowFail: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no such image: nope');
    expect(() => readFileSync(join(t.dir, 'x.tar'))).toThrow();
  });
});
