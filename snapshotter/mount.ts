import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SnapshotError } from './errors.js';
import type { Mount } from './types.js';

/** The kernel copies at most one page of mount options (data) in mount(2). */
const PAGE = 4096;

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((done, fail) => {
    // node:child_process is loaded on first use: opening a snapshot (`tsbuild run`) never needs it.
    process
      .getBuiltinModule('node:child_process')
      .execFile(cmd, args, { cwd, encoding: 'utf8' }, (err, _stdout, stderr) => {
        if (err) {
          fail(
            new SnapshotError('TSB_MOUNT', `${cmd} ${args.join(' ')} failed: ${(stderr || err.message).trim()}`, {
              cause: err,
            }),
          );
        } else done();
      });
  });
}

/**
 * An overlay mount's options with its lower, upper and work paths made relative to
 * their longest common directory, so that many lowerdirs fit in one page
 * (BuildKit's compactLongOverlayMount idea). Returns the directory to mount from.
 */
export function compactOverlayOptions(options: string[]): { cwd?: string; options: string[] } {
  if (options.join(',').length < PAGE) return { options };
  const paths: string[] = [];
  for (const o of options) {
    const [k, v] = splitOption(o);
    if (k === 'lowerdir') paths.push(...(v ?? '').split(':'));
    else if (k === 'upperdir' || k === 'workdir') paths.push(v ?? '');
  }
  let common = paths[0] ?? '/';
  for (const p of paths) {
    while (common !== '/' && !(p === common || p.startsWith(common.endsWith(sep) ? common : common + sep))) {
      common = resolve(common, '..');
    }
  }
  const rel = (p: string) => (isAbsolute(p) ? relative(common, p) || '.' : p);
  const out = options.map((o) => {
    const [k, v] = splitOption(o);
    if (k === 'lowerdir') return `lowerdir=${(v ?? '').split(':').map(rel).join(':')}`;
    if (k === 'upperdir' || k === 'workdir') return `${k}=${rel(v ?? '')}`;
    return o;
  });
  if (out.join(',').length >= PAGE) {
    throw new SnapshotError(
      'TSB_MOUNT',
      `overlay options are ${out.join(',').length} bytes even with relative paths: too many layers for one mount`,
    );
  }
  return { cwd: common, options: out };
}

function splitOption(o: string): [string, string | undefined] {
  const i = o.indexOf('=');
  return i < 0 ? [o, undefined] : [o.slice(0, i), o.slice(i + 1)];
}

/**
 * Mounts `mounts` in order at `target` (a mount's `target` is a path below it).
 * On failure, whatever was mounted is unmounted again. This and runtime-native are
 * the only code that mounts.
 */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  const done: string[] = [];
  try {
    for (const m of mounts) {
      const dest = m.target ? join(target, m.target) : target;
      if (m.type === 'bind') {
        const ro = m.options.includes('ro');
        const recursive = m.options.includes('rbind');
        await run('mount', [recursive ? '--rbind' : '--bind', m.source, dest]);
        done.push(dest);
        if (ro) await run('mount', ['-o', 'remount,bind,ro', dest]);
      } else {
        const { cwd, options } = m.type === 'overlay' ? compactOverlayOptions(m.options) : { options: m.options };
        for (const o of options) {
          if (o.includes(',')) throw new SnapshotError('TSB_MOUNT', `mount option ${o} contains a comma`);
        }
        const args = ['-t', m.type];
        if (options.length) args.push('-o', options.join(','));
        args.push(m.source, dest);
        await run('mount', args, cwd);
        done.push(dest);
      }
    }
  } catch (err) {
    for (const d of done.reverse()) await run('umount', ['-l', d]).catch(() => undefined);
    throw err;
  }
}

/** The mount points at or below `dir`, deepest first, from /proc/self/mountinfo. */
export function mountsBelow(dir: string): string[] {
  const base = resolve(dir);
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (point === base || point.startsWith(base + sep)) found.push(point);
  }
  return found.sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or below `target`, deepest first; a busy mount is detached lazily. */
export async function unmountAll(target: string): Promise<void> {
  for (const point of mountsBelow(target)) {
    try {
      await run('umount', [point]);
    } catch {
      await run('umount', ['-l', point]);
    }
  }
}
