import { describe, expect, it } from 'vitest';
import { isValidSignal } from '../../../../parser/dag/signal.js';

describe('STOPSIGNAL values (moby signal.ParseSignal, as dockerd 20.10 checks them)', () => {
  it('takes names with or without SIG in any case, and the real-time names moby lists', () => {
    for (const s of ['SIGTERM', 'term', 'SigKill', 'SIGCLD', 'POLL', 'SIGSTKFLT', 'RTMIN', 'SIGRTMIN+15', 'RTMAX-14']) {
      expect(isValidSignal(s), s).toBe(true);
    }
  });

  it('refuses names moby does not list', () => {
    for (const s of ['FOO', 'SIGUNUSED', 'RTMIN+0', 'RTMIN+01', 'RTMIN+16', 'RTMAX-15', 'SIGSIGKILL', '']) {
      expect(isValidSignal(s), s).toBe(false);
    }
  });

  it('takes any non-zero integer strconv.Atoi reads, not only 1 to 64', () => {
    for (const s of ['9', '09', '64', '65', '100', '-1', '+5', '9223372036854775807']) {
      expect(isValidSignal(s), s).toBe(true);
    }
    for (const s of ['0', '-0', '+0', '0x9', '9223372036854775808', '1e3', ' 9']) {
      expect(isValidSignal(s), s).toBe(false);
    }
  });
});
