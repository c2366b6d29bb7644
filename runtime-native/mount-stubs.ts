import { lstatSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Removes the mount points a run created (`/etc/hosts`, a volume's directory, …)
 * from the directory that received them (the overlay's upper layer, or a writable
 * rootfs), deepest first, and only while they are still what was created: an empty
 * directory or an empty file under real directories. Anything the container changed
 * or replaced (a symlink, content) is left alone.
 */
export function removeMountStubs(top: string, paths: string[]): void {
  for (const p of [...paths].reverse()) {
    const parts = p.split('/').filter((c) => c !== '' && c !== '.' && c !== '..');
    if (parts.length === 0) continue;
    let dir = top;
    let parentsOk = true;
    for (const c of parts.slice(0, -1)) {
      dir = join(dir, c);
      try {
        if (!lstatSync(dir).isDirectory()) parentsOk = false;
      } catch {
        parentsOk = false;
      }
      if (!parentsOk) break;
    }
    if (!parentsOk) continue;
    const target = join(top, ...parts);
    try {
      const st = lstatSync(target);
      if (st.isDirectory()) rmdirSync(target);
      else if (st.isFile() && st.size === 0) unlinkSync(target);
    } catch {
      // not empty any more, or gone: keep it
    }
  }
}
