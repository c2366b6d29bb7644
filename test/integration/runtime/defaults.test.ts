import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireRoot } from '../../helpers/prereqs.js';
import {
  busyboxOverlay,
  capture,
  copyRootfs,
  expectNoLeaks,
  type LeakSnapshot,
  leakSnapshot,
  runtime,
  sh,
  tempDir,
} from './support.js';

/** The mount table line for a target, from /proc/self/mounts text: [source, type, options]. */
function mountOf(mounts: string, target: string): { type: string; options: string[] } | undefined {
  const line = mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[1] === target)
    .pop();
  return line ? { type: line[2] ?? '', options: (line[3] ?? '').split(',') } : undefined;
}

describe("Docker's default container", () => {
  let before: LeakSnapshot;
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it('mounts /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue and a read-only /sys as Docker does', async () => {
    const r = await capture(sh('cat /proc/self/mounts'));
    expect(r.exitCode).toBe(0);
    const m = r.stdout;
    expect(mountOf(m, '/proc')).toMatchObject({ type: 'proc' });
    expect(mountOf(m, '/proc')?.options).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
    expect(mountOf(m, '/dev')?.type).toBe('tmpfs');
    expect(mountOf(m, '/dev')?.options).toEqual(expect.arrayContaining(['nosuid', 'size=65536k', 'mode=755']));
    expect(mountOf(m, '/dev')?.options).not.toContain('nodev');
    expect(mountOf(m, '/dev/pts')?.type).toBe('devpts');
    expect(mountOf(m, '/dev/pts')?.options).toEqual(
      expect.arrayContaining(['nosuid', 'noexec', 'gid=5', 'mode=620', 'ptmxmode=666']),
    );
    expect(mountOf(m, '/dev/shm')?.type).toBe('tmpfs');
    expect(mountOf(m, '/dev/shm')?.options).toEqual(
      expect.arrayContaining(['nosuid', 'nodev', 'noexec', 'size=65536k']),
    );
    expect(mountOf(m, '/dev/mqueue')?.type).toBe('mqueue');
    expect(mountOf(m, '/sys')?.type).toBe('sysfs');
    expect(mountOf(m, '/sys')?.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
  });

  it('fills /dev with the six default nodes, the ptmx link and the fd symlinks only', async () => {
    const r = await capture(sh('cd /dev && for f in *; do stat -c "%n %F %t:%T %a %N" "$f"; done'));
    const lines = r.stdout.trim().split('\n');
    // docker run (runc 1.1) and BuildKit's RUN have no /dev/core.
    expect(lines.map((l) => l.split(' ')[0])).toEqual([
      'fd',
      'full',
      'mqueue',
      'null',
      'ptmx',
      'pts',
      'random',
      'shm',
      'stderr',
      'stdin',
      'stdout',
      'tty',
      'urandom',
      'zero',
    ]);
    const node = (name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? '';
    expect(node('null')).toContain('character special file 1:3 666');
    expect(node('zero')).toContain('1:5 666');
    expect(node('full')).toContain('1:7 666');
    expect(node('random')).toContain('1:8 666');
    expect(node('urandom')).toContain('1:9 666');
    expect(node('tty')).toContain('5:0 666');
    expect(node('ptmx')).toContain("-> 'pts/ptmx'");
    expect(node('fd')).toContain("-> '/proc/self/fd'");
    expect(node('stdin')).toContain("-> '/proc/self/fd/0'");
    expect(node('stderr')).toContain("-> '/proc/self/fd/2'");
  });

  it('masks /proc/keys, /proc/timer_list and /sys/firmware, and makes /proc/sys, bus, fs and irq read-only', async () => {
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const r = await capture(
      sh(
        [
          'wc -c < /proc/keys',
          'wc -c < /proc/timer_list',
          'ls -A /sys/firmware | wc -l',
          'echo "|/tmp/x" > /proc/sys/kernel/core_pattern || echo core_pattern-denied',
          'echo 3 > /proc/sys/vm/drop_caches || echo drop_caches-denied',
          'echo 1 > /proc/sys/net/ipv4/ip_forward || echo ip_forward-denied',
          'echo h > /proc/sysrq-trigger || echo sysrq-denied',
          'grep -E " /proc/(sys|bus|fs|irq|sysrq-trigger) " /proc/self/mounts',
        ].join('; '),
      ),
    );
    const out = r.stdout.split('\n');
    expect(out.slice(0, 3).map((s) => s.trim())).toEqual(['0', '0', '0']);
    for (const w of ['core_pattern-denied', 'drop_caches-denied', 'ip_forward-denied', 'sysrq-denied'])
      expect(out).toContain(w);
    expect(r.stderr).toContain('Read-only file system');
    // /proc/sysrq-trigger is read-only where the kernel has it (not on this VM's): the write fails either way.
    for (const p of ['/proc/sys', '/proc/bus', '/proc/fs', '/proc/irq']) {
      expect(mountOf(r.stdout, p)?.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
    }
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(pattern);
  });

  it("grants Docker's 14 capabilities to root and none effective to other users", async () => {
    const root = await capture(sh('grep ^Cap /proc/self/status'));
    expect(root.stdout).toBe(
      'CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\n',
    );
    const user = await capture(sh('grep ^Cap /proc/self/status', { user: { uid: 1000, gid: 1000 } }));
    expect(user.stdout).toBe(
      'CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\n',
    );
  });

  it('sets the hostname and provides /etc/hosts, /etc/hostname and /etc/resolv.conf', async () => {
    const r = await capture(
      sh('hostname; echo ---; cat /etc/hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf', {
        hostname: 'box1',
      }),
    );
    const [hostname, etcHostname, hosts, resolv] = r.stdout.split('---\n');
    expect(hostname).toBe('box1\n');
    expect(etcHostname).toBe('box1\n');
    expect(hosts).toContain('127.0.0.1\tlocalhost\n');
    expect(hosts).toContain('::1\tlocalhost ip6-localhost ip6-loopback\n');
    expect(resolv).toMatch(/nameserver /);
    expect(resolv).not.toMatch(/nameserver 127\./);
    const dflt = await capture(sh('hostname; echo $HOSTNAME'));
    const [h1, h2] = dflt.stdout.trim().split('\n');
    expect(h1).toMatch(/^[0-9a-f]{12}$/);
    expect(h2).toBe(h1);
  });

  it('uses umask 0022, the default PATH, HOME from passwd, and TERM only with a tty', async () => {
    const r = await capture(sh('umask; echo "$PATH"; echo "$HOME"; echo "TERM=$' + '{TERM-unset}"'));
    expect(r.stdout).toBe('0022\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/root\nTERM=unset\n');
    const app = await capture(sh('echo "$HOME"', { user: { uid: 1000, gid: 1000 } }));
    expect(app.stdout).toBe('/home/app\n');
    const own = await capture(sh('echo "$HOME $PATH"', { env: ['HOME=/x', 'PATH=/bin'] }));
    expect(own.stdout).toBe('/x /bin\n');
    const c = runtime.start(
      sh('echo "TERM=$TERM"; [ -t 0 ] && [ -t 1 ] && echo tty; tty; stty size', { tty: { rows: 30, cols: 100 } }),
    );
    const pty = await c.terminal();
    let out = '';
    pty?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const result = await c.wait();
    await new Promise<void>((res) => {
      if (!pty || pty.destroyed) res();
      else pty.on('close', () => res());
    });
    expect(result.exitCode).toBe(0);
    expect(out.replace(/\r/g, '')).toBe('TERM=xterm\ntty\n/dev/pts/0\n30 100\n');
  });

  it('resizes the pty, and the container sees SIGWINCH and the new size', async () => {
    const c = runtime.start(
      sh("trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 0.05; done", { tty: { rows: 24, cols: 80 } }),
    );
    const pty = await c.terminal();
    let out = '';
    await new Promise<void>((resolve) => {
      pty?.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('ready')) resolve();
      });
    });
    c.resize(50, 132);
    expect((await c.wait()).exitCode).toBe(0);
    await new Promise<void>((res) => {
      if (!pty || pty.destroyed) res();
      else pty.on('close', () => res());
    });
    expect(out.replace(/\r/g, '')).toContain('50 132\n');
  });

  it("shows the container's own cgroup read-only at /sys/fs/cgroup and sets Docker's network sysctls", async () => {
    const r = await capture(
      sh(
        'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes || echo cg-ro; cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range',
        { resources: { memory: 64 * 1024 * 1024 } },
      ),
    );
    expect(r.stdout).toBe(`${64 * 1024 * 1024}\ncg-ro\n0\n0\t2147483647\n`);
  });

  it('starts in / by default and creates a missing working directory', async () => {
    const t = copyRootfs();
    try {
      const r = await capture(sh('pwd; ls -ld /work/dir | cut -c1-10', { rootfs: t.rootfs, cwd: '/work/dir' }));
      expect(r.stdout).toBe('/work/dir\ndrwxr-xr-x\n');
      expect((await capture(sh('pwd'))).stdout).toBe('/\n');
    } finally {
      t.cleanup();
    }
  });

  it("never raises an rlimit above the caller's hard limit: it clamps", async () => {
    const hard = Number(readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)?.[1]);
    const r = await capture(
      sh('ulimit -n; ulimit -Hn', { rlimits: [{ type: 'nofile', soft: hard * 4, hard: hard * 4 }] }),
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${hard}\n${hard}\n`);
    const low = await capture(sh('ulimit -n; ulimit -Hn', { rlimits: [{ type: 'nofile', soft: 100, hard: 200 }] }));
    expect(low.stdout).toBe('100\n200\n');
  });

  it('brings lo up in its own network namespace and shares the host network with network host', async () => {
    const none = await capture(sh('ls /sys/class/net; cat /sys/class/net/lo/flags'));
    expect(none.stdout).toBe('lo\n0x9\n');
    const host = await capture(sh('ls /sys/class/net', { network: 'host' }));
    const named = await capture(sh('hostname', { network: 'host' }));
    expect(named.stdout).toBe(`${(await import('node:os')).hostname()}\n`);
    const hostIfs = (await import('node:fs')).readdirSync('/sys/class/net').sort();
    expect(host.stdout.trim().split('\n').sort()).toEqual(hostIfs);
  });

  it('binds volumes read-write and read-only, and mounts tmpfs', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'in.txt'), 'hello\n');
      const r = await capture(
        sh(
          'cat /data/in.txt; echo out > /data/out.txt; echo x > /ro/y || echo ro-denied; touch /scratch/f && grep " /scratch " /proc/self/mounts',
          {
            mounts: [
              { type: 'bind', source: t.dir, destination: '/data' },
              { type: 'bind', source: t.dir, destination: '/ro', readonly: true },
              { type: 'tmpfs', destination: '/scratch', options: ['size=1m', 'noexec'] },
            ],
          },
        ),
      );
      expect(r.stdout).toContain('hello\n');
      expect(r.stdout).toContain('ro-denied\n');
      expect(r.stdout).toMatch(/tmpfs \/scratch tmpfs rw,.*noexec.*size=1024k/);
      expect(readFileSync(join(t.dir, 'out.txt'), 'utf8')).toBe('out\n');
    } finally {
      t.cleanup();
    }
  });

  it('makes the rootfs read-only with readonlyRootfs while /dev/shm stays writable', async () => {
    const r = await capture(sh('touch /x || echo root-ro; touch /dev/shm/x && echo shm-rw', { readonlyRootfs: true }));
    expect(r.stdout).toBe('root-ro\nshm-rw\n');
  });

  it("runs as the given uid, gid and supplementary groups, never the host's", async () => {
    const r = await capture(
      sh('id; grep ^Groups /proc/self/status', { user: { uid: 1000, gid: 1000, additionalGids: [10, 1000] } }),
    );
    expect(r.stdout).toBe('uid=1000(app) gid=1000(app) groups=10,1000(app)\nGroups:\t10 1000 \n');
    const reopen = await capture(
      sh('echo to-stdout > /dev/stdout; echo to-stderr > /dev/stderr', { user: { uid: 1000, gid: 1000 } }),
    );
    expect(reopen).toMatchObject({ exitCode: 0, stdout: 'to-stdout\n', stderr: 'to-stderr\n' });
    const root = await capture(sh('grep ^Groups /proc/self/status'));
    expect(root.stdout).toBe('Groups:\t0 \n');
  });

  it('passes stdin through a pipe', async () => {
    const r = await capture({ rootfs: busyboxOverlay(), args: ['cat'] }, 'piped input\n');
    expect(r.stdout).toBe('piped input\n');
  });

  it('removes the mount points it had to create from the upper layer, and never writes a read-only rootfs', async () => {
    const t = tempDir();
    const vol = tempDir();
    try {
      const { existsSync, mkdirSync, readdirSync } = await import('node:fs');
      mkdirSync(join(t.dir, 'upper'));
      mkdirSync(join(t.dir, 'work'));
      const lower = copyRootfs();
      const rootfs = { lowerdirs: [lower.rootfs], upperdir: join(t.dir, 'upper'), workdir: join(t.dir, 'work') };
      const r = await capture(
        sh('cat /etc/hosts > /dev/null && echo kept > /etc/created && ls /new/vol', {
          rootfs,
          mounts: [{ type: 'bind', source: vol.dir, destination: '/new/vol' }],
        }),
      );
      expect(r.exitCode).toBe(0);
      expect(readdirSync(join(t.dir, 'upper')).sort()).toEqual(['etc']);
      expect(readdirSync(join(t.dir, 'upper', 'etc'))).toEqual(['created']);
      lower.cleanup();

      const ro = copyRootfs();
      try {
        const before = readdirSync(join(ro.rootfs, 'etc')).sort();
        const out = await capture(sh('cat /etc/hostname', { rootfs: ro.rootfs, readonlyRootfs: true }));
        expect(out.exitCode).toBe(1);
        expect(readdirSync(join(ro.rootfs, 'etc')).sort()).toEqual(before);
        expect(existsSync(join(ro.rootfs, 'etc', 'hosts'))).toBe(false);
      } finally {
        ro.cleanup();
      }
    } finally {
      t.cleanup();
      vol.cleanup();
    }
  });

  it('runs an overlay of layer directories without writing to the lower layers', async () => {
    const lower = copyRootfs();
    const t = tempDir();
    try {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(t.dir, 'upper'));
      mkdirSync(join(t.dir, 'work'));
      const top = join(t.dir, 'top');
      mkdirSync(join(top, 'etc'), { recursive: true });
      writeFileSync(join(top, 'etc', 'motd'), 'layer two\n');
      const r = await capture(
        sh(
          'cat /etc/motd; echo new > /etc/new; rm /bin/true; ls /bin/true 2>&1 || true; grep "^overlay / " /proc/self/mounts',
          {
            rootfs: {
              lowerdirs: [top, lower.rootfs],
              upperdir: join(t.dir, 'upper'),
              workdir: join(t.dir, 'work'),
              options: ['index=off', 'redirect_dir=off', 'metacopy=off'],
            },
          },
        ),
      );
      expect(r.stdout.split('\n')[0]).toBe('layer two');
      expect(r.stdout).toMatch(/^overlay \/ overlay rw,.*lowerdir\+=/m);
      // The options reach the kernel: an unknown one is refused there.
      const bad = await capture(
        sh('true', {
          rootfs: {
            lowerdirs: [top, lower.rootfs],
            upperdir: join(t.dir, 'upper'),
            workdir: join(t.dir, 'work'),
            options: ['no_such_option'],
          },
        }),
      ).catch((e: unknown) => e);
      expect(bad).toMatchObject({ step: 'rootfs', syscall: 'fsconfig', errnoName: 'EINVAL' });
      expect(readFileSync(join(t.dir, 'upper', 'etc', 'new'), 'utf8')).toBe('new\n');
      expect((await import('node:fs')).existsSync(join(lower.rootfs, 'bin', 'true'))).toBe(true);
    } finally {
      lower.cleanup();
      t.cleanup();
    }
  });
});
