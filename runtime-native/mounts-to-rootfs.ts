import { RuntimeError } from './errors.js';
import type { OverlayRootfs } from './run-spec.js';

/** A mount as data, as the snapshotter returns it (containerd's Mount). */
export interface MountLike {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

/**
 * The rootfs of a RunSpec from a snapshotter's mounts: one overlay (its
 * lowerdir/upperdir/workdir options become fields) or one bind of a directory.
 */
export function rootfsFromMounts(mounts: MountLike[]): { rootfs: string | OverlayRootfs; readonly: boolean } {
  const [m, ...rest] = mounts;
  if (!m || rest.length > 0 || m.target) {
    throw new RuntimeError('TSB_RUNTIME_INVALID_SPEC', 'the rootfs must be exactly one overlay or bind mount', {
      field: 'rootfs',
    });
  }
  if (m.type === 'bind') return { rootfs: m.source, readonly: m.options.includes('ro') };
  if (m.type !== 'overlay') {
    throw new RuntimeError('TSB_RUNTIME_INVALID_SPEC', `unsupported rootfs mount type ${m.type}`, { field: 'rootfs' });
  }
  const overlay: OverlayRootfs = { lowerdirs: [] };
  const options: string[] = [];
  for (const o of m.options) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    const value = eq < 0 ? '' : o.slice(eq + 1);
    if (key === 'lowerdir') overlay.lowerdirs = value.split(':');
    else if (key === 'upperdir') overlay.upperdir = value;
    else if (key === 'workdir') overlay.workdir = value;
    else if (key !== 'ro' && key !== 'rw') options.push(o);
  }
  if (options.length > 0) overlay.options = options;
  return { rootfs: overlay, readonly: m.options.includes('ro') };
}
