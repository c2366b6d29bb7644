import { describe, expect, it } from 'vitest';
import { InstructionError, parseRunMount } from '../../../../parser/index.js';
import { fault, one } from './helpers.js';

const range = { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
const mount = (spec: string, ssh = 0) => {
  const { range: _r, spec: _s, ...rest } = parseRunMount(spec, range, ssh);
  return rest;
};

describe('RUN --mount', () => {
  it('bind is the default type, read-only unless rw', () => {
    expect(mount('target=/src')).toEqual({ type: 'bind', target: '/src', readonly: true });
    expect(mount('type=bind,source=a,from=build,dst=/x,rw')).toEqual({
      type: 'bind',
      target: '/x',
      source: 'a',
      from: 'build',
      readonly: false,
    });
    expect(mount('type=bind,target=/x,readwrite=false')).toMatchObject({ readonly: true });
  });

  it('cache defaults: writable, sharing shared, mode 0755, uid and gid 0', () => {
    expect(mount('type=cache,target=/root/.cache')).toEqual({
      type: 'cache',
      target: '/root/.cache',
      sharing: 'shared',
      readonly: false,
      mode: 0o755,
      uid: 0,
      gid: 0,
    });
    expect(mount('type=cache,target=/c,id=x,sharing=LOCKED,mode=0700,uid=1,gid=2,ro,from=s,source=/p')).toEqual({
      type: 'cache',
      target: '/c',
      id: 'x',
      sharing: 'locked',
      readonly: true,
      from: 's',
      source: '/p',
      mode: 0o700,
      uid: 1,
      gid: 2,
    });
  });

  it('tmpfs takes a size in Docker units', () => {
    expect(mount('type=tmpfs,target=/t,size=1.5g')).toEqual({ type: 'tmpfs', target: '/t', size: 1.5 * 1024 ** 3 });
    expect(mount('type=tmpfs,target=/t,size=512')).toMatchObject({ size: 512 });
  });

  it('secret id and target default from each other; env-only secrets have no file', () => {
    expect(mount('type=secret,id=npm')).toEqual({
      type: 'secret',
      id: 'npm',
      target: '/run/secrets/npm',
      required: false,
      mode: 0o400,
      uid: 0,
      gid: 0,
    });
    expect(mount('type=secret,target=/etc/key.pem')).toMatchObject({ id: 'key.pem', target: '/etc/key.pem' });
    expect(mount('type=secret,source=tok')).toMatchObject({ id: 'tok', target: '/run/secrets/tok' });
    const env = mount('type=secret,id=API,env=API_KEY,required');
    expect(env).toMatchObject({ id: 'API', env: 'API_KEY', required: true });
    expect(env).not.toHaveProperty('target');
  });

  it('ssh defaults: id default, a numbered agent socket, mode 0600', () => {
    expect(mount('type=ssh', 1)).toEqual({
      type: 'ssh',
      id: 'default',
      target: '/run/buildkit/ssh_agent.1',
      required: false,
      mode: 0o600,
      uid: 0,
      gid: 0,
    });
    const run = one('run', 'RUN --mount=type=ssh --mount=type=ssh,id=b git fetch');
    expect(run.mounts.map((m) => m.type === 'ssh' && m.target)).toEqual([
      '/run/buildkit/ssh_agent.0',
      '/run/buildkit/ssh_agent.1',
    ]);
  });

  it('keys and types are case-insensitive; values holding $ are left for expansion', () => {
    expect(mount('TYPE=Cache,Target=/x')).toMatchObject({ type: 'cache', target: '/x' });
    const m = parseRunMount('type=cache,target=$HOME/c,uid=$UID,mode=0700', range);
    expect(m).toMatchObject({
      target: '$HOME/c',
      mode: 0o700,
      gid: 0,
      spec: 'type=cache,target=$HOME/c,uid=$UID,mode=0700',
    });
    expect(m).not.toHaveProperty('uid');
  });

  it('reads CSV quoting in the option list', () => {
    expect(mount('type=bind,"source=a,b",target=/ab')).toMatchObject({ source: 'a,b' });
    expect(mount('type=bind,"source=say ""hi""",target=/q')).toMatchObject({ source: 'say "hi"' });
  });

  it.each([
    ['type=volume,target=/x', 'unsupported mount type "volume"'],
    ['type=cache,target=/x,size=1g', "unexpected key 'size' for mount type 'cache'"],
    ['type=bind,target=/x,required', "unexpected key 'required' for mount type 'bind'"],
    ['type=cache,target', "invalid field 'target' must be a key=value pair"],
    ['type=cache,target=/x,colour=red', "unexpected key 'colour' in 'colour=red'"],
    ['type=cache,target=/x,sharing=sometimes', 'unsupported sharing value "sometimes"'],
    ['type=cache,target=/x,mode=9', 'invalid value 9 for mode'],
    ['type=cache,target=/x,uid=-1', 'invalid value -1 for uid'],
    ['type=bind,target=/x,ro=maybe', 'invalid value for ro: maybe'],
    ['type=bind,target=/x,mode=0700', 'mode not allowed for "bind" type mounts'],
    ['type=tmpfs,target=/x,uid=1', 'uid not allowed for "tmpfs" type mounts'],
    ['type=tmpfs,target=/x,size=lots', 'invalid value for size: lots'],
    ['type=secret,id=a,from=b', 'secret mount should not have a from'],
    ['type=secret,id=a,source=b', "both source and id can't be set"],
    ['type=secret,required', 'one of source, target required'],
    ['type=bind,target=/x,sharing=locked', 'invalid cache sharing set for bind mount'],
    ['type=bind,from=$STAGE,target=/x', "'from' doesn't support variable expansion"],
    ['type=bind,target="/x', 'failed to parse csv mounts'],
    ['type=bind,tar"get=/x', 'failed to parse csv mounts'],
    ['', "invalid field '' must be a key=value pair"],
  ])('rejects %s', (spec, message) => {
    expect(() => parseRunMount(spec, range)).toThrow(InstructionError);
    expect(() => parseRunMount(spec, range)).toThrow(message);
  });

  it('a bad mount in a RUN is an error at the --mount flag', () => {
    expect(fault('RUN --network=none --mount=type=nope make')).toMatchObject({
      code: 'TSB_DOCKERFILE_MOUNT',
      range: { start: { line: 2, column: 20 }, end: { line: 2, column: 36 } },
    });
  });
});
