import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cleanPath, trimSpace } from './clean-path.js';
import { ContextError, DockerignoreError, GlobPatternError } from './errors.js';
import { PathPattern, PatternMatcher } from './pattern-matcher.js';

/** One pattern of an ignore file, with the line it came from. */
export interface IgnoreLine {
  /** The pattern as the matcher takes it (cleaned, `!` kept). */
  pattern: string;
  line: number;
}

export interface Dockerignore {
  /** The ignore file that was read, or undefined when there is none. */
  file: string | undefined;
  lines: IgnoreLine[];
  matcher: PatternMatcher;
}

/**
 * Reads `.dockerignore` text as Docker does (moby/patternmatcher's
 * `ignorefile.ReadAll`): a UTF-8 BOM is dropped, a line that starts with `#`
 * is a comment, blank lines are skipped, surrounding spaces go, `!` marks an
 * exception, and each pattern is cleaned with a leading `/` removed.
 */
export function readIgnoreLines(text: string): IgnoreLine[] {
  const out: IgnoreLine[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let pattern = trimSpace(line);
    if (pattern === '') return;
    const invert = pattern.startsWith('!');
    if (invert) pattern = trimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push({ pattern: invert ? `!${pattern}` : pattern, line: i + 1 });
  });
  return out;
}

/** Parses `.dockerignore` text into a matcher; a bad pattern is a `DockerignoreError` naming the file and line. */
export function parseDockerignore(text: string, file = '.dockerignore'): Dockerignore {
  const lines = readIgnoreLines(text);
  const patterns: PathPattern[] = [];
  for (const { pattern, line } of lines) {
    try {
      patterns.push(new PathPattern(pattern));
    } catch (err) {
      if (err instanceof GlobPatternError) throw new DockerignoreError(err.message, file, line, { cause: err });
      throw err;
    }
  }
  return { file, lines, matcher: new PatternMatcher(patterns) };
}

async function readIfFile(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ContextError('TSB_DOCKERIGNORE_READ', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Finds and parses the ignore file of a build: `<Dockerfile>.dockerignore`
 * next to the Dockerfile when it exists (BuildKit), else `.dockerignore` at
 * the context root. `dockerfile` is the Dockerfile's path on disk; leave it
 * out when the Dockerfile comes from stdin.
 */
export async function loadDockerignore(options: { context: string; dockerfile?: string }): Promise<Dockerignore> {
  const candidates: string[] = [];
  if (options.dockerfile !== undefined) {
    candidates.push(join(dirname(options.dockerfile), `${basename(options.dockerfile)}.dockerignore`));
  }
  candidates.push(join(options.context, '.dockerignore'));
  for (const file of candidates) {
    const text = await readIfFile(file);
    if (text !== undefined) return parseDockerignore(text, file);
  }
  return { file: undefined, lines: [], matcher: new PatternMatcher([]) };
}
