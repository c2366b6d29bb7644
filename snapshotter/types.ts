/** A mount as data (containerd's `mount.Mount`): the snapshotter returns these and never mounts. */
export interface Mount {
  /** `overlay` or `bind` */
  type: string;
  source: string;
  /** A path below the mount target, for nested mounts; absent for the root mount. */
  target?: string;
  options: string[];
}

/** containerd's kinds: `active` is writable (prepare), `view` is read-only, `committed` can be a parent. */
export type SnapshotKind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  kind: SnapshotKind;
  /** The key (active, view) or name (committed). */
  name: string;
  /** The committed parent's name. */
  parent?: string;
  labels: Record<string, string>;
  created: Date;
  updated: Date;
}

export interface Usage {
  /** Bytes used on disk by this snapshot's own directory (hardlinked inodes counted once). */
  size: number;
  inodes: number;
}

export type SnapshotDriver = 'overlay' | 'naive';

/**
 * containerd's snapshotter interface. `key` names an active snapshot (or a view),
 * `name` a committed one, and `parent` is always a committed name. Active snapshots
 * never become committed in place of another key: `commit(name, key)` turns the
 * active `key` into the committed `name`.
 */
export interface Snapshotter {
  readonly driver: SnapshotDriver;
  /** The store root this snapshotter works in. */
  readonly root: string;
  prepare(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]>;
  view(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]>;
  mounts(key: string): Promise<Mount[]>;
  commit(name: string, key: string, opts?: { labels?: Record<string, string> }): Promise<void>;
  /** Refuses (`TSB_SNAPSHOT_IN_USE`) a snapshot that has children. */
  remove(keyOrName: string): Promise<void>;
  stat(keyOrName: string): Promise<SnapshotInfo>;
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void>;
  usage(keyOrName: string): Promise<Usage>;
  /** Removes orphan directories, half-made snapshots and stale mounts left by crashed processes. */
  cleanup(): Promise<void>;
}
