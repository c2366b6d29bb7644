import type { SnapshotPaths } from './snapshot-store.js';
import { SnapshotStore } from './snapshot-store.js';
import type { Mount, SnapshotKind } from './types.js';

/**
 * Options every overlay mount gets: no redirects or metacopy, so that an upper dir
 * is always a complete, plain diff that walkers can turn into a layer; no index.
 */
export const OVERLAY_OPTIONS = ['index=off', 'redirect_dir=off', 'metacopy=off'];

/**
 * The overlay driver: a committed snapshot's fs dir is a lowerdir for its
 * children; an active snapshot's fs dir is the upperdir. Whiteouts are char 0/0
 * devices and opaque dirs carry trusted.overlay.opaque=y, as the kernel writes them.
 */
export class OverlaySnapshotter extends SnapshotStore {
  readonly driver = 'overlay' as const;

  protected async populate(): Promise<void> {}

  protected mountsOf(p: SnapshotPaths): Mount[] {
    return overlayMounts(p.kind, p.fs, p.work, p.lowers);
  }
}

/** containerd's layout, as a pure function. */
export function overlayMounts(kind: SnapshotKind, fs: string, work: string, lowers: string[]): Mount[] {
  if (kind === 'view') {
    if (lowers.length === 0) return [{ type: 'bind', source: fs, options: ['rbind', 'ro'] }];
    if (lowers.length === 1) return [{ type: 'bind', source: lowers[0] as string, options: ['rbind', 'ro'] }];
    return [{ type: 'overlay', source: 'overlay', options: [...OVERLAY_OPTIONS, `lowerdir=${lowers.join(':')}`] }];
  }
  if (lowers.length === 0) return [{ type: 'bind', source: fs, options: ['rbind', 'rw'] }];
  return [
    {
      type: 'overlay',
      source: 'overlay',
      options: [...OVERLAY_OPTIONS, `workdir=${work}`, `upperdir=${fs}`, `lowerdir=${lowers.join(':')}`],
    },
  ];
}
