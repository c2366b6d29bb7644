import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRootfsFile, rootfsFromMounts } from '../../../runtime-native/index.js';

describe('readRootfsFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsb-unit-rootfs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads through symlinks resolved inside the root, never on the host', () => {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'data'));
    writeFileSync(join(root, 'data', 'passwd'), 'inside\n');
    symlinkSync('/data/passwd', join(root, 'etc', 'passwd'));
    symlinkSync('../../../../../../etc/hostname', join(root, 'etc', 'up'));
    symlinkSync('/etc/loop', join(root, 'etc', 'loop'));
    expect(readRootfsFile(root, '/etc/passwd')).toBe('inside\n');
    // ../ above / stays at / of the container: /etc/hostname there does not exist.
    expect(readRootfsFile(root, '/etc/up')).toBeUndefined();
    expect(readRootfsFile(root, '/etc/loop')).toBeUndefined();
    expect(readRootfsFile(root, '/etc/missing')).toBeUndefined();
    expect(readRootfsFile(root, '/etc')).toBeUndefined();
  });

  it('looks in the upper layer first, then the lower ones from the top', () => {
    const [upper, l1, l2] = ['upper', 'l1', 'l2'].map((n) => join(dir, n)) as [string, string, string];
    for (const d of [upper, l1, l2]) mkdirSync(join(d, 'etc'), { recursive: true });
    writeFileSync(join(l2, 'etc', 'passwd'), 'bottom\n');
    writeFileSync(join(l2, 'etc', 'group'), 'bottom group\n');
    writeFileSync(join(l1, 'etc', 'passwd'), 'middle\n');
    const overlay = { lowerdirs: [l1, l2], upperdir: upper, workdir: join(dir, 'work') };
    expect(readRootfsFile(overlay, '/etc/passwd')).toBe('middle\n');
    expect(readRootfsFile(overlay, '/etc/group')).toBe('bottom group\n');
    writeFileSync(join(upper, 'etc', 'passwd'), 'top\n');
    expect(readRootfsFile(overlay, '/etc/passwd')).toBe('top\n');
  });
});

describe('rootfsFromMounts', () => {
  it('turns a snapshotter overlay mount into an overlay rootfs', () => {
    expect(
      rootfsFromMounts([
        {
          type: 'overlay',
          source: 'overlay',
          options: ['index=off', 'workdir=/s/2/work', 'upperdir=/s/2/fs', 'lowerdir=/s/1/fs:/s/0/fs'],
        },
      ]),
    ).toEqual({
      rootfs: { lowerdirs: ['/s/1/fs', '/s/0/fs'], upperdir: '/s/2/fs', workdir: '/s/2/work', options: ['index=off'] },
      readonly: false,
    });
  });

  it('takes a bind mount as a directory rootfs', () => {
    expect(rootfsFromMounts([{ type: 'bind', source: '/s/1/fs', options: ['rbind', 'ro'] }])).toEqual({
      rootfs: '/s/1/fs',
      readonly: true,
    });
    expect(() => rootfsFromMounts([])).toThrow('exactly one');
    expect(() => rootfsFromMounts([{ type: 'nfs', source: 'x', options: [] }])).toThrow('unsupported');
  });
});
