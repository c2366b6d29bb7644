import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import { exportRootfs, type ImageRecord, type ImageStore, saveArchive } from '../image/index.js';
import { mountAll, unmountAll } from '../snapshotter/index.js';
import { BuildContext } from './context/index.js';
import { copyInto } from './ops/copy-into.js';
import type { BuildOutput } from './types.js';

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
  o: { stdout?: Writable; signal?: AbortSignal; mnt: string },
): Promise<void> {
  if (output.type === 'local') return writeLocal(store, image, resolve(output.dest), o);
  const write = async (out: Writable) => {
    if (output.type === 'tar') {
      await exportRootfs(store, image, await store.snapshotter(), out, { signal: o.signal });
    } else {
      await saveArchive(store, [image.id], out, {
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
