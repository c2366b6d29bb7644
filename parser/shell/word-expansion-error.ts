import { ExpansionError } from '../errors.js';
import { goQuote } from './chars.js';

/** Error codes of word expansion; every one is an `ExpansionError`. */
export const EXPANSION_ERROR_CODES = {
  /** Malformed substitution: `${`, `${}`, `${a`, `${a!b}`, an unclosed quote. */
  syntax: 'TSB_DOCKERFILE_EXPANSION_SYNTAX',
  /** `${v?msg}` with `v` unset, or `${v:?msg}` with `v` unset or empty. */
  required: 'TSB_DOCKERFILE_EXPANSION_REQUIRED',
  /** A bad escape in a `#`, `%` or `/` pattern (`${v#\x}`). */
  pattern: 'TSB_DOCKERFILE_EXPANSION_PATTERN',
} as const;

export type ExpansionErrorKind = keyof typeof EXPANSION_ERROR_CODES;

/**
 * A word that cannot be expanded. The message is BuildKit's: `failed to process "<word>": <reason>`
 * (`failed to process "${v:?no v}": v: no v`). The caller adds the source range with `withLocation`.
 */
export class WordExpansionError extends ExpansionError {
  /** The word as written. */
  readonly word: string;
  /** The message without the `failed to process` prefix: `v: no v`, `syntax error: missing '}'`. */
  readonly reason: string;
  /** The variable at fault, for `required` errors. */
  readonly variable?: string;

  constructor(kind: ExpansionErrorKind, word: string, reason: string, variable?: string) {
    super(`failed to process ${goQuote(word)}: ${reason}`, { code: EXPANSION_ERROR_CODES[kind] });
    this.word = word;
    this.reason = reason;
    if (variable !== undefined) this.variable = variable;
  }
}
