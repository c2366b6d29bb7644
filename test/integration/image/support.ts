import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { CLI, tsbuild } from '../../helpers/cli.js';

/** A store root (and a scratch dir) for one test, removed by `done()`. */
export function tempRoot(): { root: string; dir: string; done: () => void } {
  const dir = mkdtempSync('/var/tmp/tsb-image-it-');
  return { root: join(dir, 'root'), dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the built CLI on a root; throws with stderr when it fails. */
export function tsb(root: string, args: string[], options: { input?: string; allowFail?: boolean } = {}) {
  const r = tsbuild(['--root', root, ...args], { input: options.input, timeout: 300_000 });
  if (!options.allowFail && r.status !== 0) {
    throw new Error(`tsbuild ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  }
  return r;
}

export function docker(args: string[], options: { allowFail?: boolean } = {}): string {
  try {
    return execFileSync('/usr/bin/docker', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  } catch (err) {
    if (options.allowFail) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** A unique repository name for images this test puts into dockerd. */
export function uniqueName(): string {
  return `tsbuild-itest-${randomBytes(4).toString('hex')}`;
}

export interface TarEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  sha256: string;
}

/** Every entry of a tar file (gzip detected), with a digest of its content, by normalised path. */
export async function readTarEntries(file: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const head = Buffer.alloc(2);
  const fd = (await import('node:fs')).openSync(file, 'r');
  (await import('node:fs')).readSync(fd, head, 0, 2, 0);
  (await import('node:fs')).closeSync(fd);
  const ex = extract();
  const src = createReadStream(file);
  (head[0] === 0x1f && head[1] === 0x8b ? src.pipe(createGunzip()) : src).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) {
    const hash = createHash('sha256');
    for await (const chunk of entry) hash.update(chunk as Uint8Array);
    const h = entry.header;
    const name = h.name.replace(/^\.?\//, '').replace(/\/$/, '');
    if (name === '' || name === '.') continue;
    entries.set(name, {
      type: h.type,
      mode: h.mode & 0o7777,
      uid: h.uid,
      gid: h.gid,
      size: h.size,
      linkname: h.linkname ?? '',
      sha256: hash.digest('hex'),
    });
  }
  return entries;
}

/** What a store holds on disk: blobs, the image module's tmp entries, snapshot dirs. */
export function storeCounts(root: string): { blobs: number; tmp: number; snapshots: number } {
  const list = (p: string) => {
    try {
      return readdirSync(p);
    } catch {
      return [];
    }
  };
  return {
    blobs: list(join(root, 'blobs', 'sha256')).length,
    tmp:
      list(join(root, 'tmp')).filter((n) => n.startsWith('image-')).length +
      list(join(root, 'tmp', 'snapshots')).length,
    snapshots: list(join(root, 'snapshots')).length,
  };
}

/** Reads a small tar whole: name → content (directories left out). */
export async function readTarFiles(file: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = extract();
  createReadStream(file).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(Buffer.from(c as Uint8Array));
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(parts));
  }
  return files;
}

/** Writes files (in order) as a tar. */
export async function writeTarFiles(file: string, files: Iterable<[string, Buffer]>): Promise<void> {
  const { pack } = await import('tar-stream');
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const { Readable } = await import('node:stream');
  const p = pack();
  const done = pipeline(Readable.from(p), createWriteStream(file));
  for (const [name, data] of files) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
  p.finalize();
  await done;
}

/** Runs the built CLI with bytes in and bytes out (pipes). */
export function tsbBytes(
  root: string,
  args: string[],
  input?: Buffer,
): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, '--root', root, ...args], {
    input,
    maxBuffer: 512 * 1024 * 1024,
    timeout: 300_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}
