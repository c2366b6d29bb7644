import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busyboxFixture, requireRoot } from '../../helpers/prereqs.js';
import { capture, copyRootfs, expectNoLeaks, type LeakSnapshot, leakSnapshot, sh, tempDir } from './support.js';

const HELPER = join(dirname(fileURLToPath(import.meta.url)), '../../../runtime-native/build/Release/tsbuild-init');

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('runtime.md §7: containment', () => {
  let before: LeakSnapshot;
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it('1. CVE-2019-5736: the helper and node cannot be overwritten through /proc/*/exe', async () => {
    const helperHash = sha256(HELPER);
    const nodeHash = sha256(process.execPath);
    const t = copyRootfs();
    try {
      // An image whose command is interpreted by /proc/self/exe: that is the sealed helper, which refuses to run.
      writeFileSync(join(t.rootfs, 'bin', 'evil'), '#!/proc/self/exe\n');
      chmodSync(join(t.rootfs, 'bin', 'evil'), 0o755);
      const evil = await capture({ rootfs: t.rootfs, args: ['/bin/evil'] });
      expect(evil.exitCode).not.toBe(0);
      // With init, PID 1 is the helper: its exe cannot be opened, let alone written.
      const r = await capture(
        sh('echo x >> /proc/1/exe || echo write-denied; cat /proc/1/exe > /dev/null || echo read-denied', {
          init: true,
        }),
      );
      expect(r.stdout).toBe('write-denied\nread-denied\n');
    } finally {
      t.cleanup();
    }
    expect(sha256(HELPER)).toBe(helperHash);
    expect(sha256(process.execPath)).toBe(nodeHash);
  });

  it('2. CVE-2024-21626: a cwd of /proc/self/fd/N is refused, and only fds 0, 1 and 2 reach the container', async () => {
    for (let n = 3; n <= 10; n++) {
      await expect(capture(sh('pwd', { cwd: `/proc/self/fd/${n}` }))).rejects.toMatchObject({
        code: 'TSB_RUNTIME_SETUP',
        step: 'cwd',
      });
    }
    await expect(capture(sh('pwd', { cwd: '/proc/1/cwd' }))).rejects.toMatchObject({ step: 'cwd' });
    // ls runs as a child: it lists PID 1's descriptors, not its own (not the last command, which sh would exec; no pipeline, whose ends sh holds).
    const r = await capture(sh('ls -1 /proc/1/fd; true'));
    expect(r.stdout).toBe('0\n1\n2\n');
  });

  it("3. CVE-2016-9962: the container cannot open init's fds or ptrace it", async () => {
    const r = await capture(
      sh(
        'readlink /proc/1/fd/0 || echo fd-denied; cat /proc/1/environ || echo environ-denied; head -c1 /proc/1/mem || echo mem-denied',
        { init: true },
      ),
    );
    expect(r.stdout).toBe('fd-denied\nenviron-denied\nmem-denied\n');
  });

  it('4-5. host processes are invisible and unkillable; kill -9 -1 hits only the container', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const r = await capture(
        sh(`kill -0 ${sleeper.pid} 2>&1; ps -o pid | wc -l; kill -9 -1; echo after`, { init: true }),
      );
      expect(r.stdout).toMatch(/No such process/);
      expect(sleeper.exitCode).toBe(null);
      expect(() => process.kill(sleeper.pid!, 0)).not.toThrow();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('6. mount, unshare and setns fail with EPERM', async () => {
    const r = await capture(
      sh(
        [
          'mount -t tmpfs x /mnt 2>/dev/null || echo mount-denied',
          'mount --bind /bin /mnt 2>/dev/null || echo bind-denied',
          'unshare -m true 2>/dev/null || echo unshare-m-denied',
          'unshare -U true 2>/dev/null || echo unshare-U-denied',
          'unshare -Urm true 2>/dev/null || echo unshare-Urm-denied',
          'nsenter -t 1 -m true 2>/dev/null || echo setns-denied',
          'pivot_root /tmp /tmp 2>/dev/null || echo pivot-denied',
        ].join('; '),
      ),
    );
    expect(r.stdout.split('\n').filter((l) => l !== '')).toEqual([
      'mount-denied',
      'bind-denied',
      'unshare-m-denied',
      'unshare-U-denied',
      'unshare-Urm-denied',
      'setns-denied',
      'pivot-denied',
    ]);
  });

  it('7-8. /proc/sys is read-only and masked paths read empty', async () => {
    const r = await capture(
      sh(
        'echo 1 > /proc/sys/vm/drop_caches 2>&1; cat /proc/keys /proc/timer_list | wc -c; ls -A /sys/firmware | wc -l',
      ),
    );
    expect(r.stderr).toContain('Read-only file system');
    expect(r.stdout.trim().split(/\s+/)).toEqual(['0', '0']);
  });

  it('9. an image whose /proc, /sys or /dev is a symlink is refused', async () => {
    for (const dir of ['proc', 'sys', 'dev']) {
      const t = copyRootfs();
      try {
        rmSync(join(t.rootfs, dir), { recursive: true, force: true });
        symlinkSync('/tmp', join(t.rootfs, dir));
        await expect(capture({ rootfs: t.rootfs, args: ['true'] })).rejects.toMatchObject({
          code: 'TSB_RUNTIME_SETUP',
          step: dir,
          errnoName: 'ELOOP',
        });
      } finally {
        t.cleanup();
      }
    }
  });

  it('10. CVE-2025-31133: an image /dev/null symlinked to core_pattern changes nothing', async () => {
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const t = copyRootfs();
    try {
      mkdirSync(join(t.rootfs, 'dev'), { recursive: true });
      symlinkSync('/proc/sys/kernel/core_pattern', join(t.rootfs, 'dev', 'null'));
      const r = await capture(
        sh('stat -c %t:%T /dev/null; echo x > /dev/null; cat /proc/keys | wc -c', { rootfs: t.rootfs }),
      );
      expect(r.stdout).toBe('1:3\n0\n');
    } finally {
      t.cleanup();
    }
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(pattern);
  });

  it('11. mount destinations through symlinks resolve inside the root, never on the host', async () => {
    const t = copyRootfs();
    const outside = join(tmpdir(), `tsb-rt-outside-${process.pid}`);
    const vol = tempDir();
    try {
      symlinkSync(`../../../../../../..${outside}`, join(t.rootfs, 'escape'));
      rmSync(join(t.rootfs, 'etc', 'hosts'), { force: true });
      symlinkSync(`/../../../../..${outside}-hosts`, join(t.rootfs, 'etc', 'hosts'));
      writeFileSync(join(vol.dir, 'f'), 'volume\n');
      const r = await capture(
        sh(`cat /escape/data/f; cat /etc/hosts | head -1; cat ${outside}/data/f`, {
          rootfs: t.rootfs,
          mounts: [{ type: 'bind', source: vol.dir, destination: '/escape/data' }],
        }),
      );
      // The link's target was created inside the root (and removed again after the run).
      expect(r.stdout).toBe('volume\n127.0.0.1\tlocalhost\nvolume\n');
      expect(existsSync(outside)).toBe(false);
      expect(existsSync(`${outside}-hosts`)).toBe(false);
      expect(existsSync(join(t.rootfs, outside))).toBe(false);
    } finally {
      t.cleanup();
      vol.cleanup();
      rmSync(outside, { recursive: true, force: true });
      rmSync(`${outside}-hosts`, { force: true });
    }
  });

  it('12. device nodes made with mknod cannot be opened', async () => {
    const r = await capture(
      sh('mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem; mknod /tmp/sda b 8 0 && head -c 1 /tmp/sda; echo done'),
    );
    expect(r.stderr).toMatch(/\/tmp\/mem: Operation not permitted/);
    expect(r.stderr).toMatch(/\/tmp\/sda: Operation not permitted/);
    execFileSync('rm', [
      '-f',
      join(busyboxFixture().rootfs, 'tmp', 'mem'),
      join(busyboxFixture().rootfs, 'tmp', 'sda'),
    ]);
  });

  it('13-15. inheritable and ambient sets are empty, nosuid holds, groups come from the container only', async () => {
    const r = await capture(
      sh(
        'grep -E "^Cap(Inh|Amb)" /proc/self/status; grep -E " /dev/(shm|mqueue) | /proc " /proc/self/mounts | grep -c nosuid; id -G',
        {
          user: { uid: 1000, gid: 1000 },
        },
      ),
    );
    expect(r.stdout).toBe('CapInh:\t0000000000000000\nCapAmb:\t0000000000000000\n3\n1000\n');
  });

  it('16. CVE-2022-0492: cgroup release_agent cannot be written or mounted', async () => {
    const r = await capture(
      sh(
        'echo /x > /sys/fs/cgroup/release_agent 2>/dev/null || echo write-denied; mkdir -p /dev/shm/cg; mount -t cgroup -o memory cgroup /dev/shm/cg 2>/dev/null || echo mount-denied; unshare -Urm sh -c "mount -t cgroup -o memory c /dev/shm/cg" 2>/dev/null || echo userns-denied',
      ),
    );
    expect(r.stdout).toBe('write-denied\nmount-denied\nuserns-denied\n');
  });

  it('18. /dev/shm fills up at 64M with ENOSPC', async () => {
    const r = await capture(
      sh('dd if=/dev/zero of=/dev/shm/fill bs=1M count=100 2>&1; ls -l /dev/shm/fill | awk "{print \\$5}"'),
    );
    expect(r.stdout).toContain('No space left on device');
    expect(r.stdout.trim().split('\n').pop()).toBe(String(64 * 1024 * 1024));
  });

  it('20. the control channel has no named or abstract sockets, even with the host network', async () => {
    const r = await capture(sh('cat /proc/net/unix', { network: 'host' }));
    expect(r.stdout).not.toMatch(/tsbuild/);
  });

  it('21-22. argv over ARG_MAX reports E2BIG; a hostname over 64 bytes and bad env are refused', async () => {
    const huge = 'x'.repeat(200_000);
    await expect(capture(sh('true', { args: ['/bin/true', ...Array(20).fill(huge)] }))).rejects.toMatchObject({
      code: 'TSB_RUNTIME_SETUP',
      step: 'exec',
      errnoName: 'E2BIG',
      syscall: 'execve',
    });
    await expect(capture(sh('true', { hostname: 'h'.repeat(65) }))).rejects.toMatchObject({ field: 'hostname' });
    await expect(capture(sh('true', { env: ['NOEQUALS'] }))).rejects.toMatchObject({ field: 'env[0]' });
    await expect(capture(sh('true', { env: ['=x'] }))).rejects.toMatchObject({ field: 'env[0]' });
    await expect(capture(sh('true', { env: ['A=\0'] }))).rejects.toMatchObject({ field: 'env[0]' });
  });
});
