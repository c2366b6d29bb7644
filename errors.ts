/**
 * The error hierarchy shared by every module.
 *
 * Every error that tsbuild raises on purpose is a `TsbuildError` with a stable
 * `code` (`TSB_…`). Modules subclass it (`DockerfileSyntaxError`, `RuntimeError`,
 * `SnapshotError`, …); callers test `err.code` or `instanceof`, never the message.
 * Messages are lower-case, without a trailing period, and name the fault.
 *
 * Only `cli/` prints errors or sets exit codes.
 */

/** A 1-based position in a source file. `offset` is the 0-based UTF-16 index, when known. */
export interface Position {
  line: number;
  column: number;
  offset?: number;
}

/** A range in a source file: 1-based lines and columns, `end` inclusive (as Chevrotain's tokens). */
export interface SourceRange {
  start: Position;
  end: Position;
}

export interface TsbuildErrorOptions {
  cause?: unknown;
  /** The file the ranges refer to (a Dockerfile path, usually). */
  file?: string;
  ranges?: SourceRange[];
}

export class TsbuildError extends Error {
  readonly code: string;
  /** Source file the `ranges` point into, when the error comes from one. */
  file?: string;
  /** Where in `file` the fault is; appended by `withLocation`, never replaced. */
  ranges: SourceRange[];

  constructor(code: string, message: string, options: TsbuildErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = options.file;
    this.ranges = options.ranges ? [...options.ranges] : [];
  }

  /** A plain, JSON-friendly view (for `--progress=json` and the API's events). */
  toJSON(): { name: string; code: string; message: string; file?: string; ranges: SourceRange[] } {
    return { name: this.name, code: this.code, message: this.message, file: this.file, ranges: this.ranges };
  }
}

/**
 * Adds a location to an error without replacing it (BuildKit's `WithLocation`).
 * A non-tsbuild error is wrapped as `TSB_INTERNAL` so that the range is not lost.
 */
export function withLocation(err: unknown, range: SourceRange, file?: string): TsbuildError {
  const e =
    err instanceof TsbuildError
      ? err
      : new TsbuildError('TSB_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
  if (!e.ranges.some((r) => sameRange(r, range))) e.ranges.push(range);
  if (file !== undefined && e.file === undefined) e.file = file;
  return e;
}

function sameRange(a: SourceRange, b: SourceRange): boolean {
  return (
    a.start.line === b.start.line &&
    a.start.column === b.start.column &&
    a.end.line === b.end.line &&
    a.end.column === b.end.column
  );
}

export function isTsbuildError(err: unknown): err is TsbuildError {
  return err instanceof TsbuildError;
}

/** Thrown for bad command-line input or API options: names the flag or option at fault. */
export class UsageError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions & { flag?: string } = {}) {
    super('TSB_USAGE', message, options);
    this.flag = options.flag;
  }
  readonly flag?: string;
}
