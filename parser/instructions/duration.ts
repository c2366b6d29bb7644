const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Go's `time.ParseDuration` in nanoseconds: a signed sequence of decimal
 * numbers with units (`1m30s`, `1.5h`, `500ms`); `0` needs no unit.
 * Returns undefined when `text` is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([a-z\u00b5\u03bc]+)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const unit = UNITS[m[3]!];
    if (unit === undefined) return undefined;
    const value = Number(`${m[1] || '0'}.${m[2] ?? ''}0`);
    total += value * unit;
    s = s.slice(m[0].length);
  }
  if (total > 2 ** 63 - 1) return undefined;
  return sign * Math.round(total);
}
