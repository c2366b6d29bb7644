export { type ApplyLayerOptions, applyLayer } from './apply-layer.js';
export { LayerError, SnapshotError } from './errors.js';
export { compactOverlayOptions, mountAll, unmountAll } from './mount.js';
export { NaiveSnapshotter } from './naive.js';
export { type OpenSnapshotterOptions, openSnapshotter, probeOverlay } from './open-snapshotter.js';
export { OverlaySnapshotter } from './overlay.js';
export { tarDirectory } from './tar-directory.js';
export type { Mount, SnapshotDriver, SnapshotInfo, SnapshotKind, Snapshotter, Usage } from './types.js';
