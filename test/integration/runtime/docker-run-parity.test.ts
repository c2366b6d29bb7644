import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../../helpers/cli.js';
import { busyboxFixture, requireCommand, requireDocker, requireRoot } from '../../helpers/prereqs.js';
import { docker, tempRoot, tsb } from '../image/support.js';

const IMAGE = 'tsbuild-busybox:latest';

/**
 * What a process sees in `docker run --network none` and in the same `tsbuild run`:
 * one shell probe, normalised where the two may rightly differ (container ids,
 * dates), whose output must be identical. (rlimits are left out: docker's come from
 * dockerd's own, ours from the caller's.)
 */
const PROBE = [
  'echo "== env"; env | grep -v ^HOSTNAME= | sort',
  'echo "== id"; id; umask; pwd',
  'echo "== hosts"; cat /etc/hosts | grep -v "$(hostname)"',
  'echo "== hostname"; [ "$(cat /etc/hostname)" = "$(hostname)" ] && echo same',
  'echo "== dev"; ls -la /dev | awk \'NR > 1 {print $1, $3, $4, ($1 ~ /^c/ ? $5 $6 : "-"), $NF}\'',
  'echo "== shm"; ls -la /dev/shm /dev/mqueue | awk \'{print $1, $3, $4, $NF}\'',
  // mount point, options, fs type and superblock options of the special mounts
  'echo "== mounts"; awk \'{ for (i = 7; $i != "-"; i++); print $5, $6, $(i+1), $(i+3) }\' /proc/self/mountinfo' +
    ' | grep -E "^/(proc|dev|dev/pts|dev/shm|dev/mqueue) " | sort',
  'echo "== status"; grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status',
  'echo "== pid1"; tr "\\0" " " < /proc/1/cmdline; echo',
  'echo "== masked"; cat /proc/kcore 2>&1 | wc -c; ls /sys/firmware | wc -l',
  'echo "== readonly"; (echo x > /proc/sys/kernel/domainname) 2>&1; (touch /sys/x) 2>&1',
  'echo "== writable"; for d in / /tmp /dev /dev/shm /etc/hosts; do (echo >> $d/.w || echo >> $d) 2>/dev/null && echo "$d rw" || echo "$d ro"; done',
  'echo "== net"; ip -o link | awk \'{print $2}\'; ping -c1 -W1 8.8.8.8 2>&1 | tail -1',
  'echo "== signals"; sh -c \'kill -TERM $$\'; echo "rc=$?"',
  'echo "== stdin"; (echo >&0) 2>&1; echo "rc=$?"; readlink /proc/self/fd/0',
].join('\n');

/** Runs `script` so that the command gets a terminal, as an interactive user's would be. */
function inTerminal(command: string[]): string {
  const line = command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', line, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`script -c ${line} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout.replaceAll('\r\n', '\n');
}

describe('the container tsbuild run gives is the one docker run gives', () => {
  let t: ReturnType<typeof tempRoot>;
  const ours = (args: string[]) => tsb(t.root, ['run', '--rm', ...args], { allowFail: true });
  const theirs = (args: string[]) =>
    spawnSync('/usr/bin/docker', ['run', '--rm', ...args], { encoding: 'utf8', timeout: 120_000 });

  beforeAll(() => {
    requireRoot();
    requireDocker();
    busyboxFixture();
    t = tempRoot();
    const archive = join(t.dir, 'bb.tar');
    docker(['save', '-o', archive, IMAGE]);
    tsb(t.root, ['load', '-i', archive]);
  });
  afterAll(() => t?.done());

  it('shows the same environment, devices, mounts, capabilities, masks and network absence', () => {
    const args = ['--network', 'none', IMAGE, 'sh', '-c', PROBE];
    const d = theirs(args);
    const o = ours(args);
    expect(o.status).toBe(0);
    expect(o.stdout).toBe(d.stdout);
    expect(o.stdout).toContain('== writable\n/ rw\n/tmp rw\n/dev rw\n/dev/shm rw\n/etc/hosts rw\n');
  });

  it('--read-only makes /etc/hosts, /etc/hostname and /etc/resolv.conf read-only too', () => {
    const script = 'for f in hosts hostname resolv.conf; do (echo >> /etc/$f) 2>&1; echo "$f rc=$?"; done';
    const args = ['--read-only', '--network', 'none', IMAGE, 'sh', '-c', script];
    const o = ours(args);
    expect(o.stdout).toBe(theirs(args).stdout);
    expect(o.stdout).toContain("sh: can't create /etc/hosts: Read-only file system\nhosts rc=1\n");
  });

  it('-t gives the user the terminal with the tty group (5) that devpts assigns, as runc does', () => {
    requireCommand('script', 'apt-get install -y bsdutils');
    const probe = 'ls -ln "$(tty)" /dev/console | awk \'{print $1, $3, $4, $NF}\'; id -u; [ -t 0 ] && echo tty';
    for (const user of ['0', '1000', '65534:65534']) {
      const args = ['run', '--rm', '-t', '-u', user, '--network', 'none', IMAGE, 'sh', '-c', probe];
      const o = inTerminal([process.execPath, '--', CLI, '--root', t.root, ...args]);
      expect(o).toBe(inTerminal(['/usr/bin/docker', ...args]));
      expect(o).toMatch(/^crw--w---- \S+ 5 /);
    }
  });

  it("-w naming a file fails before the command starts, in Docker's words", () => {
    const o = ours(['-w', '/etc/passwd', IMAGE, 'pwd']);
    const d = theirs(['-w', '/etc/passwd', IMAGE, 'pwd']);
    expect([o.status, o.stdout]).toEqual([d.status, d.stdout]);
    expect(d.stderr).toContain('Cannot mkdir: /etc/passwd is not a directory');
    expect(o.stderr).toContain('cannot mkdir: /etc/passwd is not a directory');
  });

  it('mounts every cgroup v1 hierarchy the process is in under /sys/fs/cgroup (the JVM needs cpuset), and no more', () => {
    const script =
      'for c in $(cut -d: -f2 /proc/self/cgroup); do ' +
      'grep -q " - cgroup cgroup [^ ]*\\b$c\\b" /proc/self/mountinfo && echo "$c mounted" || echo "$c missing"; ' +
      'done | sort; [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && ls /sys/fs/cgroup';
    const args = ['--memory', '64m', '--network', 'none', IMAGE, 'sh', '-c', script];
    const o = ours(args);
    expect(o.stdout).toBe(theirs(args).stdout);
    expect(o.stdout).not.toContain('missing');
  });
});
