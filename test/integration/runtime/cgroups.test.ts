import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireRoot } from '../../helpers/prereqs.js';
import { capture, expectNoLeaks, type LeakSnapshot, leakSnapshot, runtime, sh } from './support.js';

const MB = 1024 * 1024;

function read(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

function waitFor(stream: NodeJS.ReadableStream, marker: string): Promise<void> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (b: Buffer) => {
      text += b.toString();
      if (text.includes(marker)) resolve();
    });
  });
}

describe('cgroups', () => {
  let before: LeakSnapshot;
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it('writes memory, cpu and pids limits as Docker does (v1 controllers, hybrid tracking in the unified tree)', async () => {
    const limited = runtime.start(
      sh('cat /proc/self/cgroup; echo ready; exec sleep 5', {
        resources: { memory: 64 * MB, cpuQuota: 50_000, pids: 50 },
      }),
      { stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' },
    );
    let out = '';
    limited.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
    });
    await waitFor(limited.stdout!, 'ready');
    try {
      const cg = limited.cgroupInfo!;
      const v2 = statfsSync('/sys/fs/cgroup').type === 0x63677270;
      if (v2) {
        expect(cg.version).toBe(2);
        expect(read(`${cg.unified}/memory.max`)).toBe(String(64 * MB));
        expect(read(`${cg.unified}/cpu.max`)).toBe('50000 100000');
        expect(read(`${cg.unified}/pids.max`)).toBe('50');
      } else {
        expect(cg.version).toBe(1);
        expect(read(`${cg.memory}/memory.limit_in_bytes`)).toBe(String(64 * MB));
        if (existsSync(`${cg.memory}/memory.memsw.limit_in_bytes`)) {
          expect(read(`${cg.memory}/memory.memsw.limit_in_bytes`)).toBe(String(128 * MB));
        }
        expect(read(`${cg.cpu}/cpu.cfs_quota_us`)).toBe('50000');
        expect(read(`${cg.cpu}/cpu.cfs_period_us`)).toBe('100000');
        expect(read(`${cg.pids}/pids.max`)).toBe('50');
        if (cg.unified) {
          // The unified (cgroup2) directory tracks the processes and gives cgroup.kill.
          expect(read(`${cg.unified}/cgroup.procs`)).toContain(String(limited.pid));
          expect(existsSync(`${cg.unified}/cgroup.kill`)).toBe(true);
        }
      }
    } finally {
      limited.kill('SIGKILL');
      await limited.wait();
    }
    expect(out).toMatch(/pids:\/.*tsbuild-[0-9a-f]{12}/);
  });

  it('reports an OOM kill inside the container only', async () => {
    const r = await capture(
      sh('head -c 200m /dev/zero | tail > /dev/null; echo "status=$?"', {
        resources: { memory: 16 * MB, memorySwap: 16 * MB },
      }),
    );
    expect(r.oomKilled).toBe(true);
    // The OOM killer picks the biggest process, tail; should it pick the shell, the container ends with it.
    if (r.stdout !== '') expect(r.stdout).toBe('status=137\n');
    else expect(r.exitCode).toBe(137);
  });

  it('stops a fork bomb at the pids limit', async () => {
    const c = runtime.start(
      sh('sh -c "while :; do sleep 30 & done"; echo "bomb stopped: $?"; exec sleep 30', { resources: { pids: 10 } }),
      { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    let err = '';
    c.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
    });
    try {
      await waitFor(c.stdout!, 'bomb stopped: 2');
      const { pids } = await c.stats();
      expect(pids).toBeGreaterThan(5);
      expect(pids).toBeLessThanOrEqual(10);
    } finally {
      c.kill('SIGKILL');
      await c.wait();
    }
    expect(err).toContain("can't fork");
  });

  it('reads memory and cpu use while the container runs', async () => {
    const c = runtime.start(
      sh('i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo ready; exec sleep 5', {
        resources: { memory: 64 * MB },
      }),
      {
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'inherit',
      },
    );
    try {
      await waitFor(c.stdout!, 'ready');
      const stats = await c.stats();
      expect(stats.memoryUsage).toBeGreaterThan(0);
      expect(stats.memoryLimit).toBe(64 * MB);
      expect(stats.cpuTimeNs).toBeGreaterThan(0);
      expect(stats.pids).toBe(1);
    } finally {
      c.kill('SIGKILL');
      await c.wait();
    }
  });

  it('removes the cgroup after exit, also after a set-up failure', async () => {
    await capture(sh('true', { resources: { pids: 5 } }));
    await expect(capture(sh('true', { cwd: '/proc/self/fd/3' }))).rejects.toMatchObject({ code: 'TSB_RUNTIME_SETUP' });
  });
});
