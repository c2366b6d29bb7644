import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../image/gc.js';
import { type ImageStore, openImageStore } from '../../../image/store/image-store.js';
import { unpackImage } from '../../../image/unpack.js';
import { openSnapshotter, type Snapshotter } from '../../../snapshotter/index.js';
import { makeImage, makeLayer, type SyntheticImage, tempRoot } from './_fixtures.js';

async function put(store: ImageStore, img: SyntheticImage, names: string[] = []) {
  return store.withLease('test', async (lease) => {
    for (const l of img.layers) await store.putBlob(l.blob, { lease });
    await store.putBlob(img.config, { lease });
    return store.addImage({ manifest: img.manifest, names, lease });
  });
}

async function names(sn: Snapshotter): Promise<string[]> {
  const out: string[] = [];
  await sn.walk((s) => {
    out.push(s.name);
  });
  return out.sort();
}

describe('unpacking images into snapshots (naive driver)', () => {
  let t: ReturnType<typeof tempRoot>;
  let store: ImageStore;
  let sn: Snapshotter;
  let img: SyntheticImage;
  beforeEach(async () => {
    t = tempRoot();
    store = openImageStore(t.root);
    sn = await openSnapshotter(t.root, { driver: 'naive' });
    img = makeImage([
      await makeLayer([
        { name: 'a', data: 'one' },
        { name: 'b', data: 'two' },
      ]),
      await makeLayer([{ name: '.wh.b' }, { name: 'c', data: 'three' }], true),
    ]);
  });
  afterEach(() => t.done());

  it('applies each layer once, as a snapshot named by its chain ID', async () => {
    const rec = await put(store, img, ['x:1']);
    const layers = store.layers(rec);
    const top = await unpackImage(store, rec, sn);
    expect(top).toBe(layers[1]?.chainId);
    expect(await names(sn)).toEqual(layers.map((l) => l.chainId).sort());
    const mounts = await sn.view('check', top);
    const dir = mounts[0]?.source as string;
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('one');
    expect(readFileSync(join(dir, 'c'), 'utf8')).toBe('three');
    expect(existsSync(join(dir, 'b'))).toBe(false);
    await sn.remove('check');
    expect(await unpackImage(store, rec, sn)).toBe(top);
    expect(await names(sn)).toHaveLength(2);
  });

  it('refuses a layer whose content does not match its diff ID', async () => {
    const config = JSON.parse(img.config.toString());
    config.rootfs.diff_ids[1] = `sha256:${'0'.repeat(64)}`;
    const bad = makeImage(img.layers);
    const bytes = Buffer.from(JSON.stringify(config));
    const { sha256 } = await import('../../../image/digest.js');
    const manifest = JSON.parse(bad.manifest.toString());
    manifest.config = { ...manifest.config, digest: sha256(bytes), size: bytes.length };
    const rec = await store.withLease('t', async (lease) => {
      for (const l of img.layers) await store.putBlob(l.blob, { lease });
      await store.putBlob(bytes, { lease });
      return store.addImage({ manifest: Buffer.from(JSON.stringify(manifest)), lease });
    });
    await expect(unpackImage(store, rec, sn)).rejects.toMatchObject({ code: 'TSB_IMAGE_DIGEST_MISMATCH' });
    expect(await names(sn)).toEqual([store.layers(rec)[0]?.chainId]);
  });

  it('garbage collection removes the snapshots of deleted images, keeping leased ones', async () => {
    const rec = await put(store, img, ['x:1']);
    const other = makeImage([img.layers[0]!]);
    const kept = await put(store, other, ['y:1']);
    await unpackImage(store, rec, sn);
    await unpackImage(store, kept, sn);
    store.remove('x:1');
    const lease = store.leases.acquire('container');
    lease.add('snapshot', 'scratch');
    await sn.prepare('scratch', store.layers(kept)[0]?.chainId);
    await sn.prepare('orphan');
    const result = await collectGarbage(store, { snapshotter: sn });
    expect(result.snapshots).toBe(2);
    expect(await names(sn)).toEqual([store.layers(kept)[0]?.chainId, 'scratch'].sort());
    lease.release();
    await collectGarbage(store, { snapshotter: sn });
    expect(await names(sn)).toEqual([store.layers(kept)[0]?.chainId]);
  });
});
