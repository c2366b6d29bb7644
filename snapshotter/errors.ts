import { TsbuildError, type TsbuildErrorOptions } from '../errors.js';

/**
 * Snapshot faults. Codes:
 * - `TSB_SNAPSHOT_NOT_FOUND`: no snapshot has that key or name
 * - `TSB_SNAPSHOT_EXISTS`: the key or name is taken
 * - `TSB_SNAPSHOT_INVALID`: wrong kind for the operation (a parent that is not committed, committing a view, …)
 * - `TSB_SNAPSHOT_IN_USE`: removal of a snapshot that has children
 * - `TSB_SNAPSHOT_DRIVER`: the requested driver cannot work here (overlay without root or kernel support)
 * - `TSB_SNAPSHOT_NATIVE`: the snapshotter's native helper (xattrs, mknod) is not built
 * - `TSB_MOUNT`: mount(8) or umount(8) failed
 */
export class SnapshotError extends TsbuildError {
  constructor(code: string, message: string, options?: TsbuildErrorOptions) {
    super(code, message, options);
  }
}

/**
 * Layer (tar) faults while applying or writing. Codes:
 * - `TSB_LAYER_BREAKOUT`: an entry (name, symlink, hardlink or whiteout) would reach outside the root
 * - `TSB_LAYER_CORRUPT`: the archive is not a valid tar (bad checksum, truncated, bad compression)
 * - `TSB_LAYER_UNSUPPORTED`: an entry type or compression tsbuild does not read
 * - `TSB_LAYER_INVALID`: a well-formed entry that cannot be applied (parent is a file, missing hardlink target, …)
 * - `TSB_LAYER_LIMIT`: a size, entry-count, depth or path-length cap was exceeded
 * - `TSB_LAYER_DIGEST`: the uncompressed content does not match the expected diff ID
 * - `TSB_LAYER_HASH`: a layer's hash thread failed, or its digest was used after dispose
 * - `TSB_ABORTED`: the operation's AbortSignal fired
 */
export class LayerError extends TsbuildError {
  constructor(code: string, message: string, options?: TsbuildErrorOptions) {
    super(code, message, options);
  }
}

export function abortError(signal: AbortSignal): LayerError {
  return new LayerError('TSB_ABORTED', 'the layer operation was aborted', { cause: signal.reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
