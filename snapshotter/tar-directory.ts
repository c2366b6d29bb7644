import type { Writable } from 'node:stream';
import { type Compression, finishOutput, LayerSink } from './compression.js';
import { END_OF_ARCHIVE } from './tar/header.js';
import { TreeWriter } from './tree-writer.js';

/**
 * A whole directory tree as a layer (`tsbuild import`): every entry below `dir`,
 * sorted, with the root itself left out. `out` is ended when done.
 */
export async function tarDirectory(
  dir: string,
  out: Writable,
  o: { compression?: Compression; level?: number; signal?: AbortSignal } = {},
): Promise<{ diffId: string; digest: string; size: number }> {
  const sink = new LayerSink(out, o.compression ?? 'gzip', o.level, o.signal);
  const writer = new TreeWriter(sink, o.signal);
  try {
    await writer.addTree(dir);
    await sink.write(END_OF_ARCHIVE);
  } catch (err) {
    sink.dispose();
    throw err;
  }
  const result = await sink.end();
  await finishOutput(out);
  return result;
}
