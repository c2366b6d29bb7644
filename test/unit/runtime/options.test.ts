import { describe, expect, it } from 'vitest';
import {
  parseCpus,
  parseEnvEntry,
  parseEnvFile,
  parseMemoryBytes,
  parsePidsLimit,
  parseVolume,
} from '../../../runtime-native/index.js';

describe('run option parsing', () => {
  it('reads memory sizes in binary units as Docker does', () => {
    expect(parseMemoryBytes('512')).toBe(512);
    expect(parseMemoryBytes('64m')).toBe(64 * 1024 * 1024);
    expect(parseMemoryBytes('64M')).toBe(64 * 1024 * 1024);
    expect(parseMemoryBytes('64mb')).toBe(64 * 1024 * 1024);
    expect(parseMemoryBytes('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseMemoryBytes('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseMemoryBytes('2k')).toBe(2048);
    expect(() => parseMemoryBytes('lots')).toThrow('invalid size for --memory: "lots"');
    expect(() => parseMemoryBytes('-1m')).toThrow();
  });

  it('turns --cpus into a CFS quota per 100ms period', () => {
    expect(parseCpus('0.5', 2)).toEqual({ cpuQuota: 50_000, cpuPeriod: 100_000 });
    expect(parseCpus('1.25', 2)).toEqual({ cpuQuota: 125_000, cpuPeriod: 100_000 });
    expect(() => parseCpus('3', 2)).toThrow('range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    expect(() => parseCpus('0', 2)).toThrow('invalid value for --cpus');
    expect(() => parseCpus('abc', 2)).toThrow('invalid value for --cpus');
  });

  it('treats 0 and -1 pids limits as unlimited', () => {
    expect(parsePidsLimit(50)).toBe(50);
    expect(parsePidsLimit('20')).toBe(20);
    expect(parsePidsLimit(0)).toBeUndefined();
    expect(parsePidsLimit(-1)).toBeUndefined();
    expect(() => parsePidsLimit('x')).toThrow();
  });

  it('parses -v host:container[:ro|rw] and refuses named volumes', () => {
    expect(parseVolume('/h:/c')).toEqual({ type: 'bind', source: '/h', destination: '/c', readonly: false });
    expect(parseVolume('/h:/c:ro')).toEqual({ type: 'bind', source: '/h', destination: '/c', readonly: true });
    expect(parseVolume('/h:/c:rw,z')).toEqual({ type: 'bind', source: '/h', destination: '/c', readonly: false });
    expect(() => parseVolume('data:/c')).toThrow('named volumes are not supported');
    expect(() => parseVolume('/h:c')).toThrow('the container path must be absolute');
    expect(() => parseVolume('/h')).toThrow('expected /host/path:/container/path');
    expect(() => parseVolume('/h:/c:bogus')).toThrow('unknown option bogus');
  });

  it('takes -e KEY from the caller’s environment and drops it when unset', () => {
    const host = { HOME: '/home/me' };
    expect(parseEnvEntry('A=1', host)).toBe('A=1');
    expect(parseEnvEntry('A=', host)).toBe('A=');
    expect(parseEnvEntry('HOME', host)).toBe('HOME=/home/me');
    expect(parseEnvEntry('UNSET', host)).toBeUndefined();
    expect(() => parseEnvEntry('=x', host)).toThrow('invalid environment variable');
    expect(() => parseEnvEntry('A B=1', host)).toThrow("variable 'A B' contains whitespaces");
  });

  it('reads env files line by line, skipping blanks and comments', () => {
    const text = '# comment\n\nA=1\n  B=two words \r\nHOME\nUNSET\n';
    expect(parseEnvFile(text, { HOME: '/h' })).toEqual(['A=1', 'B=two words ', 'HOME=/h']);
    expect(() => parseEnvFile('ok=1\nbad key=2\n', {}, 'f.env')).toThrow('(f.env:2)');
  });
});
