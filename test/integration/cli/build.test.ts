import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, type CliResult, tsbuild } from '../../helpers/cli.js';
import { busyboxFixture } from '../../helpers/prereqs.js';

let tar: string;
beforeAll(() => {
  tar = busyboxFixture().tar;
});

/** A temp dir with a store root (busybox imported as `busybox`) and a `ctx` build context. */
interface Sandbox {
  dir: string;
  root: string;
  ctx: string;
  run(args: string[], options?: { input?: string; cwd?: string; env?: Record<string, string> }): CliResult;
}

function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-cli-build-'));
  const root = join(dir, 'root');
  const ctx = join(dir, 'ctx');
  mkdirSync(ctx);
  const run: Sandbox['run'] = (args, options = {}) => tsbuild(['--root', root, ...args], { cwd: dir, ...options });
  const imported = run(['import', tar, 'busybox']);
  if (imported.status !== 0) throw new Error(`tsbuild import failed: ${imported.stderr}`);
  return { dir, root, ctx, run };
}

function files(dir: string, entries: Record<string, string>): void {
  for (const [name, text] of Object.entries(entries)) writeFileSync(join(dir, name), text);
}

function inspect(s: Sandbox, ref: string): { Id: string; Config: { Labels?: Record<string, string>; Env?: string[] } } {
  const r = s.run(['inspect', ref]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout)[0];
}

/** Lines of /proc/mounts that belong to the build process `pid` or lie under `dir`. */
function leftoverMounts(pid: number | undefined, dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => (pid !== undefined && l.includes(`/tsbuild/build/${pid}.`)) || l.includes(dir));
}

