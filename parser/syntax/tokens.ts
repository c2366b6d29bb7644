import { createToken, Lexer } from './chevrotain.js';

/**
 * Token types of the Dockerfile lexer that do not depend on the escape character.
 *
 * The lexer has two modes. `line` is the start of a logical line: blank lines,
 * comments and the first text of an instruction. `args` is the rest of an
 * instruction: text segments, escaped line continuations and the line end.
 * After an instruction whose line holds heredoc markers, one `HeredocBody`
 * token carries every body up to its terminator.
 *
 * Instruction text, argument text and continuations depend on the escape
 * character (`\` or `` ` ``), so each escape character has its own tokens
 * (see `lexer.ts`).
 */

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

/**
 * The result of a custom token pattern without a payload: one array, reused. Chevrotain reads the image
 * (`[0]`) and `payload` of the result at once and keeps neither, so a new array per token is only garbage.
 */
const MATCH: [string] = [''];

/** `[image]` for Chevrotain, in the shared result array. */
export function matched(image: string): [string] {
  MATCH[0] = image;
  return MATCH;
}

/** `\r*\n`, or trailing `\r`s at the end of the input. */
function matchLineEnd(text: string, offset: number): [string] | null {
  if (text.charCodeAt(offset) === 10) return matched('\n');
  let i = offset;
  while (i < text.length && text.charCodeAt(i) === 13) i++;
  if (i < text.length && text.charCodeAt(i) === 10) return matched(text.slice(offset, i + 1));
  if (i === text.length && i > offset) return matched(text.slice(offset, i));
  return null;
}
