import type { Flag, SourceRange, Word } from '../ast.js';
import { InstructionError } from '../errors.js';
import type { InstructionSource, LogicalLine, Span } from '../syntax/index.js';

/**
 * One instruction ready to be typed: its keyword, flags and argument text as
 * spans of the logical line, plus what the lexer found around it. The builders
 * in this folder turn it into the typed `Instruction`.
 */
export type InstructionInput = InstructionSource;

/**
 * Stops building an instruction with an `InstructionError` at `range`;
 * `to-ast` turns it into an error diagnostic and leaves the instruction out.
 */
export function fail(code: string, message: string, range: SourceRange): never {
  throw new InstructionError(message, { code, ranges: [range] });
}

/** Error codes of the instruction builders. */
export const codes = {
  arguments: 'TSB_DOCKERFILE_ARGUMENTS',
  unknownFlag: 'TSB_DOCKERFILE_UNKNOWN_FLAG',
  flag: 'TSB_DOCKERFILE_FLAG',
  json: 'TSB_DOCKERFILE_JSON',
  keyValue: 'TSB_DOCKERFILE_KEY_VALUE',
  mount: 'TSB_DOCKERFILE_MOUNT',
  healthcheck: 'TSB_DOCKERFILE_HEALTHCHECK',
  onbuild: 'TSB_DOCKERFILE_ONBUILD',
  stageName: 'TSB_DOCKERFILE_STAGE_NAME',
  unknownInstruction: 'TSB_DOCKERFILE_UNKNOWN_INSTRUCTION',
} as const;

/** The source range of a span of the logical line. */
export function rangeOf(input: { line: LogicalLine }, span: { start: number; end: number }): SourceRange {
  return input.line.range(span.start, span.end);
}

export function wordOf(input: InstructionInput, span: Span): Word {
  return { value: span.value, range: rangeOf(input, span) };
}

/** The range to blame when arguments are missing: the arguments if any, else the keyword. */
export function argsRange(input: InstructionInput): SourceRange {
  return input.args.end > input.args.start ? rangeOf(input, input.args) : rangeOf(input, input.keyword);
}

/** The empty list every instruction without flags, mounts, excludes or heredocs shares (frozen). */
export const NONE: never[] = Object.freeze([]) as unknown as never[];
const NO_FLAGS: Flag[] = NONE;

/**
 * The instruction's flags as the AST shows them. The builders make each instruction as one object
 * literal: the fields every instruction has (`kind`, `keyword`, `original`, `flags`, `comments`,
 * `range`, in this order), then its own; one allocation of the right size.
 */
export function flagsOf(input: InstructionInput): Flag[] {
  const spans = input.flags;
  if (spans.length === 0) return NO_FLAGS;
  return spans.map((f) => ({ name: f.name, value: f.flagValue, range: rangeOf(input, f) }));
}
