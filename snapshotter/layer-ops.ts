/**
 * The snapshotter's layer operations, loaded on first use: they bring the tar
 * reader and writer, compression and hashing workers, which a command that only
 * mounts snapshots (a cached build, `run`) never needs.
 */
import type * as Apply from './apply-layer.js';
import type * as Export from './export-flattened.js';
import type * as Squash from './squash.js';
import type * as Tar from './tar-directory.js';
import type * as Write from './write-layer.js';

export async function applyLayer(...a: Parameters<typeof Apply.applyLayer>): ReturnType<typeof Apply.applyLayer> {
  return (await import('./apply-layer.js')).applyLayer(...a);
}

export async function exportFlattened(
  ...a: Parameters<typeof Export.exportFlattened>
): ReturnType<typeof Export.exportFlattened> {
  return (await import('./export-flattened.js')).exportFlattened(...a);
}

export async function squash(...a: Parameters<typeof Squash.squash>): ReturnType<typeof Squash.squash> {
  return (await import('./squash.js')).squash(...a);
}

export async function tarDirectory(
  ...a: Parameters<typeof Tar.tarDirectory>
): Promise<Awaited<ReturnType<typeof Tar.tarDirectory>>> {
  return (await import('./tar-directory.js')).tarDirectory(...a);
}

export async function writeLayer(...a: Parameters<typeof Write.writeLayer>): ReturnType<typeof Write.writeLayer> {
  return (await import('./write-layer.js')).writeLayer(...a);
}
