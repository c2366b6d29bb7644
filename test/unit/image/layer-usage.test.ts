import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { layerUsage, tarUsage } from '../../../image/store/layer-usage.js';
import { makeTar, tempRoot } from './_fixtures.js';

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

describe("a layer's size as Docker counts it", () => {
  let t: ReturnType<typeof tempRoot>;
  beforeEach(() => {
    t = tempRoot();
  });
  afterEach(() => t.done());

  const files = [
    { name: 'bin', type: 'directory' as const },
    { name: 'bin/busybox', data: 'x'.repeat(1000) },
    { name: 'bin/sh', type: 'symlink' as const, linkname: 'busybox' },
    { name: 'bin/hard', type: 'link' as const, linkname: 'bin/busybox' },
    { name: 'etc/.wh.gone', data: '' },
    { name: 'etc/.wh..wh..opq', data: '' },
    { name: 'empty', data: '' },
    { name: 'twice', data: 'aaaa' },
    { name: './twice', data: 'bb' },
  ];

  it('counts regular files once, symlinks by target length, and no directories, hard links or whiteouts', async () => {
    // 1000 (busybox) + 7 ("busybox") + 2 (the later "twice")
    expect(await tarUsage(once(await makeTar(files)))).toBe(1009);
  });

  it('reads a gzip layer blob as well as a plain tar', async () => {
    const tar = await makeTar(files);
    writeFileSync(join(t.root, 'plain'), tar);
    writeFileSync(join(t.root, 'gz'), gzipSync(tar));
    expect(await layerUsage(join(t.root, 'plain'))).toBe(1009);
    expect(await layerUsage(join(t.root, 'gz'))).toBe(1009);
    writeFileSync(join(t.root, 'zstd'), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]));
    expect(await layerUsage(join(t.root, 'zstd'))).toBeUndefined();
  });
});
