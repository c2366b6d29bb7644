import { TsbuildError, type TsbuildErrorOptions } from '../errors.js';
import type { Diagnostic } from './ast.js';

/**
 * Any error about a Dockerfile's content. Always carries the file and at least
 * one source range, so the CLI can print `file:line:col` and a code frame.
 */
export class DockerfileError extends TsbuildError {}

/** Lexing and parsing failures: `code` is `TSB_DOCKERFILE_SYNTAX` or a more precise `TSB_DOCKERFILE_…`. */
export class DockerfileSyntaxError extends DockerfileError {
  /** Every error diagnostic of the parse, the first of which is this error's message. */
  readonly diagnostics: Diagnostic[];
  constructor(message: string, options: TsbuildErrorOptions & { code?: string; diagnostics?: Diagnostic[] } = {}) {
    super(options.code ?? 'TSB_DOCKERFILE_SYNTAX', message, options);
    this.diagnostics = options.diagnostics ?? [];
  }
}

/** A well-formed instruction whose meaning is wrong: an unknown flag, a bad flag value, a missing argument. */
export class InstructionError extends DockerfileError {
  constructor(message: string, options: TsbuildErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'TSB_DOCKERFILE_INSTRUCTION', message, options);
  }
}

/** Build graph errors: unknown stage or target, a dependency cycle, a bad FROM. */
export class BuildGraphError extends DockerfileError {
  constructor(code: string, message: string, options: TsbuildErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Variable expansion failures (`${v:?msg}`, a bad substitution). */
export class ExpansionError extends DockerfileError {
  constructor(message: string, options: TsbuildErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'TSB_DOCKERFILE_EXPANSION', message, options);
  }
}
