import { type FsOps, fsOps, keepXattr } from '../../snapshotter/index.js';

let ops: FsOps | null | undefined;

/** Errors that mean "this file system or caller takes no such attribute": the attribute is left out. */
const REFUSALS = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EPERM', 'EACCES', 'ENODATA']);

function xattrOps(): FsOps | null {
  if (ops === undefined) {
    try {
      ops = fsOps();
    } catch {
      ops = null;
    }
  }
  return ops;
}

/**
 * Sets extended attributes (binary values as they are, security.capability
 * among them) best effort, as BuildKit's copy and untar do: an attribute the
 * file system or the caller refuses is left out; other errors are thrown.
 * Overlay's own attributes and SELinux labels are never carried into a layer.
 */
export function setXattrs(path: string, attrs: Iterable<[string, Buffer]>): void {
  const fs = xattrOps();
  if (!fs) return;
  for (const [name, value] of attrs) {
    if (!keepXattr(name)) continue;
    try {
      fs.setXattr(path, name, value);
    } catch (err) {
      if (!REFUSALS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
}

/** The extended attributes of `path` worth copying, read best effort (none when the file system has none). */
export function readXattrs(path: string): [string, Buffer][] {
  const fs = xattrOps();
  if (!fs) return [];
  let names: string[];
  try {
    names = fs.listXattrs(path);
  } catch {
    return [];
  }
  const out: [string, Buffer][] = [];
  for (const name of names) {
    if (!keepXattr(name)) continue;
    try {
      const value = fs.getXattr(path, name);
      if (value) out.push([name, value]);
    } catch (err) {
      if (!REFUSALS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  return out;
}
