import { cleanPath } from './clean-path.js';
import { ContextError } from './errors.js';

/** A COPY or ADD destination, resolved against WORKDIR. */
export interface Destination {
  /** Absolute, cleaned path in the image (no trailing slash except for `/`). */
  path: string;
  /** True when the destination names a directory: it ends with `/` or `/.`, or is `.` or empty. */
  isDir: boolean;
}

/**
 * Resolves a destination as BuildKit does: a relative path is joined to
 * WORKDIR (default `/`), the result is cleaned, and a trailing slash (or `.`)
 * says the destination is a directory, created if missing.
 */
export function resolveDestination(dest: string, workdir = '/'): Destination {
  const isDir = dest === '' || dest === '.' || dest.endsWith('/') || dest.endsWith('/.');
  const joined = dest.startsWith('/') ? dest : `${workdir.startsWith('/') ? workdir : `/${workdir}`}/${dest}`;
  return { path: cleanPath(joined), isDir };
}

/** What the copy op finds at a path of the image before it copies: a directory, something else, or nothing. */
export type ExistingType = 'dir' | 'file' | undefined;

/** One source to place: its base name (the last element of the matched path) and whether it is a directory. */
export interface PlacedSource {
  name: string;
  isDir: boolean;
  /** `COPY --parents`: the source's entries keep their path, under a directory destination. */
  parents?: boolean;
}

/** Where one source goes: a file is written at `target`; a directory's contents go under `target`. */
export interface Placement {
  target: string;
  contents: boolean;
}

/** The classic builder's rule (several sources need a directory destination); BuildKit does not apply it. */
export class DestinationError extends ContextError {}

export interface PlanOptions {
  /** How the destination exists in the image before the copy (the copy op stats it). */
  existing?: ExistingType;
  /**
   * Reject several sources with a destination that does not end in `/`, with
   * the classic builder's message. BuildKit copies them one after another
   * onto the same path instead (the last file wins), so this is off by default.
   */
  strictMultipleSources?: boolean;
  /** `COPY` or `ADD`, for the message. */
  instruction?: string;
}

function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * Places each source as BuildKit's copy does, in order, since each copy can
 * create the destination for the next one:
 * - a directory's contents go into the destination, which becomes a directory;
 *   a directory onto an existing non-directory is an error;
 * - a file goes into the destination when it is (or has become) a directory,
 *   else it is written at the destination path itself.
 */
export function planCopy(sources: readonly PlacedSource[], dest: Destination, options: PlanOptions = {}): Placement[] {
  if (options.strictMultipleSources && sources.length > 1 && !dest.isDir) {
    throw new DestinationError(
      'TSB_COPY_DESTINATION',
      `when using ${options.instruction ?? 'COPY'} with more than one source file, the destination must be a directory and end with a /`,
    );
  }
  let state: ExistingType = dest.isDir ? 'dir' : options.existing;
  return sources.map((s) => {
    if (s.isDir || s.parents) {
      if (state === 'file') {
        throw new DestinationError('TSB_COPY_DESTINATION', `cannot copy to non-directory: ${dest.path}`);
      }
      state = 'dir';
      return { target: dest.path, contents: true };
    }
    if (state === 'dir') return { target: joinPath(dest.path, s.name), contents: false };
    state = 'file';
    return { target: dest.path, contents: false };
  });
}

/** The base name BuildKit gives a matched source (`filepath.Base` of the matched path). */
export function sourceName(matchedPath: string): string {
  const cleaned = cleanPath(matchedPath);
  if (cleaned === '.' || cleaned === '/') return cleaned;
  return cleaned.slice(cleaned.lastIndexOf('/') + 1);
}
