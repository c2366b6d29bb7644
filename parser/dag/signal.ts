/**
 * Signal names moby's `signal.ParseSignal` accepts on Linux (with or without the `SIG` prefix);
 * not UNUSED, which dockerd 20.10 refuses.
 */
const SIGNALS = new Set([
  'ABRT',
  'ALRM',
  'BUS',
  'CHLD',
  'CLD',
  'CONT',
  'FPE',
  'HUP',
  'ILL',
  'INT',
  'IO',
  'IOT',
  'KILL',
  'PIPE',
  'POLL',
  'PROF',
  'PWR',
  'QUIT',
  'SEGV',
  'STKFLT',
  'STOP',
  'SYS',
  'TERM',
  'TRAP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'USR1',
  'USR2',
  'VTALRM',
  'WINCH',
  'XCPU',
  'XFSZ',
  // the real-time signals are names too, exactly these: RTMIN, RTMIN+1 … RTMIN+15, RTMAX-14 … RTMAX-1, RTMAX
  'RTMIN',
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${i + 1}`),
  'RTMAX',
]);

/** The largest and smallest values of Go's `int` (int64), which `strconv.Atoi` accepts. */
const INT_MAX = 2n ** 63n - 1n;
const INT_MIN = -(2n ** 63n);

/**
 * True when `s` is what moby's `signal.ParseSignal` accepts: a signal name or `SIG`-name
 * (`RTMIN+1`, `SIGRTMAX-2` included), or any non-zero integer `strconv.Atoi` reads (a sign, decimal digits,
 * within int64: `STOPSIGNAL 100` and `STOPSIGNAL -1` build with docker).
 */
export function isValidSignal(s: string): boolean {
  if (/^[+-]?\d+$/.test(s)) {
    const n = BigInt(s);
    if (n >= INT_MIN && n <= INT_MAX) return n !== 0n;
  }
  return SIGNALS.has(s.toUpperCase().replace(/^SIG/, ''));
}
