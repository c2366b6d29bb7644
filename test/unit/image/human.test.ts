import { describe, expect, it } from 'vitest';
import { createdSince, formatTable, goTimeString, humanDuration, humanSize } from '../../../image/human.js';

describe('human-readable output as Docker prints it', () => {
  it('sizes in decimal units with three significant digits', () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(1000)).toBe('1kB');
    expect(humanSize(2140160)).toBe('2.14MB');
    expect(humanSize(1_990_000)).toBe('1.99MB');
    expect(humanSize(123_400_000_000)).toBe('123GB');
    expect(humanSize(999_999)).toBe('1e+03kB');
  });

  it('durations as go-units', () => {
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(59_000)).toBe('59 seconds');
    expect(humanDuration(60_000)).toBe('About a minute');
    expect(humanDuration(59 * 60_000)).toBe('59 minutes');
    expect(humanDuration(60 * 60_000)).toBe('About an hour');
    expect(humanDuration(47 * 3_600_000)).toBe('47 hours');
    expect(humanDuration(13 * 86_400_000)).toBe('13 days');
    expect(humanDuration(20 * 86_400_000)).toBe('2 weeks');
    expect(humanDuration(100 * 86_400_000)).toBe('3 months');
    expect(humanDuration(800 * 86_400_000)).toBe('2 years');
    expect(createdSince('2024-01-01T00:00:00Z', Date.parse('2024-01-01T00:05:00Z'))).toBe('5 minutes ago');
    expect(createdSince(undefined)).toBe('N/A');
    expect(goTimeString('2024-01-02T03:04:05.999Z')).toBe('2024-01-02 03:04:05 +0000 UTC');
  });

  it('lays out tables like tabwriter (min width 10, padding 3)', () => {
    expect(
      formatTable([
        ['REPOSITORY', 'TAG', 'SIZE'],
        ['tsbuild-busybox', 'latest', '1.99MB'],
      ]),
    ).toBe('REPOSITORY        TAG       SIZE\ntsbuild-busybox   latest    1.99MB\n');
  });
});
