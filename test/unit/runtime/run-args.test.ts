import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../../cli/commands/run.js';
import { buildRunSpec } from '../../../runtime-native/index.js';

describe('parseRunArgs', () => {
  it("stops at IMAGE: the command's own options are left alone", () => {
    expect(parseRunArgs(['--rm', '-it', 'img', 'sh', '-c', 'echo -e x'])).toEqual({
      options: { rm: true, interactive: true, tty: true },
      image: 'img',
      command: ['sh', '-c', 'echo -e x'],
    });
  });

  it('reads every value form Docker accepts', () => {
    const r = parseRunArgs([
      '-e',
      'A=1',
      '--env=B=2',
      '-eC=3',
      '-e=D=4',
      '-v/h:/c',
      '--volume',
      '/x:/y:ro',
      '-u1000',
      'img',
    ]);
    expect(r.options).toEqual({ env: ['A=1', 'B=2', 'C=3', 'D=4'], volume: ['/h:/c', '/x:/y:ro'], user: '1000' });
    expect(parseRunArgs(['--pids-limit', '5', '--network=host', '--read-only', '--init=false', 'i']).options).toEqual({
      'pids-limit': 5,
      network: 'host',
      'read-only': true,
      init: false,
    });
    expect(parseRunArgs(['--', '-weird-image-name']).image).toBe('-weird-image-name');
    expect(parseRunArgs([]).image).toBeUndefined();
  });

  it('refuses unknown flags, missing values and bad choices', () => {
    expect(() => parseRunArgs(['--bogus', 'img'])).toThrow('unknown flag: --bogus');
    expect(() => parseRunArgs(['-x', 'img'])).toThrow("unknown shorthand flag: 'x' in -x");
    expect(() => parseRunArgs(['-e'])).toThrow('flag needs an argument: -e');
    expect(() => parseRunArgs(['--network', 'bridge', 'img'])).toThrow('choose none or host');
    expect(() => parseRunArgs(['--pids-limit', 'many', 'img'])).toThrow('invalid value for --pids-limit');
  });
});

describe('buildRunSpec', () => {
  let rootfs: string;
  beforeEach(() => {
    rootfs = mkdtempSync(join(tmpdir(), 'tsb-unit-run-'));
    mkdirSync(join(rootfs, 'etc'));
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n');
  });
  afterEach(() => rmSync(rootfs, { recursive: true, force: true }));

  const config = {
    Entrypoint: ['/entry'],
    Cmd: ['default'],
    Env: ['PATH=/img', 'X=image'],
    WorkingDir: '/srv',
    User: 'app',
  };

  it('follows Docker for entrypoint, cmd, env, working dir and user', () => {
    const spec = buildRunSpec({ rootfsSpec: rootfs, config, flags: {}, hostEnv: {} });
    expect(spec.args).toEqual(['/entry', 'default']);
    expect(spec.env).toEqual(['PATH=/img', 'X=image']);
    expect(spec.cwd).toBe('/srv');
    expect(spec.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [10, 1000], home: '/home/app' });
    expect(spec.network).toBe('none');
    const cmd = buildRunSpec({
      rootfsSpec: rootfs,
      config,
      flags: { command: ['other'], env: ['X=flag'] },
      hostEnv: {},
    });
    expect(cmd.args).toEqual(['/entry', 'other']);
    expect(cmd.env).toEqual(['PATH=/img', 'X=image', 'X=flag']);
    // --entrypoint drops the image's Cmd.
    expect(buildRunSpec({ rootfsSpec: rootfs, config, flags: { entrypoint: '/bin/sh' }, hostEnv: {} }).args).toEqual([
      '/bin/sh',
    ]);
  });

  it('maps the resource flags and volumes', () => {
    const spec = buildRunSpec({
      rootfsSpec: rootfs,
      config,
      flags: {
        memory: '64m',
        cpus: '0.5',
        pidsLimit: 20,
        volumes: ['/tmp:/data:ro'],
        user: '0',
        readOnly: true,
        init: true,
      },
      hostEnv: {},
    });
    expect(spec.resources).toEqual({ memory: 64 << 20, cpuQuota: 50_000, cpuPeriod: 100_000, pids: 20 });
    expect(spec.mounts).toEqual([{ type: 'bind', source: '/tmp', destination: '/data', readonly: true }]);
    expect(spec.user?.uid).toBe(0);
    expect(spec.readonlyRootfs).toBe(true);
    expect(spec.init).toBe(true);
  });

  it('refuses an empty command and a relative working dir', () => {
    expect(() => buildRunSpec({ rootfsSpec: rootfs, flags: {}, hostEnv: {} })).toThrow('no command specified');
    expect(() => buildRunSpec({ rootfsSpec: rootfs, config, flags: { workdir: 'rel' }, hostEnv: {} })).toThrow(
      "the working directory 'rel' is invalid, it needs to be an absolute path",
    );
  });
});
