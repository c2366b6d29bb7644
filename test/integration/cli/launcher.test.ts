import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxFixture, requireCommand } from '../../helpers/prereqs.js';

// package.json's bin: the sh launcher that `npm install` links as `tsbuild`.
const BIN = fileURLToPath(new URL('../../../bin/tsbuild', import.meta.url));
const CACHE_DIR = fileURLToPath(new URL('../../../dist/bin/v8-cache', import.meta.url));

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking this process's event loop (the HTTPS server below answers from it). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('bin/tsbuild (the installed command)', () => {
  let dir: string;
  let cert: string;
  let server: Server;
  let url: string;
  const baseEnv = { ...process.env };
  delete baseEnv.NODE_EXTRA_CA_CERTS;
  delete baseEnv.TSBUILD_EXTRA_CA_CERTS;

  beforeAll(async () => {
    requireCommand('openssl', 'openssl');
    dir = mkdtempSync(join(tmpdir(), 'tsb-launcher-'));
    cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ]),
      { stdio: 'ignore' },
    );
    server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
      res.end('hello over tls\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hello.txt`;
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM scratch\nADD ${url} /hello.txt\n`);
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function buildWith(env: NodeJS.ProcessEnv, bin = BIN): Promise<{ r: Result; out: string }> {
    const out = mkdtempSync(join(dir, 'out-'));
    const r = await run(
      bin,
      ['--root', join(dir, 'root'), 'build', '--no-cache', '-o', `type=local,dest=${out}`, join(dir, 'ctx')],
      env,
    );
    return { r, out };
  }

  it('trusts the certificates of NODE_EXTRA_CA_CERTS for ADD over https, as Node would', async () => {
    const { r, out } = await buildWith({ ...baseEnv, NODE_EXTRA_CA_CERTS: cert });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, 'hello.txt'), 'utf8')).toBe('hello over tls\n');
  });

  it('refuses the server without them', async () => {
    const { r } = await buildWith(baseEnv);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`failed to fetch ${url}`);
    expect(r.stderr).toMatch(/SELF_SIGNED|self[- ]signed/i);
  });

  it('runs through a symlink, as npm links it, and hides the certificate variables from containers', async () => {
    const link = join(dir, 'tsbuild');
    symlinkSync(BIN, link);
    const { r, out } = await buildWith({ ...baseEnv, NODE_EXTRA_CA_CERTS: cert }, link);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(out, 'hello.txt'))).toBe(true);
    const env = await run(link, ['run', '--rm', busyboxFixture().rootfs, 'env'], {
      ...baseEnv,
      NODE_EXTRA_CA_CERTS: cert,
    });
    expect(env.status, env.stderr).toBe(0);
    expect(env.stdout).toContain('PATH=');
    expect(env.stdout).not.toContain('CA_CERTS');
  });

  it('leaves --env-file to tsbuild run (Node 20 would read it as its own option)', async () => {
    const envFile = join(dir, 'vars.env');
    writeFileSync(envFile, '# a comment\nFROM_FILE=yes\n');
    const rootfs = busyboxFixture().rootfs;
    const ok = await run(BIN, ['run', '--rm', '--env-file', envFile, rootfs, 'sh', '-c', 'echo $FROM_FILE'], baseEnv);
    expect([ok.status, ok.stdout, ok.stderr]).toEqual([0, 'yes\n', '']);
    const missing = join(dir, 'missing.env');
    const r = await run(BIN, ['run', '--rm', '--env-file', missing, rootfs, 'true'], baseEnv);
    expect([r.status, r.stderr]).toEqual([125, `error: open ${missing}: no such file or directory [TSB_USAGE]\n`]);
  });

  it('writes a code cache per command, grows it over its first runs, and recovers from a corrupt one', async () => {
    const root = join(dir, 'root');
    const info = () => run(BIN, ['--root', root, 'info'], baseEnv);
    const caches = () =>
      readdirSync(CACHE_DIR).filter((f) => f.startsWith('info-') && f.endsWith(`-${process.arch}.g${f.at(-5)}.bin`));
    const first = await info();
    expect(first.status, first.stderr).toBe(0);
    for (let i = 0; i < 3; i++) expect((await info()).stdout).toBe(first.stdout);
    // Three runs wrote it (generations 1-3); later runs only read it.
    expect(caches()).toEqual([expect.stringMatching(/\.g3\.bin$/)]);
    const file = join(CACHE_DIR, caches()[0] as string);
    const written = readFileSync(file);
    expect((await info()).status).toBe(0);
    expect(readFileSync(file).equals(written)).toBe(true);
    // V8 rejects garbage: the command still works and a fresh cache replaces it.
    writeFileSync(file, Buffer.alloc(4096, 0x5a));
    const again = await info();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(caches()).toEqual([expect.stringMatching(/\.g1\.bin$/)]);
  });
});
