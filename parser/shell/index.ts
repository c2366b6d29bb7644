export { type EnvLookup, type EnvSource, envLookup } from './env-lookup.js';
export { type ExpandOptions, type Expansion, expandWord, expandWords, type WordsExpansion } from './expand.js';
export {
  EXPANSION_ERROR_CODES,
  type ExpansionErrorKind,
  WordExpansionError,
} from './word-expansion-error.js';
