import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { UsageError } from '../errors.js';
import type { MountSpec } from './run-spec.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Docker's memory sizes (`RAMInBytes`): `512`, `64m`, `1.5g`, `64MiB`, `2GB` (all binary units). */
export function parseMemoryBytes(text: string, flag = '--memory'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`invalid size for ${flag}: ${JSON.stringify(text)}`, { flag });
  const value = Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isSafeInteger(Math.floor(value))) throw new UsageError(`size too large for ${flag}: ${text}`, { flag });
  return Math.floor(value);
}

/** `--cpus 1.5` → a CFS quota of 150000µs per 100000µs period (Docker's NanoCPUs). */
export function parseCpus(text: string, cpuCount = availableParallelism()): { cpuQuota: number; cpuPeriod: number } {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`invalid value for --cpus: ${JSON.stringify(text)}`, { flag: '--cpus' });
  }
  if (n < 0.01 || n > cpuCount) {
    throw new UsageError(
      `range of CPUs is from 0.01 to ${cpuCount.toFixed(2)}, as there are only ${cpuCount} CPUs available`,
      { flag: '--cpus' },
    );
  }
  return { cpuQuota: Math.round(n * 100_000), cpuPeriod: 100_000 };
}

/** `--pids-limit`: a positive count, or 0/-1 for unlimited (undefined). */
export function parsePidsLimit(value: number | string): number | undefined {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n))
    throw new UsageError(`invalid value for --pids-limit: ${String(value)}`, { flag: '--pids-limit' });
  return n > 0 ? n : undefined;
}

/** `-v /host:/container[:ro|rw]`: a bind mount. Named and anonymous volumes need the engine, which is not there yet. */
export function parseVolume(text: string): MountSpec & { type: 'bind' } {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new UsageError(`invalid volume ${JSON.stringify(text)}: expected /host/path:/container/path[:ro]`, {
      flag: '-v',
    });
  }
  const [source = '', destination = '', mode = ''] = parts;
  if (!isAbsolute(source)) {
    throw new UsageError(
      `invalid volume ${JSON.stringify(text)}: named volumes are not supported, give an absolute host path`,
      {
        flag: '-v',
      },
    );
  }
  if (!isAbsolute(destination)) {
    throw new UsageError(`invalid volume ${JSON.stringify(text)}: the container path must be absolute`, { flag: '-v' });
  }
  let readonly = false;
  for (const opt of mode === '' ? [] : mode.split(',')) {
    if (opt === 'ro') readonly = true;
    else if (opt === 'rw') readonly = false;
    else if (!['z', 'Z', 'nocopy', 'private', 'rprivate', 'delegated', 'cached', 'consistent'].includes(opt)) {
      throw new UsageError(`invalid volume ${JSON.stringify(text)}: unknown option ${opt}`, { flag: '-v' });
    }
  }
  return { type: 'bind', source, destination, readonly };
}

/**
 * One `-e` value or env-file line: `KEY=value` as it is, or `KEY` alone for the
 * caller's own value (dropped when the caller has none), as Docker does.
 */
export function parseEnvEntry(entry: string, hostEnv: NodeJS.ProcessEnv, where = '-e'): string | undefined {
  const eq = entry.indexOf('=');
  const key = eq < 0 ? entry : entry.slice(0, eq);
  if (key === '')
    throw new UsageError(`invalid environment variable ${JSON.stringify(entry)} (${where})`, { flag: '-e' });
  if (/\s/.test(key)) throw new UsageError(`variable '${key}' contains whitespaces (${where})`, { flag: '-e' });
  if (eq >= 0) return entry;
  const value = hostEnv[key];
  return value === undefined ? undefined : `${key}=${value}`;
}

/** An --env-file: one entry a line; blank lines and `#` comments skipped. */
export function parseEnvFile(text: string, hostEnv: NodeJS.ProcessEnv, file = 'env file'): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const e = parseEnvEntry(line, hostEnv, `${file}:${i + 1}`);
    if (e !== undefined) out.push(e);
  });
  return out;
}
