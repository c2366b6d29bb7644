import { SnapshotError } from './errors.js';
import { SnapshotStore } from './snapshot-store.js';
import type { Snapshotter } from './types.js';

/** The store behind a Snapshotter from openSnapshotter (diff, apply and squash need its paths). */
export function asStore(sn: Snapshotter): SnapshotStore {
  if (!(sn instanceof SnapshotStore)) {
    throw new SnapshotError('TSB_SNAPSHOT_INVALID', 'this snapshotter was not opened by openSnapshotter');
  }
  return sn;
}
