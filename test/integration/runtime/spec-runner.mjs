// Runs RunSpecs in this process and prints one JSON result per spec: the rootless tests start it
// with the uid of tsbuild-test, the cgroup v2 tests in a mount namespace where /sys/fs/cgroup is cgroup2.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { NativeRuntime } = await import(process.argv[2]);
const cases = JSON.parse(Buffer.from(process.argv[3], 'base64').toString());
const runtime = new NativeRuntime();
const results = [];
for (const spec of cases) {
  const scratch = mkdtempSync(join(tmpdir(), 'tsb-rt-rootless-'));
  try {
    if (spec.rootfs === 'overlay') {
      mkdirSync(join(scratch, 'upper'));
      mkdirSync(join(scratch, 'work'));
      spec.rootfs = { lowerdirs: [spec.lower], upperdir: join(scratch, 'upper'), workdir: join(scratch, 'work') };
      delete spec.lower;
    }
    const c = runtime.start(spec, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b) => {
      stdout += b;
    });
    c.stderr.on('data', (b) => {
      stderr += b;
    });
    const closed = Promise.all([
      new Promise((r) => c.stdout.on('close', r)),
      new Promise((r) => c.stderr.on('close', r)),
    ]);
    try {
      const r = await c.wait();
      await closed;
      results.push({ ...r, stdout, stderr });
    } catch (e) {
      c.stdout.destroy();
      c.stderr.destroy();
      results.push({ error: { code: e.code, step: e.step, syscall: e.syscall, field: e.field, message: e.message } });
    }
  } finally {
    // overlayfs leaves work/work with mode 000; Node 24's rmSync does not chmod its way in as Node 20's did.
    try {
      chmodSync(join(scratch, 'work', 'work'), 0o700);
    } catch {}
    rmSync(scratch, { recursive: true, force: true });
  }
}
process.stdout.write(JSON.stringify(results));
