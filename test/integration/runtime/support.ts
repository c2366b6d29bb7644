import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { NativeRuntime, type RunResult, type RunSpec, type StdioOptions } from '../../../runtime-native/index.js';
import { busyboxFixture } from '../../helpers/prereqs.js';

export const runtime = new NativeRuntime();

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'tsb-rt-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A writable copy of the busybox rootfs in its own temp dir. */
export function copyRootfs(): { rootfs: string; dir: string; cleanup: () => void } {
  const { rootfs } = busyboxFixture();
  const t = tempDir();
  execFileSync('cp', ['-a', rootfs, join(t.dir, 'rootfs')]);
  return { rootfs: join(t.dir, 'rootfs'), dir: t.dir, cleanup: t.cleanup };
}

export interface Captured extends RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a spec with piped stdout/stderr (and stdin text, if given) and collects the output. */
export async function capture(spec: RunSpec, input?: string, signal?: AbortSignal): Promise<Captured> {
  const stdio: StdioOptions = { stdin: input === undefined ? 'ignore' : 'pipe', stdout: 'pipe', stderr: 'pipe' };
  const c = runtime.start(spec, stdio, signal);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const outDone = new Promise<void>((res) => {
    c.stdout!.on('data', (b: Buffer) => out.push(b));
    c.stdout!.on('close', () => res());
  });
  const errDone = new Promise<void>((res) => {
    c.stderr!.on('data', (b: Buffer) => err.push(b));
    c.stderr!.on('close', () => res());
  });
  if (input !== undefined) c.stdin!.end(input);
  try {
    const r = await c.wait();
    await Promise.all([outDone, errDone]);
    return { ...r, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  } catch (e) {
    c.stdout!.destroy();
    c.stderr!.destroy();
    throw e;
  }
}

const scratchDirs: (() => void)[] = [];

/**
 * The busybox fixture as the lower layer of an overlay with a fresh upper layer,
 * so that no case writes to the shared fixture (removed by expectNoLeaks).
 */
export function busyboxOverlay(): RunSpec['rootfs'] {
  const t = tempDir('tsb-rt-ovl-');
  scratchDirs.push(t.cleanup);
  mkdirSync(join(t.dir, 'upper'));
  mkdirSync(join(t.dir, 'work'));
  return { lowerdirs: [busyboxFixture().rootfs], upperdir: join(t.dir, 'upper'), workdir: join(t.dir, 'work') };
}

/** `sh -c script` over the busybox fixture (or in the given rootfs). */
export function sh(script: string, extra: Partial<RunSpec> = {}): RunSpec {
  return { rootfs: extra.rootfs ?? busyboxOverlay(), args: ['/bin/sh', '-c', script], ...extra };
}

const CGROUP_ROOT = '/sys/fs/cgroup';

function cgroupLeftovers(): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name.startsWith('tsbuild-')) out.push(join(dir, name));
      else if (depth < 4) walk(join(dir, name), depth + 1);
    }
  };
  walk(CGROUP_ROOT, 0);
  return out;
}

export function helperProcesses(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // A zombie holds nothing: one whose parent died is reaped by the host's init.
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
      const comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
      if (comm === 'tsbuild-init') pids.push(Number(name));
      else if (readlinkSync(`/proc/${name}/exe`).startsWith('/memfd:tsbuild-init')) pids.push(Number(name));
    } catch {
      // gone
    }
  }
  return pids;
}

export interface LeakSnapshot {
  mounts: Set<string>;
}

/** Mounts that this runtime or these tests could have made (others, like dockerd's, come and go on their own). */
function ourMounts(): Set<string> {
  const ours = /\/run\/tsbuild|tsbuild-mnt|tsb-rt-|tsbuild-run-|tsbuild-fixtures/;
  return new Set(
    readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .filter((l) => ours.test(l)),
  );
}

/** What the host looks like before a case: compared by expectNoLeaks after it. */
export function leakSnapshot(): LeakSnapshot {
  return { mounts: ourMounts() };
}

/** No new mount, no tsbuild cgroup left, no helper or container process left. */
export function expectNoLeaks(before: LeakSnapshot): void {
  for (const cleanup of scratchDirs.splice(0)) cleanup();
  expect([...ourMounts()].filter((m) => !before.mounts.has(m))).toEqual([]);
  expect(cgroupLeftovers()).toEqual([]);
  expect(helperProcesses()).toEqual([]);
}

/** The unprivileged user scripts/setup.sh makes for the rootless tests. */
export function testUser(): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync('id', ['-u', 'tsbuild-test'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'tsbuild-test'], { encoding: 'utf8' }));
    return { uid, gid };
  } catch {
    throw new Error('user tsbuild-test is missing: create it with sudo bash scripts/setup.sh');
  }
}

/** What spec-runner.mjs reports per spec. */
export interface SpecOutcome {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  error?: { code: string; step?: string; syscall?: string; message: string };
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Runs the specs through spec-runner.mjs in a process of its own (the built
 * dist/runtime-native), as root or as tsbuild-test, each over an overlay of
 * `lower` (the busybox fixture by default) unless the spec says otherwise.
 */
export function runSpecsAs(
  as: 'root' | 'tsbuild-test',
  specs: (Partial<RunSpec> & { args: string[] })[],
  lower = busyboxFixture().rootfs,
): SpecOutcome[] {
  const dist = join(here, '../../../dist/runtime-native/index.js');
  if (!existsSync(dist)) throw new Error('dist/ is missing: run npm run build');
  const cases = specs.map((s) => ({ rootfs: 'overlay', lower, ...s }));
  const r = spawnSync(
    process.execPath,
    [join(here, 'spec-runner.mjs'), dist, Buffer.from(JSON.stringify(cases)).toString('base64')],
    {
      ...(as === 'root' ? {} : testUser()),
      env: { PATH: '/usr/bin:/bin', HOME: '/tmp' },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (r.status !== 0) throw new Error(`spec runner (as ${as}) failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as SpecOutcome[];
}
