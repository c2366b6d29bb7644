import { createToken, Lexer, type TokenType } from './chevrotain.js';

/**
 * Token types of the Dockerfile lexer.
 *
 * The lexer has two modes. `line` is the start of a logical line: blank lines,
 * comments and the first text of an instruction. `args` is the rest of an
 * instruction: text segments, escaped line continuations and the line end.
 * After an instruction whose line holds heredoc markers, one `HeredocBody`
 * token carries every body up to its terminator.
 *
 * Instruction text, argument text and continuations depend on the escape
 * character (`\` or `` ` ``), so each escape character has its own concrete
 * tokens; the parser consumes their categories and serves both lexers.
 */

export const InstructionText = createToken({ name: 'InstructionText', pattern: Lexer.NA });
export const LeadingContinuation = createToken({ name: 'LeadingContinuation', pattern: Lexer.NA });
export const ArgText = createToken({ name: 'ArgText', pattern: Lexer.NA });
export const Continuation = createToken({ name: 'Continuation', pattern: Lexer.NA });

export const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true });
export const Whitespace = createToken({ name: 'Whitespace', pattern: /[^\S\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/ });
export const LineEnd = createToken({
  name: 'LineEnd',
  pattern: { exec: matchLineEnd },
  line_breaks: true,
  pop_mode: true,
  start_chars_hint: ['\r', '\n'],
});

/** The categories and shared tokens: the parser's vocabulary is these plus every escape's concrete tokens. */
export const categoryTokens: TokenType[] = [
  InstructionText,
  LeadingContinuation,
  ArgText,
  Continuation,
  Newline,
  Whitespace,
  Comment,
  LineEnd,
];

/** `\r*\n`, or trailing `\r`s at the end of the input. */
function matchLineEnd(text: string, offset: number): [string] | null {
  let i = offset;
  while (i < text.length && text.charCodeAt(i) === 13) i++;
  if (i < text.length && text.charCodeAt(i) === 10) return [text.slice(offset, i + 1)];
  if (i === text.length && i > offset) return [text.slice(offset, i)];
  return null;
}
