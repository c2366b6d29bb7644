import { describe, expect, it } from 'vitest';
import {
  buildHelp,
  parseBuildArgFlags,
  parseBuildCommandLine,
  parseLabelFlags,
  parseOutputFlag,
  parseSecretFlag,
} from '../../../cli/commands/build.js';
import { UsageError } from '../../../errors.js';

const parse = (words: string[], env: Record<string, string> = {}) => parseBuildCommandLine(words, env);

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a usage error');
}

describe('tsbuild build flags', () => {
  it("reads Docker's flags in any order with the context", () => {
    const line = parse([
      '-t',
      'a',
      '--tag=b:1',
      '-tc',
      '-f',
      'other/Dockerfile',
      '--build-arg',
      'A=1',
      '--build-arg=B=x=y',
      'ctx',
      '--target',
      'final',
      '--no-cache',
      '--no-cache-filter',
      'one,two',
      '--no-cache-filter=three',
      '--label',
      'org.x=1',
      '--platform',
      'linux/amd64',
      '--jobs',
      '3',
      '--debug-cache',
      '--squash',
      '--secret',
      'id=s1,src=/tmp/s1',
      '--network=none',
      '--iidfile',
      'id.txt',
      '--progress=plain',
    ]);
    expect(line.options).toEqual({
      context: 'ctx',
      dockerfile: 'other/Dockerfile',
      tags: ['a', 'b:1', 'c'],
      buildArgs: { A: '1', B: 'x=y' },
      target: 'final',
      noCache: true,
      noCacheFilter: ['one', 'two', 'three'],
      labels: { 'org.x': '1' },
      platform: 'linux/amd64',
      jobs: 3,
      debugCache: true,
      squash: true,
      secrets: [{ id: 's1', src: '/tmp/s1' }],
      network: 'none',
    });
    expect(line).toMatchObject({ progress: 'plain', quiet: false, iidfile: 'id.txt', dockerfileFromStdin: false });
  });

  it('takes -q as quiet progress, also combined with other short flags', () => {
    expect(parse(['-qt', 'x', '.'])).toMatchObject({ quiet: true, progress: 'quiet', options: { tags: ['x'] } });
    expect(parse(['--progress', 'quiet', '.'])).toMatchObject({ quiet: true, progress: 'quiet' });
    expect(parse(['.'])).toMatchObject({ quiet: false, progress: 'auto' });
  });

  it('reads -f - as a Dockerfile on stdin, the context still the positional', () => {
    const line = parse(['-f', '-', 'ctx']);
    expect(line.dockerfileFromStdin).toBe(true);
    expect(line.options).toEqual({ context: 'ctx' });
  });

  it('accepts --flag=true|false for booleans, the global --root and --debug, and -- before the context', () => {
    const line = parse(['--no-cache=true', '--squash=false', '--root', '/r', '--debug', '--', '-dir']);
    expect(line.options).toEqual({ context: '-dir', noCache: true, root: '/r' });
    expect(line.debug).toBe(true);
  });

  it('asks for help with -h or --help, without a context', () => {
    expect(parse(['--help']).help).toBe(true);
    expect(parse(['-h']).help).toBe(true);
    expect(buildHelp()).toContain('-t, --tag list');
    expect(buildHelp()).toContain('--no-cache-filter list');
  });

  it.each([
    [['--bogus', '.'], 'unknown flag: --bogus', '--bogus'],
    [['-Z', '.'], "unknown shorthand flag: 'Z' in -Z", '-Z'],
    [['.', '-t'], 'flag needs an argument: -t', '-t'],
    [['.', '--target'], 'flag needs an argument: --target', '--target'],
    [
      ['--progress', 'fancy', '.'],
      'invalid value for --progress: "fancy": choose auto, tty, plain, json, quiet',
      '--progress',
    ],
    [['--jobs', '0', '.'], 'invalid value for --jobs: "0": expected a positive integer', '--jobs'],
    [['--jobs', 'many', '.'], 'invalid value for --jobs: "many": expected a positive integer', '--jobs'],
    [['--network', 'bridge', '.'], 'invalid value for --network: "bridge": choose default, none, host', '--network'],
    [['--platform', 'linux/amd64,linux/arm64', '.'], 'several platforms', '--platform'],
    [['--platform', 'amd64', '.'], 'expected os/arch[/variant]', '--platform'],
    [['--label', '=v', '.'], 'invalid value for --label: "=v": expected KEY=value or KEY', '--label'],
    [['--build-arg', '=v', '.'], 'invalid value for --build-arg: "=v"', '--build-arg'],
    [['--no-cache', 'x', '.'], 'requires exactly 1 argument', undefined],
    [['--no-cache=maybe', '.'], 'invalid value for --no-cache: "maybe": expected true or false', '--no-cache'],
    [['--no-cache-filter', 'a,,b', '.'], 'empty stage name', '--no-cache-filter'],
    [['--iidfile=', '.'], 'expected a file name', '--iidfile'],
  ])('rejects %j with a usage error naming the flag', (words, message, flag) => {
    const err = usageError(() => parse(words));
    expect(err.message).toContain(message);
    expect(err.flag).toBe(flag);
  });

  it('requires a context, and says that a context on stdin is not supported', () => {
    expect(usageError(() => parse(['-t', 'x'])).message).toBe(
      '"tsbuild build" requires exactly 1 argument (the build context directory), 0 given: tsbuild build [OPTIONS] CONTEXT',
    );
    expect(usageError(() => parse(['-'])).message).toContain('a build context from stdin (-) is not supported');
  });

  it('rejects an invalid -t before anything is built, in Docker’s words', () => {
    const err = usageError(() => parse(['-t', 'H3up', '.']));
    expect(err.message).toBe(
      'invalid value for --tag: "H3up": invalid reference format: repository name must be lowercase',
    );
    expect(err.flag).toBe('--tag');
    expect(usageError(() => parse(['-t', 'a@sha256:' + '0'.repeat(64), '.'])).message).toContain(
      'a tag cannot name a digest',
    );
    expect(parse(['-t', 'localhost:5000/a_b/c-d:v1.0', '.']).options.tags).toEqual(['localhost:5000/a_b/c-d:v1.0']);
  });
});

