import type { ExpansionErrorKind } from './word-expansion-error.js';

/**
 * The scanner's internal failure, raised deep in a nested substitution and turned into a
 * `WordExpansionError` once, at the top, where the whole word is known (as BuildKit wraps its error).
 */
export class Fault {
  constructor(
    readonly kind: ExpansionErrorKind,
    readonly reason: string,
    readonly variable?: string,
  ) {}
}
