import type { EscapeChar } from '../ast.js';
import { contentEnd, continuationIndex, isBlank, lineEnd, skipSpace } from './chars.js';
import { createToken, type IToken, Lexer, type TokenType } from './chevrotain.js';
import { findHeredocMarkers, type HeredocBodyScan, type HeredocMarker, scanHeredocBodies } from './heredoc.js';
import { Comment, LineEnd, matched, Newline, Whitespace } from './tokens.js';

/** What a `Continuation` token skipped: blank lines (counted from the token's first line) inside the continuation. */
export interface ContinuationPayload {
  emptyLines: number[];
}

/** What a `HeredocBody` token holds: the markers of the instruction line and their bodies. */
export interface HeredocPayload extends HeredocBodyScan {
  markers: HeredocMarker[];
}

export const HeredocBody = createToken({
  name: 'HeredocBody',
  pattern: { exec: matchHeredocBody },
  line_breaks: true,
});

/** The concrete tokens of one escape character, by role. */
export interface EscapeTokens {
  instructionText: TokenType;
  leadingContinuation: TokenType;
  argText: TokenType;
  continuation: TokenType;
  /** Every token type the lexer of this escape character produces. */
  all: TokenType[];
}

const tokenSets = new Map<EscapeChar, EscapeTokens>();
const lexers = new Map<EscapeChar, Lexer>();
const textTypes = new Set<TokenType>();
const startTypes = new Set<TokenType>();

/** The lexer for one escape character, built once. */
export function lexerFor(esc: EscapeChar): Lexer {
  let l = lexers.get(esc);
  if (!l) {
    l = buildLexer(esc);
    lexers.set(esc, l);
  }
  return l;
}

/**
 * Builds a lexer. Chevrotain's definition checks cost start-up time, so they
 * run only when `validate` is set (the grammar's unit test does).
 */
export function buildLexer(esc: EscapeChar, options: { validate?: boolean } = {}): Lexer {
  const t = tokensFor(esc);
  return new Lexer(
    {
      modes: {
        line: [HeredocBody, t.leadingContinuation, Newline, Whitespace, Comment, t.instructionText],
        args: [t.continuation, LineEnd, t.argText],
      },
      defaultMode: 'line',
    },
    {
      positionTracking: 'onlyStart',
      lineTerminatorsPattern: /\n/g,
      lineTerminatorCharacters: ['\n'],
      ensureOptimizations: false,
      skipValidations: options.validate !== true,
    },
  );
}

/** The token types of one escape character, made once (the grammar tells instruction tokens apart by them). */
export function tokensFor(esc: EscapeChar): EscapeTokens {
  let set = tokenSets.get(esc);
  if (set) return set;
  const e = esc.charCodeAt(0);
  const suffix = esc === '\\' ? 'Backslash' : 'Backtick';
  const instructionText = createToken({
    name: `InstructionText${suffix}`,
    pattern: { exec: (text, offset) => matchText(text, offset, e, true) },
    line_breaks: false,
    push_mode: 'args',
  });
  const leadingContinuation = createToken({
    name: `LeadingContinuation${suffix}`,
    pattern: { exec: (text, offset) => matchContinuation(text, offset, e, true) },
    line_breaks: true,
    push_mode: 'args',
    start_chars_hint: [esc],
  });
  const argText = createToken({
    name: `ArgText${suffix}`,
    pattern: { exec: (text, offset) => matchText(text, offset, e, false) },
    line_breaks: false,
  });
  const continuation = createToken({
    name: `Continuation${suffix}`,
    pattern: { exec: (text, offset) => matchContinuation(text, offset, e, false) },
    line_breaks: true,
    start_chars_hint: [esc],
  });
  textTypes.add(instructionText).add(argText);
  startTypes.add(instructionText).add(leadingContinuation);
  set = {
    instructionText,
    leadingContinuation,
    argText,
    continuation,
    all: [
      HeredocBody,
      leadingContinuation,
      Newline,
      Whitespace,
      Comment,
      instructionText,
      continuation,
      LineEnd,
      argText,
    ],
  };
  tokenSets.set(esc, set);
  return set;
}

/**
 * Instruction or argument text: from `offset` (the start of the processed line)
 * up to a line continuation or the end of the line, never across a line break.
 * Instruction text must not start with a comment marker or whitespace.
 */
function matchText(text: string, offset: number, esc: number, first: boolean): [string] | null {
  const c = text.charCodeAt(offset);
  if (c === 10) return null;
  if (first && (c === 35 || c === 32 || c === 9)) return null;
  const end = contentEnd(text, offset, lineEnd(text, offset));
  if (end <= offset) return null;
  const k = continuationIndex(text, offset, end, esc);
  const stop = k >= 0 ? k : end;
  return stop > offset ? matched(text.slice(offset, stop)) : null;
}

/**
 * An escaped line break: the escape character, trailing spaces and tabs, the
 * line end, then every comment line and blank line that follows (BuildKit drops
 * them from the logical line; blank ones are reported by NoEmptyContinuation).
 */
function matchContinuation(text: string, offset: number, esc: number, lineStart: boolean): [string] | null {
  if (text.charCodeAt(offset) !== esc) return null;
  const eol = lineEnd(text, offset);
  const end = contentEnd(text, offset, eol);
  const from = lineStart ? offset : text.lastIndexOf('\n', offset - 1) + 1;
  if (continuationIndex(text, from, end, esc) !== offset) return null;
  let pos = eol < text.length ? eol + 1 : eol;
  const emptyLines: number[] = [];
  let rel = 1;
  while (pos < text.length) {
    const next = lineEnd(text, pos);
    const s = skipSpace(text, pos, next);
    if (s === next || isBlank(text, s, next)) {
      emptyLines.push(rel);
    } else if (text.charCodeAt(s) !== 35) {
      break;
    }
    pos = next < text.length ? next + 1 : next;
    rel++;
  }
  const image = [text.slice(offset, pos)] as [string] & { payload?: ContinuationPayload };
  image.payload = { emptyLines };
  return image;
}

/**
 * Heredoc bodies: right after the line end of an instruction whose line holds
 * heredoc markers, every body up to its terminator line (or to the end of the
 * input when a terminator is missing).
 */
function matchHeredocBody(text: string, offset: number, tokens: IToken[]): [string] | null {
  const last = tokens[tokens.length - 1];
  if (!last || last.tokenType !== LineEnd) return null;
  // the instruction's text tokens, back to its first; the line is joined only when it may hold a marker
  let first = tokens.length - 2;
  let marked = false;
  for (; first >= 0; first--) {
    const t = tokens[first]!;
    // any `<` (a `<<` may be split across two segments)
    if (textTypes.has(t.tokenType) && t.image.includes('<')) marked = true;
    if (startTypes.has(t.tokenType)) break;
  }
  if (!marked) return null;
  let line = '';
  for (let i = Math.max(first, 0); i < tokens.length - 1; i++) {
    const t = tokens[i]!;
    if (textTypes.has(t.tokenType)) line += t.image;
  }
  const { markers } = findHeredocMarkers(line);
  if (markers.length === 0) return null;
  const scan = scanHeredocBodies(text, offset, markers);
  if (scan.end <= offset) return null;
  const image = [text.slice(offset, scan.end)] as [string] & { payload?: HeredocPayload };
  image.payload = { end: scan.end, bodies: scan.bodies, markers };
  return image;
}
