import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunSpec, RuntimeError } from '../../../runtime-native/index.js';
import { requireRoot } from '../../helpers/prereqs.js';
import {
  busyboxOverlay,
  capture,
  expectNoLeaks,
  type LeakSnapshot,
  leakSnapshot,
  runtime,
  sh,
  tempDir,
} from './support.js';

describe('bad specs and set-up failures', () => {
  let before: LeakSnapshot;
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  const invalid: [string, Partial<RunSpec>, string][] = [
    ['an env entry without =', { env: ['A=1', 'JUSTNAME'] }, 'env[1]'],
    ['an env entry with an empty name', { env: ['=value'] }, 'env[0]'],
    ['a NUL byte in an argument', { args: ['/bin/echo', 'a\0b'] }, 'args[1]'],
    ['a relative cwd', { cwd: 'work' }, 'cwd'],
    ['a missing rootfs', { rootfs: '/nonexistent/rootfs' }, 'rootfs'],
    ['a hostname over 64 bytes', { hostname: 'x'.repeat(65) }, 'hostname'],
    ['an empty command', { args: [] }, 'args'],
    ['a relative mount destination', { mounts: [{ type: 'tmpfs', destination: 'tmp' }] }, 'mounts[0].destination'],
    [
      'a missing bind source',
      { mounts: [{ type: 'bind', source: '/nonexistent', destination: '/x' }] },
      'mounts[0].source',
    ],
    ['an unknown capability', { capabilities: ['CAP_NOPE' as never] }, 'capabilities[0]'],
    ['a memory limit under 6MB', { resources: { memory: 1024 } }, 'resources.memory'],
    ['a soft rlimit above the hard one', { rlimits: [{ type: 'nofile', soft: 10, hard: 5 }] }, 'rlimits[0]'],
    ['an unknown network mode', { network: 'bridge' as never }, 'network'],
  ];
  for (const [what, patch, field] of invalid) {
    it(`rejects ${what} with a RuntimeError naming ${field}`, () => {
      const spec = { ...sh('true'), ...patch };
      let caught: unknown;
      try {
        runtime.start(spec);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(RuntimeError);
      expect(caught).toMatchObject({ code: 'TSB_RUNTIME_INVALID_SPEC', field });
      expect((caught as Error).message).toContain(field);
    });
  }

  it('reports the step and errno of a mount that cannot be made', async () => {
    const t = tempDir();
    try {
      mkdirSync(join(t.dir, 'dir'));
      const rootfs = busyboxOverlay();
      // A directory bind onto a file of the image.
      const err = await capture(
        sh('true', { rootfs, mounts: [{ type: 'bind', source: join(t.dir, 'dir'), destination: '/etc/passwd' }] }),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RuntimeError);
      expect(err).toMatchObject({
        code: 'TSB_RUNTIME_SETUP',
        step: 'mount /etc/passwd',
        errnoName: 'EINVAL',
        errno: 22,
        syscall: 'move_mount',
      });
      expect((err as Error).message).toBe('mount /etc/passwd: attach the mount (EINVAL)');
    } finally {
      t.cleanup();
    }
  });

  it('reports an overlay that cannot be mounted', async () => {
    const t = tempDir();
    try {
      mkdirSync(join(t.dir, 'lower'));
      mkdirSync(join(t.dir, 'upper'));
      writeFileSync(join(t.dir, 'work'), 'not a directory');
      const err = await capture(
        sh('true', {
          rootfs: { lowerdirs: [join(t.dir, 'lower')], upperdir: join(t.dir, 'upper'), workdir: join(t.dir, 'upper') },
        }),
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TSB_RUNTIME_SETUP', step: 'rootfs' });
      expect((err as RuntimeError).errno).toBeGreaterThan(0);
    } finally {
      t.cleanup();
    }
  });

  it('rejects when aborted before the start, and leaves nothing behind', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(() => runtime.start(sh('true'), 'ignore', ac.signal)).toThrow();
  });

  it('reports a set-up failure that comes before the go from the helper, every time', async () => {
    // The container sets up while its cgroup is joined and may fail before it reads the helper's `go`:
    // its error report must still arrive (a peer closing with unread packets makes the socket say ECONNRESET).
    for (let i = 0; i < 25; i++) {
      await expect(capture(sh('true', { cwd: '/proc/self/fd/3' }))).rejects.toMatchObject({
        code: 'TSB_RUNTIME_SETUP',
        step: 'cwd',
      });
    }
  });
});
