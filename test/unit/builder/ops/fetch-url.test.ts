import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchUrl, urlFileName } from '../../../../builder/ops/fetch-url.js';
import { type Sandbox, sandbox } from './helpers.js';

let sb: Sandbox;
let server: Server;
let base: string;
const BODY = 'downloaded content\n';
const SHA = createHash('sha256').update(BODY).digest('hex');
const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

beforeEach(async () => {
  sb = sandbox();
  server = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/files/target.txt' });
      res.end();
    } else if (req.url === '/missing') {
      res.writeHead(404);
      res.end('no');
    } else if (req.url === '/undated' || req.url === '/bad-date') {
      res.writeHead(200, req.url === '/bad-date' ? { 'last-modified': 'not a date' } : {});
      res.end(BODY);
    } else if (req.url === '/disposition/') {
      res.writeHead(200, { 'content-disposition': 'attachment; filename="ignored.bin"' });
      res.end(BODY);
    } else {
      res.writeHead(200, { 'last-modified': LAST_MODIFIED, 'content-type': 'text/plain' });
      res.end(BODY);
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  sb.cleanup();
});

describe('ADD URL download', () => {
  it('names the file after the last path element, mode 0600, mtime from Last-Modified', async () => {
    const got = await fetchUrl(`${base}/dir/app.tar.gz?x=1`, { dir: sb.base });
    expect(got.name).toBe('app.tar.gz');
    expect(readFileSync(got.path, 'utf8')).toBe(BODY);
    expect(lstatSync(got.path).mode & 0o777).toBe(0o600);
    expect(got.mtime.toISOString()).toBe(new Date(LAST_MODIFIED).toISOString());
    expect(got.digest).toBe(`sha256:${SHA}`);
  });

  it('a response without a usable Last-Modified gives mtime 0 (the Unix epoch), as BuildKit', async () => {
    for (const path of ['/undated', '/bad-date']) {
      const got = await fetchUrl(`${base}${path}`, { dir: sb.base });
      expect(got.mtime.getTime(), path).toBe(0);
    }
  });

  it('follows redirects and keeps the name of the URL as written', async () => {
    const got = await fetchUrl(`${base}/redirect`, { dir: sb.base });
    expect(got.name).toBe('redirect');
    expect(readFileSync(got.path, 'utf8')).toBe(BODY);
  });

  it('Content-Disposition is not consulted; a URL without a path element gives __unnamed__, as BuildKit', async () => {
    const got = await fetchUrl(`${base}/disposition/`, { dir: sb.base });
    expect(got.name).toBe('disposition');
    expect(urlFileName(`${base}/`)).toBe('__unnamed__');
    expect(urlFileName('http://example.com')).toBe('__unnamed__');
    expect(urlFileName('http://example.com/a%20b')).toBe('a b');
  });

  it('a matching --checksum passes', async () => {
    const got = await fetchUrl(`${base}/f`, { dir: sb.base, checksum: `sha256:${SHA}` });
    expect(readFileSync(got.path, 'utf8')).toBe(BODY);
    const sha512 = createHash('sha512').update(BODY).digest('hex');
    await fetchUrl(`${base}/g`, { dir: sb.base, checksum: `sha512:${sha512}` });
  });

  it('a mismatching --checksum fails and names the URL', async () => {
    const wrong = 'a'.repeat(64);
    await expect(fetchUrl(`${base}/f`, { dir: sb.base, checksum: `sha256:${wrong}` })).rejects.toMatchObject({
      code: 'TSB_COPY_CHECKSUM',
      message: `checksum mismatch for ${base}/f: expected sha256:${wrong}, got sha256:${SHA}`,
    });
  });

  it('a malformed --checksum fails before downloading', async () => {
    await expect(fetchUrl(`${base}/f`, { dir: sb.base, checksum: 'md5:abc' })).rejects.toMatchObject({
      code: 'TSB_COPY_CHECKSUM',
    });
  });

  it('an HTTP error status fails and names the URL', async () => {
    await expect(fetchUrl(`${base}/missing`, { dir: sb.base })).rejects.toMatchObject({
      code: 'TSB_COPY_URL',
      message: `failed to fetch ${base}/missing: invalid response status 404`,
    });
  });

  it('an unreachable host and a bad scheme fail with TSB_COPY_URL', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    await expect(fetchUrl(`http://127.0.0.1:${port}/x`, { dir: sb.base })).rejects.toThrow(
      `failed to fetch http://127.0.0.1:${port}/x: ECONNREFUSED`,
    );
    await expect(fetchUrl('ftp://example.com/x', { dir: sb.base })).rejects.toMatchObject({ code: 'TSB_COPY_URL' });
  });
});
