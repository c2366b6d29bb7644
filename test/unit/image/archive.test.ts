import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadArchive } from '../../../image/archive/load.js';
import { saveArchive } from '../../../image/archive/save.js';
import { sha256 } from '../../../image/digest.js';
import { MediaType } from '../../../image/oci.js';
import { hostPlatform } from '../../../image/platform.js';
import { type ImageStore, openImageStore } from '../../../image/store/image-store.js';
import { hex, makeImage, makeLayer, makeTar, type SyntheticImage, type TarFile, tempRoot } from './_fixtures.js';

async function put(store: ImageStore, img: SyntheticImage, names: string[] = []) {
  return store.withLease('test', async (lease) => {
    for (const l of img.layers) await store.putBlob(l.blob, { lease });
    await store.putBlob(img.config, { lease });
    return store.addImage({ manifest: img.manifest, names, lease });
  });
}

async function save(store: ImageStore, refs: string[], format?: 'docker' | 'oci'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(c, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  await saveArchive(store, refs, out, { format });
  return Buffer.concat(chunks);
}

async function untar(buf: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = extract();
  Readable.from([buf]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(Buffer.from(c as Uint8Array));
    files.set(entry.header.name, Buffer.concat(parts));
  }
  return files;
}

/** The store holds nothing: no image, no blob, no temporary file. */
function expectEmpty(store: ImageStore) {
  expect(store.list()).toEqual([]);
  expect(store.content.listSync()).toEqual([]);
  expect(readdirSync(join(store.root, 'tmp')).filter((n) => n.startsWith('image-'))).toEqual([]);
}

describe('archives', () => {
  let src: ReturnType<typeof tempRoot>;
  let dst: ReturnType<typeof tempRoot>;
  let from: ImageStore;
  let to: ImageStore;
  let img: SyntheticImage;
  beforeEach(async () => {
    src = tempRoot();
    dst = tempRoot();
    from = openImageStore(src.root);
    to = openImageStore(dst.root);
    img = makeImage([
      await makeLayer([
        { name: 'bin', type: 'directory' },
        { name: 'bin/sh', data: '#!', mode: 0o755 },
      ]),
      await makeLayer([{ name: 'etc/hostname', data: 'x' }], true),
    ]);
  });
  afterEach(() => {
    src.done();
    dst.done();
  });

  it('save writes the Docker 25+ layout: blobs, oci-layout, index.json, manifest.json, repositories', async () => {
    await put(from, img, ['busybox:1', 'ghcr.io/me/bb:2']);
    const files = await untar(await save(from, ['busybox:1', 'ghcr.io/me/bb:2']));
    expect([...files.keys()]).toEqual([
      'blobs/',
      'blobs/sha256/',
      `blobs/sha256/${hex(img.layers[0]!.digest)}`,
      `blobs/sha256/${hex(img.layers[1]!.digest)}`,
      `blobs/sha256/${hex(img.configDigest)}`,
      `blobs/sha256/${hex(img.manifestDigest)}`,
      'oci-layout',
      'index.json',
      'manifest.json',
      'repositories',
    ]);
    expect(files.get(`blobs/sha256/${hex(img.manifestDigest)}`)?.equals(img.manifest)).toBe(true);
    expect(JSON.parse(files.get('oci-layout')!.toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(files.get('index.json')!.toString());
    expect(index.manifests).toEqual([
      {
        mediaType: MediaType.ociManifest,
        digest: img.manifestDigest,
        size: img.manifest.length,
        annotations: {
          'io.containerd.image.name': 'docker.io/library/busybox:1',
          'org.opencontainers.image.ref.name': '1',
        },
      },
      {
        mediaType: MediaType.ociManifest,
        digest: img.manifestDigest,
        size: img.manifest.length,
        annotations: { 'io.containerd.image.name': 'ghcr.io/me/bb:2', 'org.opencontainers.image.ref.name': '2' },
      },
    ]);
    expect(JSON.parse(files.get('manifest.json')!.toString())).toEqual([
      {
        Config: `blobs/sha256/${hex(img.configDigest)}`,
        RepoTags: ['busybox:1', 'ghcr.io/me/bb:2'],
        Layers: img.layers.map((l) => `blobs/sha256/${hex(l.digest)}`),
      },
    ]);
    expect(Object.keys(JSON.parse(files.get('repositories')!.toString()))).toEqual(['busybox', 'ghcr.io/me/bb']);
  });

  it('save --format oci writes only the OCI layout; an image saved by ID has no name', async () => {
    await put(from, img, ['busybox:1']);
    const files = await untar(await save(from, [img.configDigest], 'oci'));
    expect(files.has('manifest.json')).toBe(false);
    expect(files.has('repositories')).toBe(false);
    expect(JSON.parse(files.get('index.json')!.toString()).manifests[0].annotations).toBeUndefined();
  });

  it('save then load keeps the manifest bytes, the ID and the names (both formats)', async () => {
    await put(from, img, ['busybox:1']);
    for (const format of ['docker', 'oci'] as const) {
      const loaded = await loadArchive(to, Readable.from([await save(from, ['busybox:1'], format)]));
      expect(loaded.map((l) => [l.image.digest, l.image.id, l.names])).toEqual([
        [img.manifestDigest, img.configDigest, ['docker.io/library/busybox:1']],
      ]);
      expect((await to.manifest(loaded[0]!.image)).bytes.equals(img.manifest)).toBe(true);
    }
    expect(new Set(to.content.listSync())).toEqual(new Set(from.content.listSync()));
  });

  it("takes names from manifest.json's RepoTags when index.json has none (Docker 25+ saving by ID)", async () => {
    await put(from, img, ['busybox:1']);
    const files = await untar(await save(from, ['busybox:1']));
    const index = JSON.parse(files.get('index.json')!.toString());
    delete index.manifests[0].annotations;
    files.set('index.json', Buffer.from(JSON.stringify(index)));
    const rebuilt = await makeTar([...files].filter(([n]) => !n.endsWith('/')).map(([name, data]) => ({ name, data })));
    const [loaded] = await loadArchive(to, Readable.from([rebuilt]));
    expect(loaded?.names).toEqual(['docker.io/library/busybox:1']);
  });

  it('saves and loads an image without layers', async () => {
    const empty = makeImage([]);
    await put(from, empty, ['scratch-like:1']);
    const files = await untar(await save(from, ['scratch-like:1']));
    expect(JSON.parse(files.get('manifest.json')!.toString())[0].Layers).toEqual([]);
    const [loaded] = await loadArchive(to, Readable.from([await save(from, ['scratch-like:1'])]));
    expect(loaded?.image.id).toBe(empty.configDigest);
    expect(to.layers(loaded!.image)).toEqual([]);
  });

  it('reports a name that moves from another image', async () => {
    await put(from, img, ['busybox:1']);
    const older = makeImage([img.layers[0]!]);
    await put(to, older, ['busybox:1']);
    const [loaded] = await loadArchive(to, Readable.from([await save(from, ['busybox:1'])]));
    expect(loaded?.moved).toEqual([{ name: 'docker.io/library/busybox:1', from: older.configDigest }]);
    expect(to.get(older.manifestDigest)?.names).toEqual([]);
  });

  it('loads a gzipped archive', async () => {
    await put(from, img, ['busybox:1']);
    const loaded = await loadArchive(to, Readable.from([gzipSync(await save(from, ['busybox:1']))]));
    expect(loaded[0]?.image.digest).toBe(img.manifestDigest);
  });

  it("loads Docker's legacy layout (per-layer directories, <id>.json, gzip and plain layers)", async () => {
    const cfgName = `${hex(img.configDigest)}.json`;
    const legacy = await makeTar([
      { name: cfgName, data: img.config },
      { name: 'l1/', type: 'directory' },
      { name: 'l1/VERSION', data: '1.0' },
      { name: 'l1/json', data: '{"id":"l1"}' },
      { name: 'l1/layer.tar', data: img.layers[0]!.tar },
      { name: 'l2/', type: 'directory' },
      { name: 'l2/layer.tar', data: img.layers[1]!.blob },
      {
        name: 'manifest.json',
        data: JSON.stringify([{ Config: cfgName, RepoTags: ['old:1'], Layers: ['l1/layer.tar', 'l2/layer.tar'] }]),
      },
      { name: 'repositories', data: '{"old":{"1":"l2"}}' },
    ]);
    const [loaded] = await loadArchive(to, Readable.from([legacy]));
    expect(loaded?.image.id).toBe(img.configDigest);
    expect(loaded?.names).toEqual(['docker.io/library/old:1']);
    const layers = to.layers(loaded!.image);
    expect(layers.map((l) => l.mediaType)).toEqual([MediaType.ociLayer, MediaType.ociLayerGzip]);
    expect(layers.map((l) => l.diffId)).toEqual(img.layers.map((l) => l.diffId));
    const again = await loadArchive(to, Readable.from([legacy]));
    expect(again[0]?.image.digest).toBe(loaded?.image.digest);
  });

  it('follows symlinked layer paths (skopeo-style archives)', async () => {
    const [l1, l2] = img.layers;
    const tar = await makeTar([
      { name: `${hex(l1!.digest)}.tar`, data: l1!.blob },
      { name: `${hex(l2!.digest)}.tar`, data: l2!.blob },
      { name: 'x/layer.tar', type: 'symlink', linkname: `../${hex(l1!.digest)}.tar` },
      { name: 'cfg.json', data: img.config },
      {
        name: 'manifest.json',
        data: JSON.stringify([
          { Config: 'cfg.json', RepoTags: null, Layers: ['x/layer.tar', `${hex(l2!.digest)}.tar`] },
        ]),
      },
    ]);
    const [loaded] = await loadArchive(to, Readable.from([tar]));
    expect(loaded?.names).toEqual([]);
    expect(loaded?.image.id).toBe(img.configDigest);
  });

  it('picks the platform from a multi-platform index and skips attestations', async () => {
    const other = makeImage([await makeLayer([{ name: 'arm', data: 'arm' }])], { architecture: 'arm64' });
    const host = hostPlatform();
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          {
            mediaType: MediaType.ociManifest,
            digest: other.manifestDigest,
            size: other.manifest.length,
            platform: { os: 'linux', architecture: host.architecture === 'arm64' ? 's390x' : 'arm64' },
          },
          {
            mediaType: MediaType.ociManifest,
            digest: img.manifestDigest,
            size: img.manifest.length,
            platform: { os: 'linux', architecture: host.architecture },
          },
          {
            mediaType: MediaType.ociManifest,
            digest: sha256('att'),
            size: 3,
            platform: { os: 'unknown', architecture: 'unknown' },
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
          },
        ],
      }),
    );
    const blobs = (i: SyntheticImage): TarFile[] => [
      ...i.layers.map((l) => ({ name: `blobs/sha256/${hex(l.digest)}`, data: l.blob })),
      { name: `blobs/sha256/${hex(i.configDigest)}`, data: i.config },
      { name: `blobs/sha256/${hex(i.manifestDigest)}`, data: i.manifest },
    ];
    const layout = await makeTar([
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      ...blobs(img),
      ...blobs(other),
      { name: `blobs/sha256/${hex(sha256(nested))}`, data: nested },
      {
        name: 'index.json',
        data: JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: MediaType.ociIndex,
              digest: sha256(nested),
              size: nested.length,
              annotations: { 'org.opencontainers.image.ref.name': 'multi:1' },
            },
          ],
        }),
      },
    ]);
    const [loaded] = await loadArchive(to, Readable.from([layout]));
    expect(loaded?.image.digest).toBe(img.manifestDigest);
    expect(loaded?.names).toEqual(['docker.io/library/multi:1']);
    expect(to.content.has(sha256(nested))).toBe(true);
    expect(to.content.has(other.configDigest)).toBe(false);
  });

  describe('bad input gives a typed error and stores nothing', () => {
    let good: Buffer;
    beforeEach(async () => {
      await put(from, img, ['busybox:1']);
      good = await save(from, ['busybox:1']);
    });

    async function expectFailure(input: Buffer, code: string) {
      await expect(loadArchive(to, Readable.from([input]))).rejects.toMatchObject({
        code,
      });
      expectEmpty(to);
    }

    async function rewrite(edit: (files: Map<string, Buffer>) => void): Promise<Buffer> {
      const files = await untar(good);
      edit(files);
      return makeTar([...files].filter(([n]) => !n.endsWith('/')).map(([name, data]) => ({ name, data })));
    }

    it('corrupt archive', async () => {
      await expectFailure(Buffer.from('this is not a tar archive at all'.repeat(40)), 'TSB_ARCHIVE_CORRUPT');
      const bad = Buffer.from(good);
      bad[600] = (bad[600] as number) ^ 0xff; // inside the second header block
      await expectFailure(bad, 'TSB_ARCHIVE_CORRUPT');
      await expectFailure(Buffer.alloc(0), 'TSB_ARCHIVE_CORRUPT');
      await expectFailure(gzipSync(Buffer.from('x')).subarray(0, 12), 'TSB_ARCHIVE_TRUNCATED');
    });

    it('truncated blob', async () => {
      await expectFailure(good.subarray(0, 2048 + 700), 'TSB_ARCHIVE_TRUNCATED');
    });

    it('truncated stream that fails mid-way', async () => {
      const s = new PassThrough();
      s.write(good.subarray(0, 3000));
      setImmediate(() => s.destroy(new Error('connection reset')));
      await expect(loadArchive(to, s)).rejects.toThrow('connection reset');
      expectEmpty(to);
    });

    it('digest mismatch', async () => {
      const layerPath = `blobs/sha256/${hex(img.layers[0]!.digest)}`;
      const tampered = await rewrite((f) => {
        const data = Buffer.from(f.get(layerPath)!);
        data[600] = 0x41;
        f.set(layerPath, data);
      });
      await expectFailure(tampered, 'TSB_IMAGE_DIGEST_MISMATCH');
    });

    it('diff ID mismatch in a legacy archive', async () => {
      const cfgName = `${hex(img.configDigest)}.json`;
      const legacy = await makeTar([
        { name: cfgName, data: img.config },
        { name: 'a/layer.tar', data: img.layers[1]!.tar },
        { name: 'b/layer.tar', data: img.layers[0]!.tar },
        {
          name: 'manifest.json',
          data: JSON.stringify([{ Config: cfgName, RepoTags: ['x:1'], Layers: ['a/layer.tar', 'b/layer.tar'] }]),
        },
      ]);
      await expectFailure(legacy, 'TSB_IMAGE_DIGEST_MISMATCH');
    });

    it('unknown media type', async () => {
      const manifest = JSON.parse(img.manifest.toString());
      manifest.layers[0].mediaType = 'application/x-mystery';
      const bytes = Buffer.from(JSON.stringify(manifest));
      const tampered = await rewrite((f) => {
        f.delete(`blobs/sha256/${hex(img.manifestDigest)}`);
        f.set(`blobs/sha256/${hex(sha256(bytes))}`, bytes);
        const index = JSON.parse(f.get('index.json')!.toString());
        index.manifests[0].digest = sha256(bytes);
        index.manifests[0].size = bytes.length;
        f.set('index.json', Buffer.from(JSON.stringify(index)));
      });
      await expectFailure(tampered, 'TSB_IMAGE_UNKNOWN_MEDIA_TYPE');
    });

    it('malformed JSON', async () => {
      await expectFailure(
        await rewrite((f) => f.set('index.json', Buffer.from('{"schemaVersion":2,'))),
        'TSB_IMAGE_MALFORMED_JSON',
      );
      await expectFailure(
        await rewrite((f) => {
          f.delete('index.json');
          f.delete('oci-layout');
          f.set('manifest.json', Buffer.from('[{"Config": 1}]'));
        }),
        'TSB_IMAGE_INVALID_MANIFEST',
      );
    });

    it('missing blob and archives that hold no image', async () => {
      await expectFailure(
        await rewrite((f) => f.delete(`blobs/sha256/${hex(img.layers[1]!.digest)}`)),
        'TSB_ARCHIVE_CORRUPT',
      );
      await expectFailure(await makeTar([{ name: 'hello.txt', data: 'hi' }]), 'TSB_ARCHIVE_CORRUPT');
      await expectFailure(await makeTar([{ name: 'repositories', data: '{}' }]), 'TSB_ARCHIVE_UNSUPPORTED');
    });
  });
});
