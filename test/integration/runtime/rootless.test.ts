import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunSpec } from '../../../runtime-native/index.js';
import { requireRoot } from '../../helpers/prereqs.js';
import { expectNoLeaks, type LeakSnapshot, leakSnapshot, runSpecsAs, testUser } from './support.js';

const runAs = (specs: (Partial<RunSpec> & { args: string[] })[]) => runSpecsAs('tsbuild-test', specs);

const sh = (script: string, extra: Partial<RunSpec> = {}) => ({ args: ['/bin/sh', '-c', script], ...extra });

describe('rootless (as user tsbuild-test)', () => {
  let before: LeakSnapshot;
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it('maps the caller to root, and /etc/subuid ranges through newuidmap/newgidmap', () => {
    const { uid } = testUser();
    const [r] = runAs([sh('id; cat /proc/self/uid_map /proc/self/gid_map; grep -E "^Cap(Eff|Bnd)" /proc/self/status')]);
    expect(r?.exitCode).toBe(0);
    const lines = r?.stdout?.split('\n').map((l) => l.trim().split(/\s+/).join(' ')) ?? [];
    expect(lines[0]).toBe('uid=0(root) gid=0(root) groups=0(root)');
    expect(lines[1]).toBe(`0 ${uid} 1`);
    expect(lines[2]).toMatch(/^1 \d+ \d+$/);
    expect(lines).toContain('CapEff: 00000000a80425fb');
  });

  it('runs as a container user from the subordinate range', () => {
    const [r] = runAs([sh('id; grep ^Groups /proc/self/status', { user: { uid: 1000, gid: 1000 } })]);
    expect(r?.stdout).toBe('uid=1000(app) gid=1000(app) groups=1000(app)\nGroups:\t1000 \n');
  });

  it('refuses an unmapped uid when only the caller is mapped', () => {
    const { uid, gid } = testUser();
    const [r] = runAs([
      sh('id', {
        user: { uid: 1000, gid: 0 },
        idMap: { uid: [{ container: 0, host: uid, size: 1 }], gid: [{ container: 0, host: gid, size: 1 }] },
      }),
    ]);
    expect(r?.error).toMatchObject({ code: 'TSB_RUNTIME_SETUP', step: 'user' });
    expect(r?.error?.message).toContain('cannot setuid to unmapped uid 1000');
  });

  it('mounts proc, sysfs, devpts and mqueue, and binds the host device nodes', () => {
    const [r] = runAs([
      sh(
        'for m in /proc /sys /dev /dev/pts /dev/shm /dev/mqueue; do grep -q " $m " /proc/self/mounts && echo "$m"; done; stat -c %t:%T /dev/null; mknod /dev/x c 1 1 2>/dev/null || echo mknod-denied; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo sys-ro',
      ),
    ]);
    expect(r?.stdout).toBe('/proc\n/sys\n/dev\n/dev/pts\n/dev/shm\n/dev/mqueue\n1:3\nmknod-denied\nsys-ro\n');
  });

  it('binds the host /sys read-only with the host network', () => {
    const [r] = runAs([sh('ls /sys/class/net | wc -l; touch /sys/x 2>/dev/null || echo sys-ro', { network: 'host' })]);
    expect(Number(r?.stdout?.split('\n')[0])).toBeGreaterThan(1);
    expect(r?.stdout).toContain('sys-ro\n');
  });

  it('reports cgroup limits it cannot apply without a delegated cgroup', () => {
    const [r] = runAs([sh('true', { resources: { pids: 10 } })]);
    expect(r?.error).toMatchObject({ code: 'TSB_RUNTIME_SETUP', step: 'cgroup' });
  });

  it('clamps rlimits to the hard limit and reports exit codes as root does', () => {
    const [clamped, missing, failed] = runAs([
      sh('ulimit -Hn', { rlimits: [{ type: 'nofile', soft: 1 << 30, hard: 1 << 30 }] }),
      { args: ['no-such-command'] },
      sh('exit 9'),
    ]);
    expect(Number(clamped?.stdout)).toBeGreaterThan(0);
    expect(Number(clamped?.stdout)).toBeLessThan(1 << 30);
    expect(missing?.exitCode).toBe(127);
    expect(failed?.exitCode).toBe(9);
  });
});