describe('--build-arg', () => {
  it('takes KEY alone from the environment and leaves it out when unset, as Docker does', () => {
    expect(parseBuildArgFlags(['A', 'B', 'C=', 'D=1'], { A: 'from-env' })).toEqual({ A: 'from-env', C: '', D: '1' });
  });

  it('lets a later flag for the same key win', () => {
    expect(parseBuildArgFlags(['A=1', 'A=2'], {})).toEqual({ A: '2' });
  });
});

describe('--label', () => {
  it('keeps values with = and empty values, and a bare KEY is an empty value, as docker build', () => {
    expect(parseLabelFlags(['a=b=c', 'e=', 'bare'])).toEqual({ a: 'b=c', e: '', bare: '' });
  });
});

describe('--secret', () => {
  it('reads id, src/source, env and type as buildx does', () => {
    expect(parseSecretFlag('id=a,src=/f', {})).toEqual({ id: 'a', src: '/f' });
    expect(parseSecretFlag('id=a,source=/f', {})).toEqual({ id: 'a', src: '/f' });
    expect(parseSecretFlag('id=a,env=TOKEN', {})).toEqual({ id: 'a', env: 'TOKEN' });
    expect(parseSecretFlag('type=env,id=a,src=TOKEN', {})).toEqual({ id: 'a', env: 'TOKEN' });
    expect(parseSecretFlag('type=env,id=TOKEN', {})).toEqual({ id: 'TOKEN', env: 'TOKEN' });
  });

  it('takes a secret without a source from the variable named by its id when set, else the file', () => {
    expect(parseSecretFlag('id=TOKEN', { TOKEN: 'x' })).toEqual({ id: 'TOKEN', env: 'TOKEN' });
    expect(parseSecretFlag('id=token.txt', {})).toEqual({ id: 'token.txt', src: 'token.txt' });
  });

  it('takes the id from the source when none is given', () => {
    expect(parseSecretFlag('src=/run/secrets/npmrc', {})).toEqual({ id: 'npmrc', src: '/run/secrets/npmrc' });
  });

  it.each([
    ['id', 'field "id" must be a key=value pair'],
    ['id=a,type=ssh', 'unsupported secret type "ssh"'],
    ['id=a,colour=red', 'unexpected key "colour"'],
    ['id=a,src=/f,env=V', 'give src= or env=, not both'],
    ['type=file', 'an id= is required'],
  ])('rejects %j', (flag, message) => {
    const err = usageError(() => parseSecretFlag(flag, {}));
    expect(err.message).toContain(message);
    expect(err.flag).toBe('--secret');
  });
});

describe('--output', () => {
  it('reads type= and dest=, a bare path as local and - as a tar on stdout, as buildx does', () => {
    expect(parseOutputFlag('type=oci,dest=out.tar')).toEqual({ type: 'oci', dest: 'out.tar' });
    expect(parseOutputFlag('type=docker,dest=img.tar')).toEqual({ type: 'docker', dest: 'img.tar' });
    expect(parseOutputFlag('type=tar,dest=-')).toEqual({ type: 'tar', dest: '-' });
    expect(parseOutputFlag('out-dir')).toEqual({ type: 'local', dest: 'out-dir' });
    expect(parseOutputFlag('-')).toEqual({ type: 'tar', dest: '-' });
    expect(parse(['-o', 'type=local,dest=d', '--output=x.tar', '.']).options.outputs).toEqual([
      { type: 'local', dest: 'd' },
      { type: 'local', dest: 'x.tar' },
    ]);
  });

  it.each([
    ['type=registry,dest=x', 'unsupported type "registry"'],
    ['type=oci', 'dest= is required'],
    ['dest=x,compression=gzip', 'unexpected key "compression"'],
    ['type=local,dest=-', 'type=local needs a directory'],
    ['dest=x', 'type= is required'],
  ])('rejects %j', (flag, message) => {
    const err = usageError(() => parseOutputFlag(flag));
    expect(err.message).toContain(message);
    expect(err.flag).toBe('--output');
  });

  it('refuses two outputs to stdout, and -q with an output to stdout', () => {
    expect(usageError(() => parse(['-o', '-', '-o', 'type=oci,dest=-', '.'])).message).toContain(
      'only one output can go to stdout',
    );
    expect(usageError(() => parse(['-q', '-o', '-', '.'])).flag).toBe('--output');
  });
});