describe('tsbuild build', () => {
  let s: Sandbox;
  beforeEach(() => {
    s = sandbox();
  });
  afterEach(() => {
    rmSync(s.dir, { recursive: true, force: true });
  });

  it('builds a context into the store and prints plain progress as BuildKit does', () => {
    files(s.ctx, {
      Dockerfile: 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt && echo err >&2\n',
      'hello.txt': 'hello from the context\n',
    });
    const r = s.run(['build', '-t', 'x', 'ctx']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const id = inspect(s, 'x').Id;
    expect(r.stderr).toContain('#1 [1/3] FROM docker.io/library/busybox:latest\n');
    expect(r.stderr).toContain('#2 [2/3] COPY hello.txt /hello.txt\n');
    expect(r.stderr).toContain('#3 [3/3] RUN cat /hello.txt && echo err >&2\n');
    expect(r.stderr).toMatch(/\n#3 \d+\.\d{3} hello from the context\n/);
    expect(r.stderr).toMatch(/\n#3 \d+\.\d{3} err\n/);
    expect(r.stderr).toMatch(/\n#3 DONE \d+\.\ds\n/);
    expect(r.stderr).toContain(`#4 writing image ${id} done\n`);
    expect(r.stderr).toContain('#4 naming to docker.io/library/x:latest done\n');

    const again = s.run(['build', '-t', 'x', 'ctx']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('#3 [3/3] RUN cat /hello.txt && echo err >&2\n#3 CACHED\n');
    expect(again.stderr).toContain(`#4 writing image ${id} done\n`);
  });

  it('is the default command: tsbuild -t x CONTEXT', () => {
    files(s.ctx, { Dockerfile: 'FROM busybox\nRUN echo default > /d\n' });
    const r = s.run(['-t', 'dflt:1', 'ctx']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('naming to docker.io/library/dflt:1 done');
    expect(inspect(s, 'dflt:1').Id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('prints only the image ID on stdout with -q, and writes --iidfile', () => {
    files(s.ctx, { Dockerfile: 'FROM busybox\nRUN echo quiet\n' });
    const iid = join(s.dir, 'iid');
    const r = s.run(['build', '-q', '--iidfile', iid, '-t', 'q', 'ctx']);
    expect(r.status, r.stderr).toBe(0);
    const id = inspect(s, 'q').Id;
    expect(r.stdout).toBe(`${id}\n`);
    expect(r.stderr).toBe('');
    expect(readFileSync(iid, 'utf8')).toBe(id);
  });

  it('reads the Dockerfile from stdin with -f -, the context still the positional', () => {
    files(s.ctx, { 'data.txt': 'stdin build\n' });
    const r = s.run(['build', '-f', '-', '-t', 'stdin', 'ctx'], {
      input: 'FROM busybox\nCOPY data.txt /\nRUN cat /data.txt\n',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/#3 \d+\.\d{3} stdin build\n/);
  });

  it('takes a Dockerfile from outside the context with -f', () => {
    files(s.dir, { 'Outside.Dockerfile': 'FROM busybox\nCOPY in-ctx.txt /\nRUN cat /in-ctx.txt\n' });
    files(s.ctx, { 'in-ctx.txt': 'outside dockerfile\n' });
    const r = s.run(['build', '-f', 'Outside.Dockerfile', '-t', 'outside', 'ctx']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/#3 \d+\.\d{3} outside dockerfile\n/);
  });

  it('passes --build-arg, --label and --target, and warns about a build-arg no ARG declares', () => {
    files(s.ctx, {
      Dockerfile: 'FROM busybox AS one\nARG GREETING\nRUN echo "$GREETING" > /g\nFROM one AS two\nRUN exit 9\n',
    });
    const r = s.run([
      'build',
      '--build-arg',
      'GREETING=hi there',
      '--build-arg',
      'UNUSED_ARG=1',
      '--label',
      'org.example.team=builders',
      '--target',
      'one',
      '-t',
      'args',
      'ctx',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('UNUSED_ARG');
    expect(r.stderr).toContain('were not consumed');
    expect(r.stderr).not.toContain('exit 9');
    expect(inspect(s, 'args').Config.Labels).toMatchObject({ 'org.example.team': 'builders' });
    const out = s.run(['run', '--rm', 'args', 'cat', '/g']);
    expect(out.stdout).toBe('hi there\n');
  });

  it('fails a RUN with exit 1, the step, its line and code frame and the exit code', () => {
    files(s.ctx, { Dockerfile: 'FROM busybox\nRUN echo before && exit 3\n' });
    const iid = join(s.dir, 'iid');
    writeFileSync(iid, 'stale');
    const r = s.run(['build', '--iidfile', iid, 'ctx']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('#2 [2/2] RUN echo before && exit 3\n');
    expect(r.stderr).toContain(
      '#2 ERROR: process "/bin/sh -c echo before && exit 3" did not complete successfully: exit code: 3\n',
    );
    expect(r.stderr).toMatch(/------\n > \[2\/2\] RUN echo before && exit 3:\n\d+\.\d{3} before\n------\n/);
    expect(r.stderr).toContain(`${join(s.ctx, 'Dockerfile')}:2:1: error: process "/bin/sh -c echo before && exit 3"`);
    expect(r.stderr).toContain('>>> RUN echo before && exit 3');
    // A failed build leaves no stale image ID behind.
    expect(() => readFileSync(iid)).toThrow();
  });

  it('prints the whole progress after a failure with -q, as docker build -q does', () => {
    files(s.ctx, { Dockerfile: 'FROM busybox\nRUN echo shown-on-failure; exit 2\n' });
    const r = s.run(['build', '-q', 'ctx']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/#2 \d+\.\d{3} shown-on-failure\n/);
    expect(r.stderr).toContain('exit code: 2');
  });

  it('names a missing context directory and a missing Dockerfile', () => {
    const noCtx = s.run(['build', 'no-such-dir']);
    expect(noCtx.status).toBe(1);
    expect(noCtx.stderr).toContain('unable to prepare context: path "no-such-dir" not found');
    const noFile = s.run(['build', 'ctx']);
    expect(noFile.status).toBe(1);
    expect(noFile.stderr).toContain(
      `failed to read dockerfile: open ${join(s.ctx, 'Dockerfile')}: no such file or directory`,
    );
    const noF = s.run(['build', '-f', 'nope.Dockerfile', 'ctx']);
    expect(noF.status).toBe(1);
    expect(noF.stderr).toContain(join(s.dir, 'nope.Dockerfile'));
  });

  it('rejects bad flags with usage errors naming them', () => {
    expect(s.run(['build', '--bogus', 'ctx']).stderr).toContain('unknown flag: --bogus');
    expect(s.run(['build', '--progress', 'fancy', 'ctx']).stderr).toContain('invalid value for --progress: "fancy"');
    expect(s.run(['build', '--network', 'bridge', 'ctx']).stderr).toContain('invalid value for --network');
    const stdinCtx = s.run(['build', '-']);
    expect(stdinCtx.status).toBe(1);
    expect(stdinCtx.stderr).toContain('a build context from stdin (-) is not supported');
    expect(s.run(['build']).stderr).toContain('"tsbuild build" requires exactly 1 argument');
    expect(s.run(['build', '--help']).stdout).toContain('Usage: tsbuild build [OPTIONS] CONTEXT');
    // The test's stderr is a pipe: spinners need a terminal.
    expect(s.run(['build', '--progress=tty', 'ctx']).stderr).toContain('--progress=tty needs a terminal');
  });

  it('prints one JSON event per line with --progress=json, ending a failure with build-error', () => {
    files(s.ctx, { Dockerfile: 'FROM busybox\nRUN echo json-line\n', 'Fail.Dockerfile': 'FROM busybox\nRUN exit 4\n' });
    const ok = s.run(['build', '--progress=json', '-t', 'j', 'ctx']);
    expect(ok.status, ok.stderr).toBe(0);
    const events = ok.stderr
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events[0].type).toBe('build-start');
    expect(events.at(-1)).toMatchObject({
      type: 'build-done',
      imageId: inspect(s, 'j').Id,
      names: ['docker.io/library/j:latest'],
    });
    expect(events).toContainEqual(expect.objectContaining({ type: 'step-log', data: 'json-line', stream: 'stdout' }));
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'step-start', step: expect.objectContaining({ name: 'RUN echo json-line' }) }),
    );

    const bad = s.run(['build', '--progress=json', '-f', 'ctx/Fail.Dockerfile', 'ctx']);
    expect(bad.status).toBe(1);
    const lines = bad.stderr
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual(expect.objectContaining({ type: 'step-error', exitCode: 4 }));
    expect(lines.at(-1)).toMatchObject({
      type: 'build-error',
      canceled: false,
      code: 'TSB_BUILD_RUN_FAILED',
      ranges: [expect.objectContaining({ start: { line: 2, column: 1 } })],
    });
  });

  it('exports with -o: an OCI layout tar, a rootfs directory, and a tar on stdout with -o -', () => {
    files(s.ctx, { Dockerfile: 'FROM busybox\nRUN echo exported > /exported.txt\n' });
    const oci = join(s.dir, 'oci.tar');
    const local = join(s.dir, 'rootfs');
    const r = s.run(['build', '-o', `type=oci,dest=${oci}`, '-o', local, 'ctx']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(local, 'exported.txt'), 'utf8')).toBe('exported\n');
    const index = spawnSync('tar', ['-xOf', oci, 'index.json'], { encoding: 'utf8' });
    expect(JSON.parse(index.stdout).manifests).toHaveLength(1);
    const piped = spawnSync(process.execPath, [CLI, '--root', s.root, 'build', '-o', '-', 'ctx'], {
      cwd: s.dir,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(piped.status, piped.stderr.toString()).toBe(0);
    const tarList = spawnSync('tar', ['-t'], { input: piped.stdout, encoding: 'utf8' });
    expect(tarList.stdout.split('\n')).toContain('exported.txt');
  });

  it('prints every line of a step that prints a lot', () => {
    files(s.ctx, { Dockerfile: 'FROM busybox\nRUN seq 1 50000\n' });
    const r = s.run(['build', '--progress=plain', 'ctx']);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /^#2 \d+\.\d{3} \d+$/.test(l));
    expect(lines).toHaveLength(50000);
    expect(lines.at(-1)).toMatch(/ 50000$/);
  });

  it('stops on Ctrl-C: prints canceled, exits 130 and leaves no mount behind', async () => {
    files(s.ctx, { Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' });
    const child = spawn(process.execPath, [CLI, '--root', s.root, 'build', '--progress=plain', 'ctx'], {
      cwd: s.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const started = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/#2 \d+\.\d{3} started\n/.test(stderr)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await started;
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(130);
    expect(stderr).toContain('#2 CANCELED\n');
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('canceled');
    expect(leftoverMounts(child.pid, s.dir)).toEqual([]);
  });
});
