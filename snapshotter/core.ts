/**
 * The snapshotter without its layer codecs (apply, diff, squash, export, tar):
 * open, prepare, view, commit, remove. For callers whose start-up time counts
 * (`tsbuild run` loads this instead of index.ts, which re-exports all of it).
 */
export { SnapshotError } from './errors.js';
export { type OpenSnapshotterOptions, openSnapshotter } from './open-snapshotter.js';
export { OWNER_PID_LABEL, OWNER_START_LABEL, ownerAlive, ownerLabels } from './snapshot-store.js';
export type { Mount, SnapshotDriver, SnapshotInfo, SnapshotKind, Snapshotter, Usage } from './types.js';
