import type { Diagnostic, EscapeChar, Heredoc, Instruction, InstructionKind, Position, SourceRange } from '../ast.js';
import { DockerfileError } from '../errors.js';
import { skipSpace, trimEnd } from './chars.js';
import type { IToken } from './chevrotain.js';

import { chompHeredoc, findHeredocMarkers, type HeredocMarker } from './heredoc.js';
import { type ContinuationPayload, HeredocBody, type HeredocPayload, tokensFor } from './lexer.js';
import { LogicalLine } from './logical-line.js';
import { Comment, LineEnd, Newline } from './tokens.js';
import { extractFlags, type FlagSpan, type Span, splitKeyword } from './words.js';

/** What `to-ast` hands the instruction builders for one instruction (see `parser/instructions`). */
export interface InstructionSource {
  kind: InstructionKind;
  keyword: Span;
  line: LogicalLine;
  flags: FlagSpan[];
  args: Span;
  original: string;
  heredocs: Heredoc[];
  heredocRaw: string[];
  comments: string[];
  escape: EscapeChar;
  range: SourceRange;
  parseNested: (start: number) => Instruction;
}

export interface ToAstOptions {
  escape: EscapeChar;
  /** Comment lines up to this line are parser directives, not instruction comments. */
  directivesEnd: number;
  /** The instruction kind of a keyword, or undefined for an unknown one. */
  kindOf: (keyword: string) => InstructionKind | undefined;
  /** Types one instruction; throws a `DockerfileError` when it is wrong. */
  build: (source: InstructionSource) => Instruction;
  /** Throws the error for an unknown instruction keyword. */
  unknown: (line: LogicalLine, keyword: Span) => never;
}

export interface ToAstResult {
  instructions: Instruction[];
  diagnostics: Diagnostic[];
  /** Instruction lines seen, well-formed or not. */
  seen: number;
  /** The first token the grammar does not allow where it stands; reading stops there. */
  unexpected: IToken | undefined;
}

/**
 * The tokens → AST step: reads the lexer's tokens with the Dockerfile grammar
 * (comments and blank lines, then instructions: text segments, continuations,
 * a line end, heredoc bodies), joins each instruction's text
 * segments into its logical line, attaches comments above it and its heredoc
 * bodies, reports blank continuation lines, and hands the line to the
 * instruction builders. A faulty instruction becomes an error diagnostic and
 * is left out.
 */
export function toAst(tokens: IToken[], options: ToAstOptions): ToAstResult {
  const out: ToAstResult = { instructions: [], diagnostics: [], seen: 0, unexpected: undefined };
  const comments = new Map<number, string>();
  const types = tokensFor(options.escape);
  // the segments of a one-segment instruction, reused (LogicalLine keeps only the token)
  const single: IToken[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    const type = token.tokenType;
    if (type === Newline) {
      i++;
      continue;
    }
    if (type === Comment) {
      // comments come before the instructions they belong to, so one pass finds them
      const line = token.startLine ?? 0;
      if (line > options.directivesEnd) comments.set(line, token.image.slice(1).trim());
      i++;
      continue;
    }
    if (type !== types.instructionText && type !== types.leadingContinuation) {
      out.unexpected = token;
      break;
    }
    // an instruction: its first text (or a leading continuation), text and continuations, the line end, heredocs
    const isText = type === types.instructionText;
    let segments: IToken[] | undefined;
    let continuations: IToken[] | undefined = isText ? undefined : [token];
    for (i++; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.tokenType === types.argText) {
        segments ??= isText ? [token] : [];
        segments.push(t);
      } else if (t.tokenType === types.continuation) {
        if (continuations) continuations.push(t);
        else continuations = [t];
      } else {
        break;
      }
    }
    if (tokens[i]?.tokenType === LineEnd) i++;
    let heredocBody: IToken | undefined;
    if (tokens[i]?.tokenType === HeredocBody) heredocBody = tokens[i++];
    if (segments === undefined) {
      if (isText) {
        single[0] = token;
        segments = single;
      } else {
        segments = [];
      }
    }
    instruction(segments, continuations, heredocBody, options, comments, out);
  }
  return out;
}

