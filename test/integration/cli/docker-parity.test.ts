import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, tsbuild } from '../../helpers/cli.js';
import { busyboxFixture, requireDocker } from '../../helpers/prereqs.js';
import { docker, tempRoot, tsb } from '../image/support.js';

function tsbuildWithEnv(root: string, args: string[], env: Record<string, string>): string {
  const r = tsbuild(['--root', root, ...args], { env });
  if (r.status !== 0) throw new Error(`tsbuild ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function dockerWithEnv(args: string[], env: Record<string, string>): string {
  return execFileSync('/usr/bin/docker', args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}

beforeAll(() => {
  requireDocker();
  busyboxFixture();
});

/** A fresh store holding the busybox fixture image as docker saves it. */
function busyboxStore(): ReturnType<typeof tempRoot> {
  const t = tempRoot();
  const archive = join(t.dir, 'bb.tar');
  docker(['save', '-o', archive, 'tsbuild-busybox:latest']);
  tsb(t.root, ['load', '-i', archive]);
  return t;
}

/** tsbuild's answers side by side with `docker`'s, on the busybox fixture image loaded into both. */
describe('CLI output as the docker CLI prints it', () => {
  let t: ReturnType<typeof tempRoot>;
  beforeEach(() => {
    t = busyboxStore();
  });
  afterEach(() => t.done());

  it('images --format takes Go templates, with a header for table templates', () => {
    tsb(t.root, ['tag', 'tsbuild-busybox', 'localhost:5000/h3/x:v1']);
    const args = ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}', 'tsbuild-busybox'];
    expect(tsb(t.root, args).stdout).toBe(docker(args));
    const table = ['images', '--format', 'table {{.Repository}}\\t{{.Tag}}', 'tsbuild-busybox'];
    expect(tsb(t.root, table).stdout).toBe(docker(table));
    const all = tsb(t.root, ['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').sort();
    expect(all).toEqual(['', 'localhost:5000/h3/x:v1', 'tsbuild-busybox:latest']);
    const bad = tsb(t.root, ['images', '--format', '{{.Nope}}'], { allowFail: true });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(
      `template parsing error: template: executing "" at <.Nope>: can't evaluate field Nope`,
    );
  });

  it('images --filter dangling, reference and label as the daemon filters', () => {
    tsb(t.root, ['tag', 'tsbuild-busybox', 'h3/one:1']);
    tsb(t.root, ['tag', 'tsbuild-busybox', 'h3/two:2']);
    const refs = (filter: string) =>
      tsb(t.root, ['images', '--filter', filter, '--format', '{{.Repository}}:{{.Tag}}'])
        .stdout.trim()
        .split('\n')
        .sort();
    expect(refs('reference=h3/*')).toEqual(['h3/one:1', 'h3/two:2']);
    expect(refs('reference=h3/one:*')).toEqual(['h3/one:1']);
    expect(refs('dangling=false')).toHaveLength(3);
    const pattern = tsb(t.root, ['images', 'h3/t*', '--format', '{{.Repository}}:{{.Tag}}']).stdout;
    expect(pattern).toBe('h3/two:2\n');
    expect(tsb(t.root, ['images', '-f', 'dangling=true', '-q']).stdout).toBe('');
    expect(tsb(t.root, ['images', '-f', 'label=nope', '-q']).stdout).toBe('');
    expect(tsb(t.root, ['images', '-a', '-f', 'label=org.tsbuild.fixture.sha256', '-q']).stdout).not.toBe('');
    const bad = tsb(t.root, ['images', '--filter', 'color=red'], { allowFail: true });
    expect([bad.status, bad.stderr]).toEqual([1, "error: invalid filter 'color' [TSB_USAGE]\n"]);
  });

  it('history and inspect take --format templates', () => {
    const history = [
      'history',
      '--format',
      '{{.ID}}|{{.CreatedAt}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}',
      'tsbuild-busybox',
    ];
    expect(tsb(t.root, history).stdout).toBe(docker(history));
    const inspect = [
      'inspect',
      '-f',
      // Not .Id: docker's typed view calls it .ID and falls back to raw JSON for .Id, where a null prints <no value>.
      '{{.Os}}/{{.Architecture}} {{json .Config.Cmd}} {{.Config.Entrypoint}} {{len .RootFS.Layers}} {{.Size}}',
      'tsbuild-busybox',
    ];
    expect(tsb(t.root, inspect).stdout).toBe(docker(inspect));
    const raw = ['history', '-H=false', 'tsbuild-busybox'];
    expect(tsb(t.root, raw).stdout).toBe(docker(raw));
    const label = ['inspect', '-f', '{{.Config.Labels.none}}|{{.Config.Volumes}}', 'tsbuild-busybox'];
    expect(tsb(t.root, label).stdout).toBe(docker(label));
    expect(tsb(t.root, ['inspect', '-f', '{{.Id}}', 'tsbuild-busybox']).stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });

  it('load -q still names what it loaded, as docker load -q does', () => {
    const archive = join(t.dir, 'again.tar');
    docker(['save', '-o', archive, 'tsbuild-busybox:latest']);
    expect(tsb(t.root, ['load', '-q', '-i', archive]).stdout).toBe(docker(['load', '-q', '-i', archive]));
  });

  it('import takes --change and a tar on stdin (-), and inspect prints the config as docker does', () => {
    const rootfs = '/var/tmp/tsbuild-fixtures/busybox/rootfs.tar';
    const name = `tsbuild-itest-import-${process.pid}`;
    const changes = ['-c', 'CMD ["/bin/echo","hi"]', '-c', 'ENV A=1 B="x y"', '-c', 'EXPOSE 80 53/udp'];
    changes.push('-c', 'LABEL z=1 a=b', '-c', 'WORKDIR /srv', '-c', 'USER nobody', '-c', 'VOLUME /data');
    tsb(t.root, ['import', ...changes, rootfs, `${name}:1`]);
    docker(['import', ...changes, rootfs, `${name}:1`]);
    try {
      const config = ['inspect', '-f', '{{json .Config}}', `${name}:1`];
      expect(tsb(t.root, config).stdout).toBe(docker(config));
    } finally {
      docker(['rmi', `${name}:1`], { allowFail: true });
    }
    const fd = openSync(rootfs, 'r');
    try {
      const fromStdin = spawnSync(process.execPath, [CLI, '--root', t.root, 'import', '-', `${name}:2`], {
        stdio: [fd, 'pipe', 'pipe'],
        encoding: 'utf8',
      });
      expect([fromStdin.status, fromStdin.stderr]).toEqual([0, '']);
    } finally {
      closeSync(fd);
    }
    expect(tsb(t.root, ['history', '--format', '{{.Comment}}', `${name}:2`]).stdout).toBe('Imported from -\n');
  });

  it('save and export to a pipe closed early end quietly with 141, as docker save does', () => {
    for (const cmd of ['save', 'export']) {
      const script = `"$0" -- "$1" --root "$2" ${cmd} tsbuild-busybox | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`;
      const r = spawnSync('bash', ['-c', script, process.execPath, CLI, t.root], { encoding: 'utf8' });
      expect([r.stdout, r.stderr]).toEqual(['141\n', '']);
    }
    const noFile = tsb(t.root, ['save', 'tsbuild-busybox', '-o'], { allowFail: true });
    expect([noFile.status, noFile.stderr]).toEqual([
      125,
      "error: flag needs an argument: -o\nSee 'tsbuild save --help'.\n",
    ]);
  });

  it('usage mistakes print Docker’s messages and exit codes', () => {
    const unknownFlag = tsb(t.root, ['images', '--bogus'], { allowFail: true });
    expect([unknownFlag.status, unknownFlag.stderr]).toEqual([
      125,
      "error: unknown flag: --bogus\nSee 'tsbuild images --help'.\n",
    ]);
    const buildFlag = tsb(t.root, ['build', '--bogus', '.'], { allowFail: true });
    expect([buildFlag.status, buildFlag.stderr]).toEqual([125, 'error: unknown flag: --bogus [TSB_USAGE]\n']);
    expect(tsb(t.root, ['build', '-t', 'Bad', '.'], { allowFail: true }).status).toBe(125);
    expect(tsb(t.root, ['build'], { allowFail: true }).status).toBe(1);
    const count = tsb(t.root, ['tag', 'tsbuild-busybox'], { allowFail: true });
    expect([count.status, count.stderr]).toEqual([
      1,
      `error: "tsbuild tag" requires exactly 2 arguments.\nSee 'tsbuild tag --help'.\n`,
    ]);
    const noValue = tsb(t.root, ['images', '--format'], { allowFail: true });
    expect(noValue.status).toBe(125);
    expect(noValue.stderr).toContain('flag needs an argument: --format');
    const unknownCommand = tsb(t.root, ['imagez'], { allowFail: true });
    expect([unknownCommand.status, unknownCommand.stderr]).toEqual([
      1,
      "error: 'imagez' is not a tsbuild command, nor a build context\nSee 'tsbuild --help'.\n",
    ]);
    const bare = tsb(t.root, []);
    expect(bare.stdout).toContain('Commands:');
    expect(tsb(t.root, ['help']).stdout).toBe(bare.stdout);
    expect(tsb(t.root, ['help', 'tag']).stdout).toMatch(/^tsbuild tag <source> <target>/);
    expect(tsb(t.root, ['version']).stdout).toMatch(/^tsbuild version \S+, build \S+\n$/);
  });
});

