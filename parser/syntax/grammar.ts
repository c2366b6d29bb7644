import type { EscapeChar } from '../ast.js';
import type { IToken } from './chevrotain.js';
import { type EscapeTokens, HeredocBody, tokensFor } from './lexer.js';
import { Comment, LineEnd, Newline } from './tokens.js';

/** The tokens of one instruction, in source order. */
export interface InstructionTokens {
  /** Its text segments (the instruction text or a leading continuation's line, then argument text). */
  segments: IToken[];
  /** Its escaped line continuations, the leading one first; undefined when it has none. */
  continuations: IToken[] | undefined;
  /** The heredoc bodies that follow its line, if any. */
  heredocBody: IToken | undefined;
}

/** A lexed Dockerfile read by the grammar. */
export interface DockerfileTokens {
  comments: IToken[];
  instructions: InstructionTokens[];
  /** The first token the grammar does not allow where it stands; reading stops there. */
  unexpected: IToken | undefined;
}

/**
 * The Dockerfile grammar, read straight off the lexer's tokens: a file is
 * blank lines, comments and instructions; an instruction is its first text
 * (or a leading continuation), then text segments and continuations up to the
 * line end, then its heredoc bodies. The lexer's modes already give the token
 * vector this shape; the meaning of the text (keyword, flags, arguments) is
 * read by `to-ast` from the joined logical line.
 */
export function readDockerfile(tokens: IToken[], esc: EscapeChar): DockerfileTokens {
  const types = tokensFor(esc);
  const out: DockerfileTokens = { comments: [], instructions: [], unexpected: undefined };
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    const type = token.tokenType;
    if (type === Newline) {
      i++;
    } else if (type === Comment) {
      out.comments.push(token);
      i++;
    } else if (type === types.instructionText || type === types.leadingContinuation) {
      i = readInstruction(tokens, i, types, out.instructions);
    } else {
      out.unexpected = token;
      break;
    }
  }
  return out;
}

/** Reads the instruction starting at `start` into `into`; returns the index after it. */
function readInstruction(tokens: IToken[], start: number, types: EscapeTokens, into: InstructionTokens[]): number {
  const first = tokens[start]!;
  // array literals rather than pushes into empty arrays: most instructions are one segment, sized exactly
  const isText = first.tokenType === types.instructionText;
  const segments: IToken[] = isText ? [first] : [];
  let continuations: IToken[] | undefined = isText ? undefined : [first];
  let i = start + 1;
  for (; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.tokenType === types.argText) {
      segments.push(token);
    } else if (token.tokenType === types.continuation) {
      if (continuations) continuations.push(token);
      else continuations = [token];
    } else {
      break;
    }
  }
  if (tokens[i]?.tokenType === LineEnd) i++;
  let heredocBody: IToken | undefined;
  if (tokens[i]?.tokenType === HeredocBody) heredocBody = tokens[i++];
  into.push({ segments, continuations, heredocBody });
  return i;
}
