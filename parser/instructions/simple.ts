import type {
  CmdInstruction,
  EntrypointInstruction,
  ExposeInstruction,
  MaintainerInstruction,
  ShellInstruction,
  StopsignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from '../ast.js';
import { parseJsonArray, splitFields } from '../syntax/index.js';
import { commandLineOf, NOT_STRINGS } from './command-line.js';
import { argsRange, codes, fail, flagsOf, type InstructionInput, wordOf } from './context.js';
import { checkFlags } from './flags.js';

/** `CMD` in exec or shell form (may be empty, as in BuildKit). */
export function parseCmd(input: InstructionInput): CmdInstruction {
  checkFlags(input);
  return {
    kind: 'cmd',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    command: commandLineOf(input),
  };
}

/** `ENTRYPOINT` in exec or shell form. */
export function parseEntrypoint(input: InstructionInput): EntrypointInstruction {
  checkFlags(input);
  return {
    kind: 'entrypoint',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    command: commandLineOf(input),
  };
}

/** `SHELL ["executable", "parameters"]`: only the JSON form. */
export function parseShell(input: InstructionInput): ShellInstruction {
  checkFlags(input);
  const json = parseJsonArray(input.line.text, input.args.start, input.args.end);
  if (json.kind === 'not-strings') fail(codes.json, NOT_STRINGS, argsRange(input));
  if (input.args.end === input.args.start || (json.kind === 'exec' && json.values.length === 0)) {
    fail(codes.arguments, 'SHELL requires at least one argument', argsRange(input));
  }
  if (json.kind !== 'exec') fail(codes.json, 'SHELL requires the arguments to be in JSON form', argsRange(input));
  return {
    kind: 'shell',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    args: json.values.map((v) => v.value),
  };
}

/** `MAINTAINER name` (deprecated): the rest of the line. */
export function parseMaintainer(input: InstructionInput): MaintainerInstruction {
  requireOne(input, 'MAINTAINER');
  checkFlags(input);
  return {
    kind: 'maintainer',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    name: input.args.value,
  };
}

export function parseUser(input: InstructionInput): UserInstruction {
  checkFlags(input);
  requireOne(input, 'USER');
  return {
    kind: 'user',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    user: wordOf(input, input.args),
  };
}

export function parseWorkdir(input: InstructionInput): WorkdirInstruction {
  checkFlags(input);
  requireOne(input, 'WORKDIR');
  return {
    kind: 'workdir',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    path: wordOf(input, input.args),
  };
}

export function parseStopsignal(input: InstructionInput): StopsignalInstruction {
  // no flag check: BuildKit's parseStopSignal never parses them (`STOPSIGNAL --x TERM` is STOPSIGNAL TERM)
  requireOne(input, 'STOPSIGNAL');
  return {
    kind: 'stopsignal',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    signal: wordOf(input, input.args),
  };
}

/** `EXPOSE port[/proto] …`, the words as written. */
export function parseExpose(input: InstructionInput): ExposeInstruction {
  checkFlags(input);
  const ports = splitFields(input.line.text, input.args.start, input.args.end);
  if (ports.length === 0) fail(codes.arguments, 'EXPOSE requires at least one argument', argsRange(input));
  return {
    kind: 'expose',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    ports: ports.map((p) => wordOf(input, p)),
  };
}

/** `VOLUME ["/a", "/b"]` or `VOLUME /a /b`. */
export function parseVolume(input: InstructionInput): VolumeInstruction {
  checkFlags(input);
  const json = parseJsonArray(input.line.text, input.args.start, input.args.end);
  if (json.kind === 'not-strings') fail(codes.json, NOT_STRINGS, argsRange(input));
  const spans = json.kind === 'exec' ? json.values : splitFields(input.line.text, input.args.start, input.args.end);
  if (spans.length === 0) fail(codes.arguments, 'VOLUME requires at least one argument', argsRange(input));
  const paths = spans.map((s) => {
    const word = wordOf(input, s);
    word.value = word.value.trim();
    if (word.value === '') fail(codes.arguments, 'VOLUME specified can not be an empty string', word.range);
    return word;
  });
  return {
    kind: 'volume',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    paths,
    form: json.kind === 'exec' ? 'exec' : 'shell',
  };
}

/** USER, WORKDIR, STOPSIGNAL and MAINTAINER take the rest of the line as one argument. */
function requireOne(input: InstructionInput, keyword: string): void {
  if (input.args.end === input.args.start) {
    fail(codes.arguments, `${keyword} requires exactly one argument`, argsRange(input));
  }
}
