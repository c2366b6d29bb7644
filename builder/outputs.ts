import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import type { ImageRecord, ImageStore } from '../image/index.js';
import { mountAll, unmountAll } from '../snapshotter/index.js';
import { BuildContext } from './context/index.js';
import type { BuildOutput } from './types.js';

const TYPES = ['docker', 'oci', 'tar', 'local'] as const;

/**
 * Parses an `-o`/`--output` value as Docker does: `type=oci,dest=out.tar`, or a
 * bare path (`-o out` = `type=local,dest=out`; `-o -` = a tar of the rootfs on stdout).
 */
export function parseOutput(spec: string): BuildOutput {
  if (!spec.includes('=')) {
    return spec === '-' ? { type: 'tar', dest: '-' } : { type: 'local', dest: spec };
  }
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new UsageError(`invalid --output ${JSON.stringify(spec)}: ${JSON.stringify(part)} is not key=value`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const type = fields.get('type');
  if (type === undefined) throw new UsageError(`invalid --output ${JSON.stringify(spec)}: type is required`);
  if (!(TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`invalid --output ${JSON.stringify(spec)}: type must be one of ${TYPES.join(', ')}`);
  }
  const dest = fields.get('dest');
  if (dest === undefined || dest === '') {
    throw new UsageError(`invalid --output ${JSON.stringify(spec)}: dest is required for type=${type}`);
  }
  for (const k of fields.keys()) {
    if (k !== 'type' && k !== 'dest')
      throw new UsageError(`invalid --output ${JSON.stringify(spec)}: unknown key ${k}`);
  }
  if (type === 'local' && dest === '-') throw new UsageError('invalid --output: type=local needs a directory, not -');
  return { type: type as BuildOutput['type'], dest };
}

/**
 * Writes the built image to an output: a docker-archive (`docker load`-able), an
 * OCI layout tar, a tar of the flattened rootfs, or the rootfs as a directory.
 * Files are written to a temporary name and renamed, so a failed export leaves
 * nothing half-written; `-` writes the tar to `stdout`.
 */
export async function writeOutput(
  store: ImageStore,
  image: ImageRecord,
  output: BuildOutput,
  o: { stdout?: Writable; signal?: AbortSignal; tmp: string; mnt: string },
): Promise<void> {
  if (output.type === 'local') return writeLocal(store, image, resolve(output.dest), o);
  const write = async (out: Writable) => {
    const archive = await import('../image/index.js');
    if (output.type === 'tar') {
      await archive.exportRootfs(store, image, await store.snapshotter(), out, { signal: o.signal });
    } else {
      await archive.saveArchive(store, [image.id], out, {
        format: output.type === 'oci' ? 'oci' : 'docker',
        signal: o.signal,
      });
    }
  };
  if (output.dest === '-') {
    if (!o.stdout) throw new UsageError('--output dest=- needs a standard output');
    return write(o.stdout);
  }
  const dest = resolve(output.dest);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.tsbuild-${randomBytes(4).toString('hex')}`;
  try {
    const out = createWriteStream(tmp, { mode: 0o644 });
    await write(out);
    await finished(out).catch(() => undefined);
    renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The rootfs as a directory: a view of the image copied with owners and modes kept. */
async function writeLocal(
  store: ImageStore,
  image: ImageRecord,
  dest: string,
  o: { signal?: AbortSignal; mnt: string },
): Promise<void> {
  const sn = await store.snapshotter();
  const top = await store.unpack(image, { snapshotter: sn, signal: o.signal });
  mkdirSync(dest, { recursive: true });
  const { copyInto } = await import('./ops/copy-into.js');
  if (top === undefined) return;
  const key = `build-${process.pid}-${randomBytes(6).toString('hex')}-output`;
  const dir = join(o.mnt, `output-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const mounts = await sn.view(key, top);
  try {
    await mountAll(mounts, dir);
    try {
      const sources = await new BuildContext(dir, { preserveOwnership: true }).select(['.']);
      await copyInto({
        root: dest,
        items: sources.map((source) => ({ kind: 'selected', source, preserveOwnership: true })),
        dest: '/',
        workdir: '/',
        unpack: false,
        instruction: 'COPY',
        signal: o.signal,
      });
    } finally {
      await unmountAll(dir);
    }
  } finally {
    await sn.remove(key).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
