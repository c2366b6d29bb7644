import { spawn } from 'node:child_process';
import { type Dirent, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../../helpers/cli.js';

/** What a build run as a child process left: its pid and whether SIGKILL ended it. */
export interface KilledBuild {
  pid: number;
  killed: boolean;
  status: number | null;
  output: string;
  lines: { t: number; line: string }[];
  /** Sandbox helper processes of this build seen while it ran (pids). */
  helpers: Set<number>;
  /** Names of the cgroups those helpers ran in. */
  cgroups: Set<string>;
}

/** When to kill: `ms` after the first output line matching `after` (after the start without one). */
export interface KillAt {
  after?: RegExp;
  ms: number;
}

/**
 * Runs `node -- dist/bin/main.cjs --root ROOT ARGS` and, with `kill`, kills it
 * with SIGKILL at that moment. While it runs, the sandbox processes working on
 * `root` are recorded (with their cgroups), so that the test can tell
 * afterwards whether any of them survived; output lines are kept with the
 * time they came (ms since the start).
 */
export function runKilled(root: string, args: string[], kill?: KillAt): Promise<KilledBuild> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--', CLI, '--root', root, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const helpers = new Set<number>();
    const cgroups = new Set<string>();
    const lines: { t: number; line: string }[] = [];
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer ??= setTimeout(() => child.kill('SIGKILL'), kill?.ms);
    };
    if (kill && !kill.after) arm();
    let partial = '';
    const take = (d: Buffer) => {
      output += d.toString();
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop() as string;
      for (const line of parts) {
        lines.push({ t: Date.now() - started, line });
        if (kill?.after?.test(line)) arm();
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const look = () => {
      for (const p of sandboxProcesses(root)) {
        helpers.add(p);
        for (const c of cgroupNames(p)) cgroups.add(c);
      }
    };
    const poll = setInterval(look, 25);
    child.on('error', reject);
    child.on('exit', (status, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({
        pid: child.pid as number,
        killed: signal === 'SIGKILL',
        status,
        output,
        lines,
        helpers,
        cgroups,
      });
    });
  });
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Processes that run a sandbox on `root`: those in a mount namespace of their
 * own whose mount table names the store (the step's rootfs overlay), told
 * apart so from other builds on the machine, and the runtime's helpers
 * (tsbuild-init) above them.
 */
export function sandboxProcesses(root: string): number[] {
  const own = readlink('/proc/self/ns/mnt');
  const parents = new Map<number, { ppid: number; helper: boolean }>();
  const inside: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = read(`/proc/${pid}/stat`);
    if (stat === undefined) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(pid, { ppid, helper: stat.includes('(tsbuild-init)') });
    const ns = readlink(`/proc/${pid}/ns/mnt`);
    if (ns === undefined || ns === own) continue;
    if (read(`/proc/${pid}/mountinfo`)?.includes(`${root}/`)) inside.push(pid);
  }
  const out = new Set<number>(inside);
  for (const pid of inside) {
    for (let p = parents.get(pid)?.ppid; p !== undefined && parents.get(p)?.helper; p = parents.get(p)?.ppid)
      out.add(p);
  }
  return [...out];
}

function readlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** The names of the tsbuild-* cgroups a process is in (one name, in every hierarchy). */
function cgroupNames(pid: number): string[] {
  const text = read(`/proc/${pid}/cgroup`) ?? '';
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /\/(tsbuild-[^/]+)$/.exec(line);
    if (m) names.add(m[1] as string);
  }
  return [...names];
}

/** cgroup directories with one of these names, anywhere in the first levels of /sys/fs/cgroup. */
export function cgroupsNamed(names: Set<string>): string[] {
  const found: string[] = [];
  if (names.size === 0) return found;
  const walk = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (names.has(e.name)) found.push(join(dir, e.name));
      else if (depth < 4) walk(join(dir, e.name), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

/** Whether a process still exists (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Mount points (from /proc/mounts) below `prefix`, or whose options name a path below it, or of a build run by `pids`. */
export function mountsOf(prefix: string, pids: Iterable<number>): string[] {
  const dirs = [...pids].map((p) => `/run/tsbuild/build/${p}.`);
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => {
      const [, point = '', , options = ''] = l.split(' ');
      return point.startsWith(prefix) || options.includes(prefix) || dirs.some((d) => point.startsWith(d));
    })
    .map((l) => l.split(' ').slice(0, 3).join(' '));
}

/** Waits until `check` returns an empty list, for up to `ms`; returns what was left. */
export async function settle<T>(check: () => T[], ms = 3000): Promise<T[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = check();
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Entries of a directory, none when it is absent. */
export function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
