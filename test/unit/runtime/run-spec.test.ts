import { describe, expect, it } from 'vitest';
import { mergeEnv, type RunSpec, RuntimeError, validateEnv, validateRunSpec } from '../../../runtime-native/index.js';

const base: RunSpec = { rootfs: '/', args: ['true'] };

function fieldOf(spec: Partial<RunSpec>): string | undefined {
  try {
    validateRunSpec({ ...base, ...spec } as RunSpec);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(RuntimeError);
    expect((e as RuntimeError).code).toBe('TSB_RUNTIME_INVALID_SPEC');
    return (e as RuntimeError).field;
  }
}

describe('validateRunSpec', () => {
  it('accepts a minimal spec and a full one', () => {
    expect(fieldOf({})).toBeUndefined();
    expect(
      fieldOf({
        env: ['A=1', 'B='],
        cwd: '/work',
        user: { uid: 1000, gid: 1000, additionalGids: [10], home: '/home/app' },
        hostname: 'h'.repeat(64),
        network: 'host',
        mounts: [
          { type: 'bind', source: '/', destination: '/host', readonly: true },
          { type: 'tmpfs', destination: '/run', options: ['size=1m'] },
        ],
        rlimits: [{ type: 'nofile', soft: 1024, hard: -1 }],
        resources: { memory: 64 << 20, memorySwap: -1, cpuQuota: 50_000, cpuPeriod: 100_000, pids: 10 },
        capabilities: ['CAP_CHOWN'],
        tty: { rows: 24, cols: 80 },
        stopTimeout: 5,
      }),
    ).toBeUndefined();
  });

  it('names the field at fault', () => {
    expect(fieldOf({ env: ['NOEQ'] })).toBe('env[0]');
    expect(fieldOf({ env: ['A=1', '=v'] })).toBe('env[1]');
    expect(fieldOf({ env: ['A=\0'] })).toBe('env[0]');
    expect(fieldOf({ args: [] })).toBe('args');
    expect(fieldOf({ args: [''] })).toBe('args[0]');
    expect(fieldOf({ args: ['a', 'b\0'] })).toBe('args[1]');
    expect(fieldOf({ cwd: 'relative' })).toBe('cwd');
    expect(fieldOf({ rootfs: '/definitely/not/here' })).toBe('rootfs');
    expect(fieldOf({ rootfs: '/etc/passwd' })).toBe('rootfs');
    expect(fieldOf({ rootfs: { lowerdirs: [] } })).toBe('rootfs.lowerdirs');
    expect(fieldOf({ rootfs: { lowerdirs: ['/'], upperdir: '/tmp' } })).toBe('rootfs');
    expect(fieldOf({ rootfs: { lowerdirs: ['/'], options: ['lowerdir=/x'] } })).toBe('rootfs.options[0]');
    expect(fieldOf({ hostname: 'h'.repeat(65) })).toBe('hostname');
    expect(fieldOf({ hostname: 'é'.repeat(33) })).toBe('hostname');
    expect(fieldOf({ user: { uid: -1, gid: 0 } })).toBe('user.uid');
    expect(fieldOf({ user: { uid: 0, gid: 0, additionalGids: [1.5] } })).toBe('user.additionalGids[0]');
    expect(fieldOf({ mounts: [{ type: 'tmpfs', destination: '/' }] })).toBe('mounts[0].destination');
    expect(fieldOf({ mounts: [{ type: 'tmpfs', destination: '/x', options: ['a,b'] }] })).toBe('mounts[0].options[0]');
    expect(fieldOf({ rlimits: [{ type: 'bogus' as never, soft: 1, hard: 1 }] })).toBe('rlimits[0].type');
    expect(fieldOf({ rlimits: [{ type: 'nofile', soft: -2, hard: 1 }] })).toBe('rlimits[0].soft');
    expect(fieldOf({ resources: { memory: 100 } })).toBe('resources.memory');
    expect(fieldOf({ resources: { memory: 64 << 20, memorySwap: 1 << 20 } })).toBe('resources.memorySwap');
    expect(fieldOf({ resources: { cpuQuota: 10 } })).toBe('resources.cpuQuota');
    expect(fieldOf({ resources: { cpuPeriod: 2_000_000 } })).toBe('resources.cpuPeriod');
    expect(fieldOf({ resources: { pids: 0 } })).toBe('resources.pids');
    expect(fieldOf({ tty: { rows: 0, cols: 80 } })).toBe('tty.rows');
    expect(fieldOf({ maskedPaths: ['proc/kcore'] })).toBe('maskedPaths[0]');
    expect(fieldOf({ stopTimeout: -1 })).toBe('stopTimeout');
  });

  it('puts the field in the message', () => {
    expect(() => validateEnv(['X'])).toThrow('invalid run spec: env[0]: "X" has no "="');
  });
});

describe('mergeEnv', () => {
  it('lets a later entry replace an earlier one of the same name, in place', () => {
    expect(mergeEnv(['PATH=/bin', 'HOSTNAME=a'], ['X=1', 'PATH=/usr/bin'])).toEqual([
      'PATH=/usr/bin',
      'HOSTNAME=a',
      'X=1',
    ]);
    expect(mergeEnv(['A=1=2'], ['B=='])).toEqual(['A=1=2', 'B==']);
  });
});
