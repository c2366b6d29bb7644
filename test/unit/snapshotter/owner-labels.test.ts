import { describe, expect, it } from 'vitest';
import { OWNER_PID_LABEL, OWNER_START_LABEL, ownerAlive, ownerLabels } from '../../../snapshotter/index.js';

describe('snapshot owner labels', () => {
  it('name this process by pid and start time, and it counts as alive', () => {
    const labels = ownerLabels();
    expect(labels[OWNER_PID_LABEL]).toBe(String(process.pid));
    expect(labels[OWNER_START_LABEL]).toMatch(/^\d+$/);
    expect(ownerAlive(labels)).toBe(true);
  });

  it('a live pid with another start time is a dead owner (the pid was reused)', () => {
    expect(ownerAlive({ ...ownerLabels(), [OWNER_START_LABEL]: '1' })).toBe(false);
  });

  it('labels without a start time fall back to the pid alone', () => {
    expect(ownerAlive({ [OWNER_PID_LABEL]: String(process.pid) })).toBe(true);
    expect(ownerAlive({ [OWNER_PID_LABEL]: '999999999' })).toBe(false);
    expect(ownerAlive({})).toBe(false);
  });
});