function instruction(
  segments: IToken[],
  continuations: IToken[] | undefined,
  heredocBody: IToken | undefined,
  options: ToAstOptions,
  commentsByLine: Map<number, string>,
  out: ToAstResult,
): void {
  const line = new LogicalLine(segments);
  const text = line.text;
  const head = splitKeyword(text, 0, text.length);
  if (!head) {
    // a line continuation with nothing after it: BuildKit parses the empty instruction and fails
    const first = continuations?.[0];
    if (first !== undefined) {
      const at = { line: first.startLine ?? 1, column: first.startColumn ?? 1 };
      out.seen++;
      out.diagnostics.push({
        severity: 'error',
        code: 'TSB_DOCKERFILE_UNKNOWN_INSTRUCTION',
        message: 'unknown instruction: "" (a line continuation with no instruction after it)',
        range: { start: at, end: at },
      });
    }
    return;
  }
  if (continuations) reportEmptyContinuations(continuations, out, line);
  out.seen++;
  const start = line.position(head.keyword.start);
  let comments = NO_COMMENTS;
  if (commentsByLine.has(start.line - 1)) {
    comments = [];
    for (let l = start.line - 1; commentsByLine.has(l); l--) comments.push(commentsByLine.get(l)!);
    comments.reverse();
  }

  const heredocs = heredocsOf(heredocBody, line);
  if ('error' in heredocs) {
    out.diagnostics.push(heredocs.error);
    return;
  }
  // (no `docs[-1]` on an empty list: a negative index is a slow property lookup)
  const lastHeredoc = heredocs.docs.length > 0 ? heredocs.docs[heredocs.docs.length - 1] : undefined;
  const end = lastHeredoc ? lastHeredoc.range.end : line.position(Math.max(trimEnd(text, 0, text.length) - 1, 0));

  try {
    out.instructions.push(options.build(new Source(options, line, heredocs, end, head, 0, start, comments)));
  } catch (err) {
    out.diagnostics.push(toDiagnostic(err, { start, end }));
  }
}

/**
 * The instruction starting at `from` of a logical line (0 for the line's own, the nested one's start for
 * ONBUILD). A class rather than an object literal with closures: one allocation per instruction.
 */
class Source implements InstructionSource {
  readonly kind: InstructionKind;
  readonly keyword: Span;
  readonly line: LogicalLine;
  readonly flags: FlagSpan[];
  readonly args: Span;
  readonly original: string;
  readonly heredocs: Heredoc[];
  readonly heredocRaw: string[];
  readonly comments: string[];
  readonly escape: EscapeChar;
  readonly range: SourceRange;
  private readonly options: ToAstOptions;

  constructor(
    options: ToAstOptions,
    line: LogicalLine,
    heredocs: { docs: Heredoc[]; raw: string[] },
    end: Position,
    head: { keyword: Span; restStart: number },
    from: number,
    start: Position,
    comments: string[],
  ) {
    const text = line.text;
    this.options = options;
    this.kind = options.kindOf(head.keyword.value) ?? options.unknown(line, head.keyword);
    this.keyword = head.keyword;
    this.line = line;
    // most instructions have no flags: no call and no result object for them
    let argsStart = skipSpace(text, head.restStart, text.length);
    if (text.charCodeAt(argsStart) === 45 && text.charCodeAt(argsStart + 1) === 45) {
      const read = extractFlags(text, head.restStart, text.length);
      this.flags = read.flags;
      argsStart = read.argsStart;
    } else {
      this.flags = NO_FLAGS;
    }
    const a = skipSpace(text, argsStart, text.length);
    const b = trimEnd(text, a, text.length);
    this.args = { value: text.slice(a, b), start: a, end: b };
    this.original =
      from === 0 ? text : text.slice(skipSpace(text, from, text.length), trimEnd(text, from, text.length));
    this.heredocs = heredocs.docs;
    this.heredocRaw = heredocs.raw;
    this.comments = comments;
    this.escape = options.escape;
    this.range = { start, end };
  }

