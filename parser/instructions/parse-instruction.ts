import type { Instruction, InstructionKind } from '../ast.js';
import { INSTRUCTIONS } from '../ast.js';
import type { LogicalLine, Span } from '../syntax/index.js';
import { codes, fail, type InstructionInput, rangeOf } from './context.js';
import { parseAdd, parseCopy } from './copy.js';
import { parseFrom } from './from.js';
import { parseHealthcheck } from './healthcheck.js';
import { parseArg, parseEnv, parseLabel } from './key-value.js';
import { parseOnbuild } from './onbuild.js';
import { parseRun } from './run.js';
import {
  parseCmd,
  parseEntrypoint,
  parseExpose,
  parseMaintainer,
  parseShell,
  parseStopsignal,
  parseUser,
  parseVolume,
  parseWorkdir,
} from './simple.js';
import { suggest } from './suggest.js';

const BUILDERS: { [K in InstructionKind]: (input: InstructionInput) => Instruction } = {
  from: parseFrom,
  run: parseRun,
  cmd: parseCmd,
  label: parseLabel,
  maintainer: parseMaintainer,
  expose: parseExpose,
  env: parseEnv,
  add: parseAdd,
  copy: parseCopy,
  entrypoint: parseEntrypoint,
  volume: parseVolume,
  user: parseUser,
  workdir: parseWorkdir,
  arg: parseArg,
  onbuild: parseOnbuild,
  stopsignal: parseStopsignal,
  healthcheck: parseHealthcheck,
  shell: parseShell,
};

const KINDS = new Set<string>(INSTRUCTIONS);
/** The usual spelling first: an upper-case keyword needs no lower-casing. */
const KIND_BY_UPPER = new Map<string, InstructionKind>(INSTRUCTIONS.map((k) => [k.toUpperCase(), k]));

/** The instruction kind of a keyword (any case), or undefined. */
export function instructionKind(keyword: string): InstructionKind | undefined {
  const upper = KIND_BY_UPPER.get(keyword);
  if (upper !== undefined) return upper;
  const k = keyword.toLowerCase();
  return KINDS.has(k) ? (k as InstructionKind) : undefined;
}

/** Types one instruction; throws `InstructionError` for an unknown keyword or a bad instruction. */
export function parseInstruction(input: InstructionInput): Instruction {
  return BUILDERS[input.kind](input);
}

/** The error for a keyword that is no instruction, with a suggestion when one is close. */
export function unknownInstruction(line: LogicalLine, keyword: Span): never {
  const hint = suggest(keyword.value, UPPER);
  fail(
    codes.unknownInstruction,
    `unknown instruction: ${keyword.value}${hint ? ` (did you mean ${hint}?)` : ''}`,
    rangeOf({ line }, keyword),
  );
}

const UPPER = INSTRUCTIONS.map((i) => i.toUpperCase());
