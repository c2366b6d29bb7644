import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busyboxFixture, requireCommand, requireRoot } from '../../helpers/prereqs.js';
import { expectNoLeaks, type LeakSnapshot, leakSnapshot } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Runs specs in a private mount namespace where /sys/fs/cgroup is the cgroup2 tree
 * (this host is a hybrid: its v2 tree has no memory, cpu or pids controller), so
 * that the helper takes its cgroup v2 path: creation, cgroupns, kill, removal.
 */
function runOnCgroup2(
  specs: object[],
): { exitCode?: number; stdout?: string; error?: { step?: string; message: string } }[] {
  requireCommand('unshare', 'util-linux');
  const dist = join(here, '../../../dist/runtime-native/index.js');
  const cases = Buffer.from(JSON.stringify(specs)).toString('base64');
  const r = spawnSync(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"',
      process.execPath,
      join(here, 'spec-runner.mjs'),
      dist,
      cases,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`cgroup2 runner failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('cgroup v2 (the unified tree of this hybrid host, seen alone)', () => {
  let before: LeakSnapshot;
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it('puts the container in its own cgroup namespace with a read-only cgroup2 mount, and removes the cgroup', () => {
    const rootfs = busyboxFixture().rootfs;
    const [r] = runOnCgroup2([
      {
        rootfs,
        readonlyRootfs: true,
        args: [
          'sh',
          '-c',
          'grep ^0:: /proc/self/cgroup; grep " /sys/fs/cgroup " /proc/self/mounts; ls /sys/fs/cgroup/cgroup.kill',
        ],
      },
    ]);
    expect(r?.exitCode).toBe(0);
    const lines = r?.stdout?.split('\n') ?? [];
    expect(lines[0]).toBe('0::/');
    expect(lines[1]).toMatch(/^cgroup2 \/sys\/fs\/cgroup cgroup2 ro,nosuid,nodev,noexec/);
    expect(lines[2]).toBe('/sys/fs/cgroup/cgroup.kill');
  });

  it('names the controller that cgroup v2 lacks for a limit', () => {
    const rootfs = busyboxFixture().rootfs;
    const [r] = runOnCgroup2([{ rootfs, readonlyRootfs: true, args: ['true'], resources: { pids: 5 } }]);
    expect(r?.error?.step).toBe('cgroup');
    expect(r?.error?.message).toMatch(/the pids controller is not enabled in cgroup v2/);
  });
});
