import { mkdirSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { removeTree } from './_fs.js';
import { asStore } from './_store.js';
import { finishOutput, LayerSink } from './compression.js';
import { mountAll, unmountAll } from './mount.js';
import { END_OF_ARCHIVE } from './tar/header.js';
import { TreeWriter } from './tree-writer.js';
import type { Snapshotter } from './types.js';

/**
 * The merged root filesystem of committed snapshot `name` as one plain tar
 * (`tsbuild export`), written to `out` (which is ended). An overlay chain is
 * mounted read-only in the store's tmp dir for the walk and always unmounted.
 */
export async function exportFlattened(
  sn: Snapshotter,
  name: string,
  out: Writable,
  o: { signal?: AbortSignal } = {},
): Promise<{ digest: string; size: number }> {
  const store = asStore(sn);
  const mounts = store.viewMounts(name);
  const sink = new LayerSink(out, 'none', undefined, o.signal);
  const writer = new TreeWriter(sink, o.signal);
  const only = mounts[0];
  try {
    if (mounts.length === 1 && only?.type === 'bind') {
      await writer.addTree(only.source);
    } else {
      const target = store.stagingPath('mnt-');
      mkdirSync(target, { mode: 0o700 });
      try {
        await mountAll(mounts, target);
        try {
          await writer.addTree(target);
        } finally {
          await unmountAll(target);
        }
      } finally {
        await removeTree(target);
      }
    }
    await sink.write(END_OF_ARCHIVE);
  } catch (err) {
    sink.dispose();
    throw err;
  }
  const { digest, size } = await sink.end();
  await finishOutput(out);
  return { digest, size };
}
