/**
 * Docker's human-readable numbers (go-units), for the CLI's tables:
 * `humanSize(2140160)` → `2.14MB`, `humanDuration(90_000)` → `About a minute`.
 */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Like Go's `%.3g`: three significant digits, trailing zeros dropped. */
function significant(value: number, digits: number): string {
  const s = value.toPrecision(digits);
  const e = s.indexOf('e');
  if (e < 0) return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
  const mantissa = s.slice(0, e).replace(/\.?0+$/, '');
  const exp = Number(s.slice(e + 1));
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Decimal units with three significant digits, as `docker images` prints sizes. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${significant(size, 3)}${DECIMAL_UNITS[i]}`;
}

/** go-units' HumanDuration: `Less than a second`, `5 seconds`, `About an hour`, `3 weeks`, … */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** `docker images`' CREATED column: `2 weeks ago`, or `N/A` without a time. */
export function createdSince(created: string | undefined, now = Date.now()): string {
  if (!created) return 'N/A';
  const t = Date.parse(created);
  if (Number.isNaN(t) || t <= 0) return 'N/A';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/** Go's `time.Time.String()` in UTC, as Docker's JSON output prints CreatedAt: `2024-01-02 03:04:05 +0000 UTC`. */
export function goTimeString(created: string | undefined): string {
  if (!created) return '';
  const d = new Date(created);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/**
 * Columns as Docker's tabwriter lays them out (minimum width 10, padding 3, the
 * last column unpadded).
 */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return;
      widths[i] = Math.max(widths[i] ?? 10, cell.length + 3);
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 10))).join(''))
    .map((line) => `${line.trimEnd()}\n`)
    .join('');
}
