import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../../parser/instructions/index.js';
import { fault, one } from './helpers.js';

describe('HEALTHCHECK', () => {
  it('parses Go durations to nanoseconds', () => {
    expect(parseDuration('1m30s')).toBe(90e9);
    expect(parseDuration('500ms')).toBe(5e8);
    expect(parseDuration('1.5h')).toBe(5400e9);
    expect(parseDuration('2us')).toBe(2000);
    expect(parseDuration('2µs')).toBe(2000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('-1s')).toBe(-1e9);
    for (const bad of ['', '10', '1x', 's', '.s', '1s1', '1..5s']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('NONE disables the check', () => {
    expect(one('healthcheck', 'HEALTHCHECK none').test).toEqual({ type: 'none' });
  });

  it('NONE neither checks nor uses flags (BuildKit parses them only for CMD)', () => {
    const h = one('healthcheck', 'HEALTHCHECK --tries=1 --retries=x --interval=1 NONE');
    expect(h.test).toEqual({ type: 'none' });
    expect(h).not.toHaveProperty('retries');
    expect(h).not.toHaveProperty('interval');
  });

  it('CMD with every flag', () => {
    const h = one(
      'healthcheck',
      'HEALTHCHECK --interval=1m --timeout=3s --start-period=10s --start-interval=5s --retries=4 CMD curl -f localhost',
    );
    expect(h).toMatchObject({
      test: { type: 'cmd', command: { form: 'shell', command: 'curl -f localhost' } },
      interval: 60e9,
      timeout: 3e9,
      startPeriod: 10e9,
      startInterval: 5e9,
      retries: 4,
    });
    expect(one('healthcheck', 'HEALTHCHECK cmd ["true"]').test).toMatchObject({
      command: { form: 'exec', args: ['true'] },
    });
  });

  it('durations are 0 or at least 1ms; retries is a non-negative integer', () => {
    expect(one('healthcheck', 'HEALTHCHECK --interval=0s --retries=0 CMD true')).toMatchObject({
      interval: 0,
      retries: 0,
    });
    expect(fault('HEALTHCHECK --start-period=999us CMD true').message).toBe(
      'interval "start-period" cannot be less than 1ms',
    );
    expect(fault('HEALTHCHECK --retries=two CMD true').message).toBe('invalid value for --retries: two');
  });

  it('any other shape is an error', () => {
    expect(fault('HEALTHCHECK').message).toBe('HEALTHCHECK requires at least one argument');
    expect(fault('HEALTHCHECK CMD []').message).toBe('missing command after HEALTHCHECK CMD');
    expect(fault('HEALTHCHECK --retries=1 curl x').message).toBe('unknown type "curl" in HEALTHCHECK (try CMD)');
    expect(fault('HEALTHCHECK --tries=1 CMD true').code).toBe('TSB_DOCKERFILE_UNKNOWN_FLAG');
  });
});
