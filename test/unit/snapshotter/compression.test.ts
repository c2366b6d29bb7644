import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressed, LayerSink } from '../../../snapshotter/compression.js';

async function compress(chunks: Buffer[], compression: 'gzip' | 'none' = 'gzip') {
  const parts: Buffer[] = [];
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      parts.push(c);
      cb();
    },
  });
  const sink = new LayerSink(out, compression);
  for (const c of chunks) await sink.write(c);
  const r = await sink.end();
  return { ...r, blob: Buffer.concat(parts) };
}

describe('parallel gzip', () => {
  it('produces one standard gzip member across many blocks', async () => {
    const text = Buffer.from('tsbuild layer '.repeat(400_000));
    const noise = randomBytes(3 << 20);
    const input = Buffer.concat([text, noise, text]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += 300_000) chunks.push(input.subarray(i, i + 300_000));
    const r = await compress(chunks);
    expect(gunzipSync(r.blob).equals(input)).toBe(true);
    expect(r.size).toBe(r.blob.length);
    expect(r.blob.length).toBeLessThan(input.length);
    const again = await compress(chunks);
    expect(again.digest).toBe(r.digest);
    expect(r.diffId).not.toBe(r.digest);
  });

  it('handles empty input and no compression', async () => {
    const empty = await compress([]);
    expect(gunzipSync(empty.blob).length).toBe(0);
    const plain = await compress([Buffer.from('abc')], 'none');
    expect(plain.diffId).toBe(plain.digest);
    expect(plain.blob.toString()).toBe('abc');
  });
});

describe('decompressed', () => {
  const collect = async (it: AsyncIterable<Buffer>) => {
    const parts: Buffer[] = [];
    for await (const c of it) parts.push(c);
    return Buffer.concat(parts);
  };
  it('detects gzip by magic and passes plain data through', async () => {
    const data = Buffer.from('x'.repeat(10_000));
    expect((await collect(decompressed(Readable.from([gzipSync(data)])))).equals(data)).toBe(true);
    expect((await collect(decompressed(Readable.from([data.subarray(0, 2), data.subarray(2)])))).equals(data)).toBe(
      true,
    );
  });
  it('reports corrupt gzip as a layer error', async () => {
    const bad = gzipSync(Buffer.alloc(100_000)).subarray(0, 50);
    await expect(collect(decompressed(Readable.from([bad])))).rejects.toMatchObject({ code: 'TSB_LAYER_CORRUPT' });
  });
  it('stops reading its source when the consumer stops', async () => {
    const src = new PassThrough();
    src.write(gzipSync(Buffer.alloc(1 << 20)));
    const it = decompressed(src)[Symbol.asyncIterator]();
    await it.next();
    await it.return?.(undefined);
    expect(src.destroyed).toBe(true);
  });
});

describe('incompressible', () => {
  it('tells random data from text and binaries', async () => {
    const { randomBytes: rnd } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const { incompressible } = await import('../../../snapshotter/compression.js');
    expect(incompressible(rnd(1 << 20))).toBe(true);
    expect(incompressible(Buffer.from('layer text '.repeat(100_000)))).toBe(false);
    expect(incompressible(readFileSync(process.execPath).subarray(0, 1 << 20))).toBe(false);
    expect(incompressible(Buffer.alloc(1000))).toBe(false);
  });
});

describe('stored blocks', () => {
  it('ends a random-only stream with a final stored block', async () => {
    const { randomBytes: rnd } = await import('node:crypto');
    const input = rnd((2 << 20) + 12345);
    const r = await compress([input]);
    expect(gunzipSync(r.blob).equals(input)).toBe(true);
    expect(r.blob.length).toBeLessThan(input.length + 1024);
  });
});
