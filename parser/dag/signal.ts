/** Signal names moby's `signal.ParseSignal` accepts on Linux (with or without the `SIG` prefix). */
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
  'UNUSED',
  'URG',
  'USR1',
  'USR2',
  'VTALRM',
  'WINCH',
  'XCPU',
  'XFSZ',
]);

/** True when `s` is a signal name, `SIG`-name, `RTMIN+n`/`RTMAX-n`, or a number from 1 to 64. */
export function isValidSignal(s: string): boolean {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= 64;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  if (SIGNALS.has(name)) return true;
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt === null) return false;
  const off = rt[3] === undefined ? 0 : Number(rt[3]);
  return off <= 15 && (rt[3] === undefined || (rt[1] === 'MIN' ? rt[2] === '+' : rt[2] === '-'));
}
