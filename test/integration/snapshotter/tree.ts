import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsOps } from '../../../snapshotter/native.js';

/** A comparable description of every entry below dir: type, mode, owner, mtime (s), content, link, xattrs. */
export function describeTree(dir: string, o: { mtimes?: boolean } = {}): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const names = readdirSync(rel ? join(dir, rel) : dir).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, r);
      const st = lstatSync(p);
      let what: string;
      if (st.isDirectory()) what = 'dir';
      else if (st.isSymbolicLink()) what = `symlink->${readlinkSync(p)}`;
      else if (st.isFile()) what = `file:${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 12)}`;
      else if (st.isFIFO()) what = 'fifo';
      else if (st.isCharacterDevice()) what = `char:${st.rdev}`;
      else if (st.isBlockDevice()) what = `block:${st.rdev}`;
      else what = 'other';
      const xattrs = fsOps()
        .listXattrs(p)
        .filter((n) => !n.startsWith('trusted.overlay.') && n !== 'security.selinux')
        .sort()
        .map((n) => `${n}=${fsOps().getXattr(p, n)?.toString('hex')}`)
        .join(',');
      const mtime = o.mtimes === false || st.isDirectory() ? '' : ` t=${Math.floor(st.mtimeMs / 1000)}`;
      out.push(`${r} ${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${mtime} ${xattrs}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}
