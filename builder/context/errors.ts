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
