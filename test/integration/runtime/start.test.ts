import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireRoot } from '../../helpers/prereqs.js';
import { busyboxOverlay, capture, expectNoLeaks, type LeakSnapshot, leakSnapshot, runtime, sh } from './support.js';

describe('NativeRuntime start', () => {
  let before: LeakSnapshot;
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it('runs true in the busybox rootfs and reports exit 0', async () => {
    const r = await runtime.run({ rootfs: busyboxOverlay(), args: ['true'] }, 'ignore');
    expect(r).toEqual({ exitCode: 0 });
  });

  it('reports the exit status of the process', async () => {
    const r = await capture(sh('echo out; echo err >&2; exit 3'));
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  it('runs several containers at once from one process', async () => {
    const runs = Array.from({ length: 6 }, (_, i) => capture(sh(`echo ${i}; exit ${i}`)));
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect(r.exitCode).toBe(i);
      expect(r.stdout).toBe(`${i}\n`);
    });
  });
});
