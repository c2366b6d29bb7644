import { UsageError } from '../../errors.js';
import type { ImageRecord, ImageStore, Reference } from '../../image/index.js';
import { familiarRepository, familiarString } from '../../image/index.js';

/** `docker images --filter` keys, each with its values (a key given twice matches either value). */
export interface ImageFilters {
  dangling?: boolean;
  reference: string[];
  label: string[];
  before: string[];
  since: string[];
}

const KEYS = new Set(['dangling', 'reference', 'label', 'before', 'since']);

/** Reads `--filter key=value` flags as the Docker daemon does, with its error texts. */
export function parseImageFilters(flags: readonly string[]): ImageFilters {
  const filters: ImageFilters = { reference: [], label: [], before: [], since: [] };
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq < 0) throw new UsageError(`bad format of filter (expected name=value): ${flag}`, { flag: '--filter' });
    const key = flag.slice(0, eq).trim().toLowerCase();
    const value = flag.slice(eq + 1);
    if (!KEYS.has(key)) throw new UsageError(`invalid filter '${key}'`, { flag: '--filter' });
    if (key === 'dangling') {
      const v = value.toLowerCase();
      if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0') {
        throw new UsageError(`invalid filter 'dangling=${value}'`, { flag: '--filter' });
      }
      filters.dangling = v === 'true' || v === '1';
    } else {
      (filters[key as 'reference' | 'label' | 'before' | 'since'] as string[]).push(value);
    }
  }
  return filters;
}

/** The image filters that look at the image as a whole (dangling, label, before, since). */
export async function matchesFilters(store: ImageStore, image: ImageRecord, f: ImageFilters): Promise<boolean> {
  if (f.dangling !== undefined && (image.names.length === 0) !== f.dangling) return false;
  const created = Date.parse(image.created ?? '');
  for (const ref of f.before) {
    const other = Date.parse(store.resolve(ref).image.created ?? '');
    if (!(created < other)) return false;
  }
  for (const ref of f.since) {
    const other = Date.parse(store.resolve(ref).image.created ?? '');
    if (!(created > other)) return false;
  }
  if (f.label.length > 0) {
    const labels = (await store.config(image)).config.config?.Labels ?? {};
    for (const l of f.label) {
      const eq = l.indexOf('=');
      const key = eq < 0 ? l : l.slice(0, eq);
      if (!Object.hasOwn(labels, key)) return false;
      if (eq >= 0 && labels[key] !== l.slice(eq + 1)) return false;
    }
  }
  return true;
}

/**
 * `reference=PATTERN`: a shell pattern (Go's path.Match: `*` and `?` stop at `/`)
 * against the familiar `name:tag`, or else the familiar name.
 */
export function referenceMatches(patterns: readonly string[], ref: Reference): boolean {
  const full = familiarString(ref);
  const name = familiarRepository(ref);
  return patterns.some((p) => {
    const re = globToRegExp(p);
    return re.test(full) || re.test(name);
  });
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new UsageError(`syntax error in pattern: ${pattern}`, { flag: '--filter' });
      let set = pattern.slice(i + 1, end);
      if (set.startsWith('^')) set = `!${set.slice(1)}`;
      re += `[${set.startsWith('!') ? `^${set.slice(1)}` : set}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
