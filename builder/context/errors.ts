import { TsbuildError, type TsbuildErrorOptions } from '../../errors.js';

/**
 * Errors about the build context: the context directory, the Dockerfile, the
 * `.dockerignore` file and the sources and destinations of COPY and ADD.
 * Callers test `code`, never the message.
 */
export class ContextError extends TsbuildError {}

/** A malformed glob (Go's `filepath.ErrBadPattern`): `code` is `TSB_BAD_PATTERN`. */
export class GlobPatternError extends ContextError {
  readonly pattern: string;
  constructor(pattern: string, options: TsbuildErrorOptions & { message?: string } = {}) {
    super('TSB_BAD_PATTERN', options.message ?? `syntax error in pattern ${JSON.stringify(pattern)}`, options);
    this.pattern = pattern;
  }
}

/** A bad line in a `.dockerignore` file: `file` is the ignore file, `ranges` point at the line. */
export class DockerignoreError extends ContextError {
  readonly line: number;
  constructor(message: string, file: string, line: number, options: TsbuildErrorOptions = {}) {
    super('TSB_DOCKERIGNORE', `${file}:${line}: ${message}`, {
      ...options,
      file,
      ranges: [{ start: { line, column: 1 }, end: { line, column: 1 } }],
    });
    this.line = line;
  }
}

/**
 * A context file that exists but cannot be read (permissions, I/O): `TSB_CONTEXT_READ`, naming the path.
 * A missing file is not this error: callers treat it as absent.
 */
export function contextReadError(op: string, path: string, err: unknown): ContextError {
  const e = err as NodeJS.ErrnoException;
  return new ContextError('TSB_CONTEXT_READ', `cannot ${op} ${path}: ${e.code ?? e.message}`, { cause: err });
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
