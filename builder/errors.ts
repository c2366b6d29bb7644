import { TsbuildError } from '../errors.js';

/**
 * Errors of a build: a step that failed (`TSB_BUILD_RUN_FAILED` carries the
 * command's exit code), a base image that is missing, a cancelled build. They
 * carry the Dockerfile and the instruction's range when a step caused them.
 */
export class BuildError extends TsbuildError {
  /** The exit code of a failed RUN. */
  exitCode?: number;
  /** The last lines a failed RUN printed. */
  output?: string[];
}