  parseNested(nested: number): Instruction {
    const { line, options } = this;
    const head = splitKeyword(line.text, nested, line.text.length)!;
    const heredocs = { docs: this.heredocs, raw: this.heredocRaw };
    const start = line.position(head.keyword.start);
    return options.build(new Source(options, line, heredocs, this.range.end, head, nested, start, NO_COMMENTS));
  }
}

function toDiagnostic(err: unknown, fallback: SourceRange): Diagnostic {
  if (err instanceof DockerfileError) {
    return { severity: 'error', code: err.code, message: err.message, range: err.ranges[0] ?? fallback };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    severity: 'error',
    code: 'TSB_DOCKERFILE_INTERNAL',
    message: `internal parser error: ${message}`,
    range: fallback,
  };
}

function reportEmptyContinuations(continuations: IToken[], out: ToAstResult, line: LogicalLine): void {
  const first = emptyLine(continuations);
  if (first === undefined) return;
  const at = { line: first, column: 1 };
  out.diagnostics.push({
    severity: 'warning',
    code: 'TSB_DOCKERFILE_EMPTY_CONTINUATION',
    message: `empty continuation line in the instruction on line ${line.position(0).line}`,
    range: { start: at, end: at },
    rule: 'NoEmptyContinuation',
    url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
  });
}

/** The line of the first blank line that one of these continuation tokens skipped. */
function emptyLine(tokens: IToken[]): number | undefined {
  for (const t of tokens) {
    const rel = (t.payload as ContinuationPayload | undefined)?.emptyLines[0];
    if (rel !== undefined) return (t.startLine ?? 1) + rel;
  }
  return undefined;
}

/** Shared empty lists (frozen): most instructions have no comments and no heredocs. */
const NO_FLAGS: FlagSpan[] = Object.freeze([]) as unknown as FlagSpan[];
const NO_COMMENTS: string[] = Object.freeze([]) as unknown as string[];
const NO_RAW: string[] = Object.freeze([]) as unknown as string[];
const NO_HEREDOCS: { docs: Heredoc[]; raw: string[] } = Object.freeze({
  docs: Object.freeze([]) as unknown as Heredoc[],
  raw: NO_RAW,
});

/** The instruction's heredocs: markers from its line, bodies from the `HeredocBody` token that follows it. */
function heredocsOf(
  token: IToken | undefined,
  line: LogicalLine,
): { docs: Heredoc[]; raw: string[] } | { error: Diagnostic } {
  const payload = token?.payload as HeredocPayload | undefined;
  if (!payload && !line.text.includes('<<')) return NO_HEREDOCS;
  let markers: HeredocMarker[];
  if (payload) {
    markers = payload.markers;
  } else {
    const found = findHeredocMarkers(line.text);
    if (found.error) {
      return {
        error: {
          severity: 'error',
          code: 'TSB_DOCKERFILE_HEREDOC',
          message: found.error.message,
          range: line.range(found.error.start, found.error.end),
        },
      };
    }
    markers = found.markers;
  }
  const docs: Heredoc[] = [];
  const raw: string[] = [];
  for (const [i, marker] of markers.entries()) {
    const body = payload?.bodies[i];
    if (!body?.terminated) {
      return {
        error: {
          severity: 'error',
          code: 'TSB_DOCKERFILE_HEREDOC',
          message: `unterminated heredoc ${marker.name}: no line holding only ${JSON.stringify(marker.name)} ends it`,
          range: line.range(marker.start, marker.end),
        },
      };
    }
    const doc: Heredoc = {
      name: marker.name,
      content: marker.chomp ? chompHeredoc(body.raw) : body.raw,
      expand: marker.expand,
      chomp: marker.chomp,
      range: {
        start: line.position(marker.start),
        end: { line: (token!.startLine ?? 1) + body.terminatorLine, column: Math.max(body.terminatorLength, 1) },
      },
    };
    if (marker.fd !== undefined) doc.fd = marker.fd;
    docs.push(doc);
    raw.push(body.raw);
  }
  return { docs, raw };
}
