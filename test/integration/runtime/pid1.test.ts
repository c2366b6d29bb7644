import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busyboxFixture, requireRoot } from '../../helpers/prereqs.js';
import {
  busyboxOverlay,
  capture,
  copyRootfs,
  expectNoLeaks,
  helperProcesses,
  type LeakSnapshot,
  leakSnapshot,
  runtime,
  sh,
} from './support.js';

/** Waits until the container's stdout has printed `marker`. */
function waitFor(stream: NodeJS.ReadableStream, marker: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (b: Buffer) => {
      text += b.toString();
      if (text.includes(marker)) resolve(text);
    });
  });
}

describe('PID 1 and exit status', () => {
  let before: LeakSnapshot;
  beforeEach(() => {
    requireRoot();
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it('exits with 128+n and names the signal when PID 1 dies of signal n', async () => {
    const c = runtime.start(sh('echo ready; exec sleep 60'), { stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' });
    await waitFor(c.stdout!, 'ready');
    c.kill('SIGKILL');
    expect(await c.wait()).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    // A child killed by a signal: the shell reports 128+n as its own status.
    const r = await capture(sh('sh -c "kill -15 \\$\\$"; exit $?'));
    expect(r.exitCode).toBe(143);
  });

  it('ignores a signal PID 1 has no handler for, from inside the container (the kernel protects init)', async () => {
    const r = await capture(sh('kill -9 $$; echo survived'));
    expect(r).toMatchObject({ exitCode: 0, stdout: 'survived\n' });
  });

  it('gives 127 and a clear message for a missing command', async () => {
    const r = await capture({ rootfs: busyboxOverlay(), args: ['no-such-command'] });
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toBe('tsbuild: exec: "no-such-command": executable file not found in $PATH\n');
    const abs = await capture({ rootfs: busyboxOverlay(), args: ['/no/such'] });
    expect(abs.exitCode).toBe(127);
    expect(abs.stderr).toContain('"/no/such": no such file or directory');
  });

  it('gives 126 and a clear message for a command that is not executable', async () => {
    const t = copyRootfs();
    try {
      writeFileSync(join(t.rootfs, 'bin', 'notexec'), '#!/bin/sh\necho no\n');
      chmodSync(join(t.rootfs, 'bin', 'notexec'), 0o644);
      const r = await capture({ rootfs: t.rootfs, args: ['/bin/notexec'] });
      expect(r.exitCode).toBe(126);
      expect(r.stderr).toBe('tsbuild: exec: "/bin/notexec": Permission denied\n');
      const dir = await capture({ rootfs: t.rootfs, args: ['/etc'] });
      expect(dir.exitCode).toBe(126);
    } finally {
      t.cleanup();
    }
  });

  it('runs the command itself as PID 1 without init, so /proc/1/exe is a container binary', async () => {
    const r = await capture(sh('echo $$; readlink /proc/1/exe'));
    expect(r.stdout).toBe('1\n/bin/busybox\n');
  });

  it('forwards a signal to PID 1, which sees it when it handles it', async () => {
    const c = runtime.start(sh("trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done"), {
      stdout: 'pipe',
      stderr: 'inherit',
      stdin: 'ignore',
    });
    await waitFor(c.stdout!, 'ready');
    c.kill('SIGTERM');
    const r = await c.wait();
    expect(r.exitCode).toBe(42);
  });

  it('kills a PID 1 that ignores SIGTERM after the stop timeout when aborted', async () => {
    const ac = new AbortController();
    const c = runtime.start(
      { rootfs: busyboxOverlay(), args: ['sh', '-c', 'echo ready; exec sleep 60'], stopTimeout: 0.3 },
      { stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' },
      ac.signal,
    );
    await waitFor(c.stdout!, 'ready');
    ac.abort();
    await expect(c.wait()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reaps 100 orphaned zombies with init and forwards signals to the process', async () => {
    const script = [
      'for i in $(seq 100); do sh -c "sleep 0 &" ; done',
      'sleep 0.3',
      'zombies=0; for s in /proc/[0-9]*/stat; do case "$(cut -d" " -f3 "$s" 2>/dev/null)" in Z) zombies=$((zombies+1));; esac; done',
      'echo zombies=$zombies; echo pid=$$; readlink /proc/1/exe || echo exe-hidden',
    ].join('\n');
    const r = await capture(sh(script, { init: true }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('zombies=0\n');
    expect(r.stdout).toContain('pid=2\n');
    expect(r.stdout).toContain('exe-hidden\n');

    const c = runtime.start(sh("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done", { init: true }), {
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'inherit',
    });
    await waitFor(c.stdout!, 'ready');
    c.kill('SIGTERM');
    expect((await c.wait()).exitCode).toBe(7);
  });

  it('ends every process of the container when PID 1 exits', async () => {
    const r = await capture(sh('sleep 30 & sleep 30 & echo started'));
    expect(r).toMatchObject({ exitCode: 0, stdout: 'started\n' });
  });

  it('stops the container and removes its cgroup when the calling process dies', async () => {
    const { spawn } = await import('node:child_process');
    const dist = new URL('../../../dist/runtime-native/index.js', import.meta.url).pathname;
    const runner = new URL('./orphan-runner.mjs', import.meta.url).pathname;
    const child = spawn(process.execPath, [runner, dist, busyboxFixture().rootfs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve) => {
      child.stdout.on('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    });
    expect(pid).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    // The helper notices its caller is gone, kills the container and cleans up.
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(() => process.kill(pid, 0)).toThrow();
    for (let i = 0; i < 250 && helperProcesses().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  });

  it('kills what is left in the cgroup when there is no pid namespace', async () => {
    const r = await capture(sh('setsid sleep 30 >/dev/null 2>&1 & echo started', { namespaces: { pid: false } }));
    expect(r.stdout).toBe('started\n');
  });
});
