import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunSpec } from '../../../runtime-native/index.js';
import { busyboxFixture, requireRoot } from '../../helpers/prereqs.js';
import { expectNoLeaks, type LeakSnapshot, leakSnapshot, runSpecsAs, testUser } from './support.js';

/** Runs the specs (over an overlay of `lower`), as root or as tsbuild-test. */
const run = (specs: (Partial<RunSpec> & { args: string[] })[], as: 'root' | 'tsbuild-test', lower: string) =>
  runSpecsAs(as, specs, lower);

const PROBE = [
  'cat /etc/hosts',
  '(cat /etc/hostname) 2>&1',
  '(echo x >> /etc/hosts) 2>&1; echo "hosts rc=$?"',
  '(echo x >> /etc/resolv.conf) 2>&1; echo "resolv rc=$?"',
].join('; ');

describe.each(['root', 'tsbuild-test'] as const)('/etc files of a container started by %s', (as) => {
  let before: LeakSnapshot;
  let lower = '';
  let copy = '';
  beforeAll(() => {
    requireRoot();
    lower = busyboxFixture().rootfs;
    if (as === 'root') return;
    // A rootless rootfs belongs to the caller (root in its user namespace), as the snapshotter unpacks it.
    copy = mkdtempSync('/var/tmp/tsb-etc-files-');
    execFileSync('cp', ['-a', `${lower}/.`, copy]);
    execFileSync('chown', ['-R', `${testUser().uid}:${testUser().gid}`, copy]);
    lower = copy;
  });
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it("binds BuildKit's RUN files read-only and leaves out /etc/hostname when told to", () => {
    const [o] = run(
      [
        {
          args: ['/bin/sh', '-c', PROBE],
          hostname: 'buildkitsandbox',
          etcFiles: { hosts: '127.0.0.1\tlocalhost buildkitsandbox\n', hostname: false, readonly: true },
        },
      ],
      as,
      lower,
    );
    expect(o?.error).toBeUndefined();
    expect(o?.stdout).toBe(
      [
        '127.0.0.1\tlocalhost buildkitsandbox',
        "cat: can't open '/etc/hostname': No such file or directory",
        "/bin/sh: can't create /etc/hosts: Read-only file system",
        'hosts rc=1',
        "/bin/sh: can't create /etc/resolv.conf: Read-only file system",
        'resolv rc=1',
        '',
      ].join('\n'),
    );
  });

  it('makes them read-only with a read-only rootfs, and writable otherwise', () => {
    const [ro, rw] = run(
      [
        { args: ['/bin/sh', '-c', PROBE], hostname: 'box', readonlyRootfs: true },
        { args: ['/bin/sh', '-c', PROBE], hostname: 'box' },
      ],
      as,
      lower,
    );
    expect(ro?.stdout).toContain('box\n');
    expect(ro?.stdout).toContain('hosts rc=1\n');
    expect(ro?.stdout).toContain('resolv rc=1\n');
    expect(rw?.stdout).toContain('hosts rc=0\n');
    expect(rw?.stdout).toContain('resolv rc=0\n');
  });
});
