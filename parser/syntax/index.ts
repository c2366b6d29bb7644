export { continuationIndex, isFieldSpace, isSpace, skipSpace, trimEnd } from './chars.js';
export {
  chompHeredoc,
  findHeredocMarkers,
  type HeredocMarker,
  isHeredocWord,
  scanHeredocBodies,
} from './heredoc.js';
export { type JsonArrayResult, parseJsonArray } from './json-array.js';
export { buildLexer, lexerFor } from './lexer.js';
export { LogicalLine } from './logical-line.js';
export { type InstructionSource, type ToAstOptions, type ToAstResult, toAst } from './to-ast.js';
export {
  extractFlags,
  type FlagSpan,
  parseWords,
  type Span,
  shellWords,
  splitFields,
  splitKeyword,
  trimSpan,
  unquoteWord,
} from './words.js';
