import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../../image/digest.js';
import { ContentStore } from '../../../image/store/content-store.js';
import { ownerToken } from '../../../metadata/index.js';
import { tempRoot } from './_fixtures.js';

const DIST = new URL('../../../dist/image/store/content-store.js', import.meta.url);

describe('content store', () => {
  let t: ReturnType<typeof tempRoot>;
  let store: ContentStore;
  beforeEach(() => {
    t = tempRoot();
    store = new ContentStore(t.root);
    store.ensureDirs();
  });
  afterEach(() => t.done());

  it('writes a blob under blobs/sha256 and reads it back verified', async () => {
    const data = Buffer.from('hello');
    const blob = await store.ingest(data, { expected: { digest: sha256(data), size: 5 } });
    expect(blob.digest).toBe(sha256(data));
    expect(readFileSync(store.path(blob.digest), 'utf8')).toBe('hello');
    expect((await store.read(blob.digest)).toString()).toBe('hello');
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });

  it('refuses a digest or size mismatch and leaves nothing behind', async () => {
    const data = Buffer.from('hello');
    await expect(store.ingest(data, { expected: { digest: sha256('other') } })).rejects.toMatchObject({
      code: 'TSB_IMAGE_DIGEST_MISMATCH',
    });
    await expect(store.ingest(data, { expected: { digest: sha256(data), size: 4 } })).rejects.toMatchObject({
      code: 'TSB_IMAGE_SIZE_MISMATCH',
    });
    expect(store.listSync()).toEqual([]);
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });

  it('detects a blob corrupted on disk', async () => {
    const blob = await store.ingest(Buffer.from('{"a":1}'));
    writeFileSync(store.path(blob.digest), '{"a":2}');
    await expect(store.read(blob.digest)).rejects.toMatchObject({ code: 'TSB_IMAGE_DIGEST_MISMATCH' });
  });

  it('hashes the gunzipped content of gzip data (a diff ID), in small chunks too', async () => {
    const plain = Buffer.alloc(300_000, 'x');
    const gz = gzipSync(plain);
    const chunks = [gz.subarray(0, 1), gz.subarray(1, 2), gz.subarray(2)];
    const staged = await store.stage(Readable.from(chunks), { diffId: true });
    expect(staged.gzip).toBe(true);
    expect(staged.diffId).toBe(sha256(plain));
    expect(staged.digest).toBe(sha256(gz));
    const bad = await store.stage(gz.subarray(0, gz.length - 20), { diffId: true });
    expect(bad.diffError).toBeDefined();
    const notGzip = await store.stage(plain, { diffId: true });
    expect(notGzip.gzip).toBe(false);
    expect(notGzip.diffId).toBeUndefined();
  });

  it('keeps small documents in memory', async () => {
    const staged = await store.stage(Buffer.from('{"x":1}'), { keep: 1024 });
    expect(staged.head?.toString()).toBe('{"x":1}');
    const big = await store.stage(Buffer.alloc(4096), { keep: 1024 });
    expect(big.head).toBeUndefined();
  });

  it('removes only the temporary files of dead processes', () => {
    mkdirSync(store.tmpDir, { recursive: true });
    const dead = join(store.tmpDir, 'image-999999999.1-abc');
    const live = join(store.tmpDir, `image-${ownerToken()}-def`);
    const foreign = join(store.tmpDir, 'snapshots');
    writeFileSync(dead, 'x');
    writeFileSync(live, 'x');
    mkdirSync(foreign);
    expect(store.cleanupTmp()).toBe(1);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
  });

  it('ingests the same blob from two processes at once', async () => {
    if (!existsSync(DIST)) throw new Error('dist/ is missing: run npm run build before this test');
    const size = 8 * 1024 * 1024;
    const script = `
      const { ContentStore } = await import(${JSON.stringify(DIST.href)});
      const { Readable } = await import('node:stream');
      const store = new ContentStore(process.argv[1]);
      const chunk = Buffer.alloc(65536, 7);
      const n = ${size / 65536};
      const src = Readable.from((function* () { for (let i = 0; i < n; i++) yield chunk; })());
      const b = await store.ingest(src);
      process.stdout.write(b.digest);
    `;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, t.root], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
      });
    const [a, b] = await Promise.all([run(), run()]);
    const expected = sha256(Buffer.alloc(size, 7));
    expect(a).toBe(expected);
    expect(b).toBe(expected);
    expect(store.listSync()).toEqual([expected]);
    expect(store.size(expected)).toBe(size);
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });
});
