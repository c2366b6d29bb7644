import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mountsBelow, unmountAll } from './mount.js';
import type { Usage } from './types.js';

/** Removes a tree; mounts found below it are unmounted first, so rm never descends into a mounted filesystem. */
export async function removeTree(path: string): Promise<void> {
  if (mountsBelow(path).length) await unmountAll(path);
  rmSync(path, { recursive: true, force: true, maxRetries: 3 });
}

/** Disk usage of a tree (blocks × 512, each inode counted once), without crossing into other filesystems. */
export function measureUsage(root: string): Usage {
  const seen = new Set<string>();
  let size = 0;
  let inodes = 0;
  const rootDev = lstatSync(root).dev;
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop() as string;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const p = join(dir, name);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      const id = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) {
        if (seen.has(id)) continue;
        seen.add(id);
      }
      inodes++;
      size += st.blocks * 512;
      if (st.isDirectory() && st.dev === rootDev) stack.push(p);
    }
  }
  return { size, inodes };
}

/** Runs a command, rejecting with its stderr. */
export function exec(cmd: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    // node:child_process is loaded on first use: opening a snapshot (`tsbuild run`) never needs it.
    process
      .getBuiltinModule('node:child_process')
      .execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, _out, stderr) => {
        if (err) fail(Object.assign(new Error(`${cmd} failed: ${(stderr || err.message).trim()}`), { cause: err }));
        else done();
      });
  });
}
