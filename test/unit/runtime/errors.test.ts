import { describe, expect, it } from 'vitest';
import { setupError } from '../../../runtime-native/errors.js';
import { errnoName, RuntimeError } from '../../../runtime-native/index.js';

describe('RuntimeError from the helper', () => {
  it('names the step, the errno and the system call', () => {
    const e = setupError({ step: 'mount /data', errno: 2, message: 'open /data', syscall: 'openat2' });
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e).toMatchObject({ code: 'TSB_RUNTIME_SETUP', step: 'mount /data', errno: 2, errnoName: 'ENOENT' });
    expect(e.syscall).toBe('openat2');
    expect(e.message).toBe('mount /data: open /data (ENOENT)');
  });

  it('leaves out what is not known', () => {
    const e = setupError({ step: 'cgroup', errno: 0, message: 'the pids controller is not enabled' });
    expect(e.errno).toBeUndefined();
    expect(e.syscall).toBeUndefined();
    expect(e.message).toBe('cgroup: the pids controller is not enabled');
    expect(errnoName(40)).toBe('ELOOP');
  });
});