describe('run as docker run answers', () => {
  let t: ReturnType<typeof tempRoot>;
  beforeEach(() => {
    t = busyboxStore();
  });
  afterEach(() => t.done());

  it('-it with a pipe on stdin is refused as Docker refuses it', () => {
    const r = tsb(t.root, ['run', '-it', 'tsbuild-busybox', 'cat'], { input: 'x\n', allowFail: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the input device is not a TTY');
    const piped = tsb(t.root, ['run', '-i', 'tsbuild-busybox', 'cat'], { input: 'x\n' });
    expect(piped.stdout).toBe('x\n');
  });

  it('exit codes: the command’s own, 126 when not executable, 127 when missing, 125 for tsbuild’s errors', () => {
    const code = (args: string[]) => tsb(t.root, ['run', ...args], { allowFail: true }).status;
    expect(code(['tsbuild-busybox', 'sh', '-c', 'exit 3'])).toBe(3);
    expect(code(['tsbuild-busybox', '/etc/passwd'])).toBe(126);
    expect(code(['tsbuild-busybox', '/nonexistent'])).toBe(127);
    expect(code(['--bogus', 'tsbuild-busybox'])).toBe(125);
    expect(code(['-u', 'nosuch', 'tsbuild-busybox', 'id'])).toBe(125);
    // Node 20 itself reads --env-file anywhere on its command line unless `--` ends its own options, as
    // bin/tsbuild and the test helper start the CLI (launcher.test.ts runs this through bin/tsbuild).
    const nope = join(t.dir, 'nope');
    const r = tsb(t.root, ['run', '--env-file', nope, 'tsbuild-busybox', 'true'], { allowFail: true });
    expect([r.status, r.stderr]).toEqual([125, `error: open ${nope}: no such file or directory [TSB_USAGE]\n`]);
    expect(code(['tsbuild-busybox', 'sh', '-c', 'kill -9 $$'])).toBe(0);
    expect(code(['tsbuild-busybox', 'sh', '-c', 'sh -c "kill -9 \\$\\$"; exit $?'])).toBe(137);
  });

  it('-v with a host path that does not exist makes it, as docker run -v does', () => {
    const source = join(t.dir, 'made', 'here');
    tsb(t.root, ['run', '-v', `${source}:/data`, 'tsbuild-busybox', 'sh', '-c', 'echo hi > /data/f']);
    expect(readFileSync(join(source, 'f'), 'utf8')).toBe('hi\n');
    const relative = tsb(t.root, ['run', '-v', 'rel:/data', 'tsbuild-busybox', 'true'], { allowFail: true });
    expect(relative.status).toBe(125);
  });

  it('-e, --env-file and -u give the environment and user Docker gives', () => {
    const dir = t.dir;
    const envFile = join(dir, 'env');
    writeFileSync(envFile, '# comment\n\nA=1\nH3_FROM_CALLER\nH3_UNSET\nB= 2 \nC="q"\n');
    const script = 'env | grep -E "^(A|B|C|H3_[A-Z_]+)=" | sort; id';
    const args = ['--env-file', envFile, '-e', 'H3_E', '-u', 'nobody:root', 'tsbuild-busybox', 'sh', '-c', script];
    const env = { H3_FROM_CALLER: 'caller', H3_E: 'e' };
    const ours = tsbuildWithEnv(t.root, ['run', ...args], env);
    const theirs = dockerWithEnv(['run', '--rm', ...args], env);
    expect(ours).toBe(theirs);
    expect(ours).toContain('H3_FROM_CALLER=caller');
  });
});
