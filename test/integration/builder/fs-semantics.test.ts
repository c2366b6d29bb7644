import { createReadStream, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImageStore } from '../../../image/index.js';
import { closeDatabases } from '../../../metadata/index.js';
import { fsOps, type TarHeader, TarReader } from '../../../snapshotter/index.js';
import { makeTar } from '../../unit/snapshotter/helpers.js';
import { buildCollecting, makeBuilderStore, makeContext } from './support.js';

/**
 * File-system results of COPY and ADD that the conformance suite's rootfs
 * comparison does not see (xattrs in layers, mtimes), checked against what
 * `docker build` (BuildKit) writes.
 */

/** security.capability v2 (cap_net_raw). */
const CAP = Buffer.from('0000000201200000000000000000000000000000', 'hex');

let dir = '';
let root = '';
let server: Server;
let base = '';

beforeAll(async () => {
  ({ dir, root } = await makeBuilderStore('tsb-fs-semantics-'));
  server = createServer((req, res) => {
    if (req.url === '/dated.txt') res.writeHead(200, { 'last-modified': 'Tue, 07 Jun 2005 08:09:10 GMT' });
    else res.writeHead(200);
    res.end('payload\n');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  closeDatabases();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The entries of an image's layer, `back` from the last (1: the last one), from the store. */
async function layerEntries(tag: string, back: number): Promise<Map<string, TarHeader>> {
  const store = openImageStore(root);
  const { image } = store.resolve(tag);
  const layers = store.layers(image);
  const layer = layers[layers.length - back];
  if (!layer) throw new Error(`${tag} has no layer ${back} from the last`);
  const blob = createReadStream(store.content.path(layer.digest));
  const reader = new TarReader(layer.mediaType.endsWith('+gzip') ? blob.pipe(createGunzip()) : blob);
  const out = new Map<string, TarHeader>();
  for (let h = await reader.next(); h; h = await reader.next()) out.set(h.name, h);
  return out;
}

describe('COPY and ADD results as docker build writes them', () => {
  it('layers carry security.capability and no other xattr (user.*, trusted.*), from ADD archives and COPY alike', async () => {
    const ctx = makeContext(dir, { Dockerfile: 'FROM tsbuild-busybox\nADD x.tar /t/\nCOPY plain capbin /c/\n' });
    writeFileSync(
      join(ctx, 'x.tar'),
      makeTar([
        {
          name: 'capbin',
          data: 'c',
          xattrs: new Map([
            ['security.capability', CAP],
            ['user.other', Buffer.from('o')],
          ]),
        },
        {
          name: 'f',
          data: 'v',
          xattrs: new Map([
            ['user.test', Buffer.from('hello')],
            ['trusted.t', Buffer.from('x')],
          ]),
        },
      ]),
    );
    writeFileSync(join(ctx, 'plain'), 'p');
    writeFileSync(join(ctx, 'capbin'), 'c');
    fsOps().setXattr(join(ctx, 'plain'), 'user.origin', Buffer.from('https://example.com/'));
    fsOps().setXattr(join(ctx, 'capbin'), 'security.capability', CAP);
    await buildCollecting({ context: ctx, root, tags: ['fs-xattrs:1'] });

    const added = await layerEntries('fs-xattrs:1', 2);
    expect([...(added.get('t/capbin')?.xattrs.keys() ?? [])]).toEqual(['security.capability']);
    expect(added.get('t/capbin')?.xattrs.get('security.capability')).toEqual(CAP);
    expect(added.get('t/f')?.xattrs.size).toBe(0);
    const copied = await layerEntries('fs-xattrs:1', 1);
    expect(copied.get('c/plain')?.xattrs.size).toBe(0);
    expect([...(copied.get('c/capbin')?.xattrs.keys() ?? [])]).toEqual(['security.capability']);
  });

  it('ADD of a URL takes its mtime from Last-Modified, else 0 (the epoch), mode 0600 or --chmod', async () => {
    const ctx = makeContext(dir, {
      Dockerfile: `FROM tsbuild-busybox\nADD ${base}/dated.txt ${base}/undated.txt /u/\nADD --chmod=755 ${base}/undated.txt /u/run\n`,
    });
    await buildCollecting({ context: ctx, root, tags: ['fs-url:1'], noCache: true });
    const first = await layerEntries('fs-url:1', 2);
    expect(first.get('u/dated.txt')?.mtime).toBe(Date.UTC(2005, 5, 7, 8, 9, 10) / 1000);
    expect(first.get('u/undated.txt')?.mtime).toBe(0);
    expect(first.get('u/undated.txt')?.mode).toBe(0o600);
    // Current BuildKit applies --chmod to a downloaded file (dockerd 20.10's 0.8 left it 0600: moby/buildkit#2114).
    expect((await layerEntries('fs-url:1', 1)).get('u/run')?.mode).toBe(0o755);
  });
});
