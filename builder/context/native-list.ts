import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '../../load-addon.js';

/**
 * The optional addon in `builder/context/native` (`node-gyp rebuild --directory builder/context/native`):
 * `listStats(dir)` lists a directory and lstat's every name in one call, returning numbers instead of a
 * Stats object per file. Without it (not built, or `TSBUILD_CONTEXT_NATIVE=0`) the context uses
 * `readdirSync` and `lstatSync`, with the same results.
 */
export interface ContextAddon {
  /** Names in directory order, and STAT_FIELDS doubles per name (see `StatField`). */
  listStats(dir: string): [string[], Float64Array];
}

/** Doubles per name in a stat row. */
export const STAT_FIELDS = 10;

/** Positions in a stat row: the fields of `lstat`, times in ms as Node's Stats gives them. */
export const StatField = {
  mode: 0,
  uid: 1,
  gid: 2,
  size: 3,
  mtimeMs: 4,
  ctimeMs: 5,
  dev: 6,
  ino: 7,
  nlink: 8,
  rdev: 9,
} as const;

let loaded: ContextAddon | null | undefined;

/**
 * Where the built addon may be: beside the sources, or under an ancestor's builder/context/native (from
 * dist/builder/context/, the dist/bin/ bundle, or a bench's output directory).
 */
function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const rel = join('builder', 'context', 'native', 'build', 'Release', 'tsbuild_context.node');
  const out = [join(here, 'native', 'build', 'Release', 'tsbuild_context.node')];
  for (let up = here, i = 0; i < 5; i++) {
    const parent = dirname(up);
    if (parent === up) break;
    up = parent;
    out.push(join(up, rel));
  }
  return out;
}

/** The addon, loaded once; undefined when it is not built or is turned off. */
export function contextAddon(): ContextAddon | undefined {
  if (loaded === undefined) {
    loaded = null;
    if (process.env.TSBUILD_CONTEXT_NATIVE !== '0') {
      const file = candidates().find((f) => existsSync(f));
      try {
        if (file) loaded = loadAddon<ContextAddon>(file);
      } catch {
        // Built for another Node ABI or platform: the JS path gives the same results.
        loaded = null;
      }
    }
  }
  return loaded ?? undefined;
}
