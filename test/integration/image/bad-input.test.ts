import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireDocker } from '../../helpers/prereqs.js';
import { docker, readTarFiles, storeCounts, tempRoot, tsb, writeTarFiles } from './support.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(() => requireDocker());

describe('load refuses bad archives with a typed error and stores nothing', () => {
  let t: ReturnType<typeof tempRoot>;
  let dockerTar: string;
  let ourTar: string;
  beforeEach(() => {
    t = tempRoot();
    dockerTar = join(t.dir, 'docker.tar');
    docker(['save', '-o', dockerTar, 'tsbuild-busybox:latest']);
    const src = join(t.dir, 'src');
    tsb(src, ['load', '-i', dockerTar]);
    ourTar = join(t.dir, 'ours.tar');
    tsb(src, ['save', '-o', ourTar, 'tsbuild-busybox']);
  });
  afterEach(() => t.done());

  function expectRefused(file: string, code: string) {
    const r = tsb(t.root, ['load', '-i', file], { allowFail: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).not.toContain('    at ');
    expect(tsb(t.root, ['images', '-q']).stdout).toBe('');
    expect(storeCounts(t.root)).toEqual({ blobs: 0, tmp: 0, snapshots: 0 });
  }

  it('corrupt archive', () => {
    const file = join(t.dir, 'corrupt.tar');
    const garbage = join(t.dir, 'garbage.tar');
    writeFileSync(garbage, Buffer.alloc(10_000, 'not a tar '));
    expectRefused(garbage, 'TSB_ARCHIVE_CORRUPT');
    const bad = readFileSync(dockerTar);
    bad[100] = 0x7a; // a header's mode field: the checksum no longer matches
    writeFileSync(file, bad);
    expectRefused(file, 'TSB_ARCHIVE_CORRUPT');
  });

  it('truncated blob, plain and gzipped', () => {
    const bytes = readFileSync(dockerTar);
    const cut = join(t.dir, 'cut.tar');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expectRefused(cut, 'TSB_ARCHIVE_TRUNCATED');
    const gz = gzipSync(bytes);
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length / 2)));
    expectRefused(cut, 'TSB_ARCHIVE_TRUNCATED');
  });

  it('digest mismatch: a blob that is not what its name says', async () => {
    const files = await readTarFiles(ourTar);
    const layer = [...files.keys()].find((n) => n.startsWith('blobs/') && (files.get(n)?.length ?? 0) > 100_000)!;
    const data = Buffer.from(files.get(layer)!);
    data.writeUInt8((data.at(-5000) as number) ^ 1, data.length - 5000);
    files.set(layer, data);
    const file = join(t.dir, 'tampered.tar');
    await writeTarFiles(file, files);
    expectRefused(file, 'TSB_IMAGE_DIGEST_MISMATCH');
    // Legacy layout: a layer whose content differs from the config's diff ID.
    const legacy = await readTarFiles(dockerTar);
    const tarName = [...legacy.keys()].find((n) => n.endsWith('/layer.tar'))!;
    const changed = Buffer.from(legacy.get(tarName)!);
    changed.writeUInt8((changed.at(-5000) as number) ^ 1, changed.length - 5000);
    legacy.set(tarName, changed);
    await writeTarFiles(file, legacy);
    expectRefused(file, 'TSB_IMAGE_DIGEST_MISMATCH');
  });

  it('unknown media type', async () => {
    const files = await readTarFiles(ourTar);
    const index = JSON.parse(files.get('index.json')!.toString());
    const old = index.manifests[0].digest.slice(7);
    const manifest = JSON.parse(files.get(`blobs/sha256/${old}`)!.toString());
    manifest.layers[0].mediaType = 'application/vnd.example.layer.v9+tar';
    const bytes = Buffer.from(JSON.stringify(manifest));
    files.delete(`blobs/sha256/${old}`);
    files.set(`blobs/sha256/${sha(bytes)}`, bytes);
    index.manifests[0].digest = `sha256:${sha(bytes)}`;
    index.manifests[0].size = bytes.length;
    files.set('index.json', Buffer.from(JSON.stringify(index)));
    const file = join(t.dir, 'mediatype.tar');
    await writeTarFiles(file, files);
    expectRefused(file, 'TSB_IMAGE_UNKNOWN_MEDIA_TYPE');
  });

  it('malformed JSON', async () => {
    const files = await readTarFiles(dockerTar);
    files.set('manifest.json', Buffer.from('[{"Config": "x.json", "Layers": [}'));
    const file = join(t.dir, 'json.tar');
    await writeTarFiles(file, files);
    expectRefused(file, 'TSB_IMAGE_MALFORMED_JSON');
    const config = [...files.keys()].find((n) => n.endsWith('.json') && n !== 'manifest.json')!;
    const fresh = await readTarFiles(dockerTar);
    fresh.set(config, Buffer.from('{"architecture": "amd64", "os": "linux", "rootfs": '));
    await writeTarFiles(file, fresh);
    expectRefused(file, 'TSB_IMAGE_MALFORMED_JSON');
  });

  it('an archive without images, and a missing file', () => {
    const r = tsb(t.root, ['load', '-i', join(t.dir, 'nope.tar')], { allowFail: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no such file');
    expect(storeCounts(t.root).blobs).toBe(0);
  });
});
