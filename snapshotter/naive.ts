import { exec } from './_fs.js';
import { SnapshotError } from './errors.js';
import type { SnapshotPaths } from './snapshot-store.js';
import { SnapshotStore } from './snapshot-store.js';
import type { Mount, SnapshotKind } from './types.js';

/**
 * The copy-based driver, for when overlay is unavailable: an active snapshot is a
 * full copy of its parent (cp -a: modes, owners, times, xattrs, hardlinks, devices).
 * A view binds its parent read-only, without copying.
 */
export class NaiveSnapshotter extends SnapshotStore {
  readonly driver = 'naive' as const;

  protected async populate(stageFs: string, kind: SnapshotKind, parent: SnapshotPaths | undefined): Promise<void> {
    if (!parent || kind === 'view') return;
    try {
      await exec('cp', ['-a', '--', `${parent.fs}/.`, stageFs]);
    } catch (err) {
      throw new SnapshotError('TSB_SNAPSHOT_INVALID', `cannot copy parent ${parent.fs}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  protected mountsOf(p: SnapshotPaths): Mount[] {
    if (p.kind === 'view') {
      return [{ type: 'bind', source: p.lowers[0] ?? p.fs, options: ['rbind', 'ro'] }];
    }
    return [{ type: 'bind', source: p.fs, options: ['rbind', 'rw'] }];
  }
}
