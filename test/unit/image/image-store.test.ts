import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../image/gc.js';
import { type ImageStore, openImageStore } from '../../../image/store/image-store.js';
import { hex, makeImage, makeLayer, type SyntheticImage, tempRoot } from './_fixtures.js';

async function put(store: ImageStore, img: SyntheticImage, names: string[] = []) {
  return store.withLease('test', async (lease) => {
    for (const l of img.layers) await store.putBlob(l.blob, { lease });
    await store.putBlob(img.config, { lease });
    return store.addImage({ manifest: img.manifest, names, lease });
  });
}

describe('image store', () => {
  let t: ReturnType<typeof tempRoot>;
  let store: ImageStore;
  let a: SyntheticImage;
  let b: SyntheticImage;
  beforeEach(async () => {
    t = tempRoot();
    store = openImageStore(t.root);
    a = makeImage([await makeLayer([{ name: 'a', data: 'a' }]), await makeLayer([{ name: 'b', data: 'b' }], true)]);
    b = makeImage([await makeLayer([{ name: 'c', data: 'c' }])], { cmd: ['other'] });
  });
  afterEach(() => t.done());

  it('records an image with its layers, chain IDs and names', async () => {
    const rec = await put(store, a, ['busybox', 'ghcr.io/x/y:1']);
    expect(rec.digest).toBe(a.manifestDigest);
    expect(rec.id).toBe(a.configDigest);
    expect(rec.names).toEqual(['docker.io/library/busybox:latest', 'ghcr.io/x/y:1']);
    expect(rec.platform).toBe('linux/amd64');
    expect(rec.size).toBe(a.layers[0]!.blob.length + a.layers[1]!.blob.length);
    const layers = store.layers(rec);
    expect(layers.map((l) => l.diffId)).toEqual(a.layers.map((l) => l.diffId));
    expect(layers[0]!.chainId).toBe(a.layers[0]!.diffId);
    expect((await store.manifest(rec)).bytes.equals(a.manifest)).toBe(true);
  });

  it('shows the unpacked size Docker shows, worked out once per layer', async () => {
    const rec = await put(store, a, ['busybox']);
    expect(await store.unpackedSize(rec)).toBe(2); // the files "a" and "b", one byte each
    const layer = store.layers(rec)[0]!;
    expect(store.db.prepare('SELECT size FROM image_layer_usage WHERE diff_id = ?').get(layer.diffId)).toEqual({
      size: 1,
    });
    expect(await store.layerUnpackedSize(layer)).toBe(1);
  });

  it('resolves names, IDs, ID prefixes and digests as Docker does', async () => {
    await put(store, a, ['busybox:latest']);
    await put(store, b, ['me/app:2']);
    expect(store.resolve('busybox').image.digest).toBe(a.manifestDigest);
    expect(store.resolve('docker.io/library/busybox:latest').via).toBe('name');
    expect(store.resolve(a.configDigest).via).toBe('id');
    expect(store.resolve(hex(a.configDigest)).image.digest).toBe(a.manifestDigest);
    expect(store.resolve(hex(a.configDigest).slice(0, 12)).image.digest).toBe(a.manifestDigest);
    expect(store.resolve(a.manifestDigest).via).toBe('digest');
    expect(store.resolve(`busybox@${a.manifestDigest}`).image.id).toBe(a.configDigest);
    expect(store.resolve('me/app:2').image.digest).toBe(b.manifestDigest);
    expect(() => store.resolve('me/app')).toThrow('no such image: me/app:latest');
    expect(() => store.resolve('docker.io/library/nope')).toThrow('no such image: nope:latest');
    expect(() => store.resolve('Bad:Name!')).toThrow(/invalid reference/);
  });

  it('reports an ambiguous ID prefix', async () => {
    await put(store, a);
    await put(store, b);
    const ha = hex(a.configDigest);
    const hb = hex(b.configDigest);
    let common = 0;
    while (ha[common] === hb[common]) common++;
    if (common === 0) {
      expect(store.resolve(ha.slice(0, 1)).image.id).toBe(a.configDigest);
    } else {
      expect(() => store.resolve(ha.slice(0, common))).toThrow(/ambiguous/);
    }
    expect(store.resolve(ha.slice(0, common + 1)).image.id).toBe(a.configDigest);
  });

  it('moves a tag and leaves the old image dangling', async () => {
    await put(store, a, ['app:1']);
    await put(store, b, ['app:1']);
    expect(store.resolve('app:1').image.digest).toBe(b.manifestDigest);
    expect(store.get(a.manifestDigest)?.names).toEqual([]);
    store.tag(a.configDigest, 'app:old');
    expect(store.resolve('app:old').image.digest).toBe(a.manifestDigest);
    expect(() => store.tag('app:1', `app@${a.manifestDigest}`)).toThrow('digest reference');
  });

  it('rmi by name untags; the last name deletes', async () => {
    await put(store, a, ['x:1', 'x:2']);
    expect(store.remove('x:1')).toEqual({ untagged: ['docker.io/library/x:1'], deleted: [] });
    expect(store.remove('x:2')).toEqual({ untagged: ['docker.io/library/x:2'], deleted: [a.configDigest] });
    expect(store.list()).toEqual([]);
  });

  it('rmi by ID refuses names in several repositories unless forced', async () => {
    await put(store, a, ['x:1', 'y:1']);
    expect(() => store.remove(a.configDigest)).toThrow(/referenced in multiple repositories/);
    const r = store.remove(hex(a.configDigest).slice(0, 12), { force: true });
    expect(r.untagged).toEqual(['docker.io/library/x:1', 'docker.io/library/y:1']);
    expect(r.deleted).toEqual([a.configDigest]);
  });

  it('rmi refuses an image a lease holds, unless forced', async () => {
    await put(store, a, ['x:1']);
    const lease = store.leases.acquire('container');
    lease.add('image', a.manifestDigest);
    expect(() => store.remove('x:1')).toThrow(expect.objectContaining({ code: 'TSB_IMAGE_IN_USE' }));
    expect(() => store.remove('x:1')).toThrow('conflict: unable to delete x:1 (must be forced) - image is being used');
    lease.release();
    expect(store.remove('x:1').deleted).toEqual([a.configDigest]);
    await put(store, a, ['x:1']);
    const again = store.leases.acquire('container');
    again.add('image', a.manifestDigest);
    expect(store.remove('x:1', { force: true }).deleted).toEqual([a.configDigest]);
    again.release();
  });

  it('stale leases (dead process) protect nothing', async () => {
    await put(store, a, ['x:1']);
    store.db
      .prepare('INSERT INTO image_leases (id, pid, start, label, created) VALUES (?, ?, ?, ?, ?)')
      .run('dead', 999_999_999, '1', 'build', 0);
    store.db
      .prepare("INSERT INTO image_lease_resources (lease, kind, ref) VALUES ('dead', 'image', ?)")
      .run(a.manifestDigest);
    expect(store.inUse(store.resolve('x:1').image)).toBe(false);
    expect(store.leases.purgeStale()).toBe(1);
  });

  it('refuses a manifest whose blobs are missing or inconsistent', async () => {
    await expect(store.addImage({ manifest: a.manifest })).rejects.toMatchObject({ code: 'TSB_IMAGE_BLOB_NOT_FOUND' });
    await store.withLease('t', async (lease) => {
      await store.putBlob(a.config, { lease });
      await expect(store.addImage({ manifest: a.manifest, lease })).rejects.toMatchObject({
        code: 'TSB_IMAGE_BLOB_NOT_FOUND',
      });
    });
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }),
    );
    await expect(store.addImage({ manifest: index })).rejects.toMatchObject({ code: 'TSB_IMAGE_UNSUPPORTED' });
    expect(store.list()).toEqual([]);
  });

  it('garbage collection keeps referenced and leased blobs, and --all drops untagged images', async () => {
    await put(store, a, ['x:1']);
    await put(store, b);
    const orphan = await store.withLease('t', (lease) => store.putBlob(Buffer.from('orphan'), { lease }));
    const lease = store.leases.acquire('load');
    const held = await store.putBlob(Buffer.from('held'), { lease });
    const first = await collectGarbage(store);
    expect(first.blobs).toBe(1);
    expect(store.content.has(orphan.digest)).toBe(false);
    expect(store.content.has(held.digest)).toBe(true);
    expect(store.content.has(b.configDigest)).toBe(true);
    const all = await collectGarbage(store, { all: true });
    expect(all.images).toEqual([b.configDigest]);
    expect(store.content.has(b.configDigest)).toBe(false);
    expect(store.content.has(a.configDigest)).toBe(true);
    lease.release();
    expect((await collectGarbage(store)).blobs).toBe(1);
    const expected = new Set([a.manifestDigest, a.configDigest, ...a.layers.map((l) => l.digest)]);
    expect(new Set(store.content.listSync())).toEqual(expected);
  });

  it('cleans the temporary files of dead processes when opened', async () => {
    const tmp = join(t.root, 'tmp');
    mkdirSync(join(tmp, 'image-999999999.5-x'), { recursive: true });
    writeFileSync(join(tmp, 'image-999999999.5-x', 'blob'), 'x');
    const { closeDatabases } = await import('../../../metadata/index.js');
    closeDatabases();
    const reopened = openImageStore(t.root);
    expect(reopened.content.countTmp()).toBe(0);
  });
});
