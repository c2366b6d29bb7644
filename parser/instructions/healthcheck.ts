import type { HealthcheckInstruction } from '../ast.js';
import { isSpace, trimSpan } from '../syntax/index.js';
import { commandLineOf } from './command-line.js';
import { argsRange, codes, fail, flagsOf, type InstructionInput, rangeOf } from './context.js';
import { parseDuration } from './duration.js';
import { type CheckedFlags, checkFlags } from './flags.js';

const MINIMUM_NS = 1e6;

/**
 * `HEALTHCHECK NONE` or `HEALTHCHECK [--interval] [--timeout] [--start-period]
 * [--start-interval] [--retries] CMD command`. Durations are Go durations,
 * stored in nanoseconds; each is 0 or at least 1ms; retries is a non-negative
 * integer. Flags given with NONE are neither checked nor used: BuildKit parses
 * them only for CMD (`HEALTHCHECK --bogus=1 NONE` builds).
 */
export function parseHealthcheck(input: InstructionInput): HealthcheckInstruction {
  const text = input.line.text;
  const { start, end } = input.args;
  if (end === start) fail(codes.arguments, 'HEALTHCHECK requires at least one argument', argsRange(input));
  let sep = start;
  while (sep < end && !isSpace(text.charCodeAt(sep))) sep++;
  const typeSpan = { value: text.slice(start, sep), start, end: sep };
  const type = typeSpan.value.toUpperCase();
  const rest = trimSpan(text, sep, end);
  if (type === 'NONE') {
    if (rest.end > rest.start) fail(codes.healthcheck, 'HEALTHCHECK NONE takes no arguments', rangeOf(input, rest));
    return {
      kind: 'healthcheck',
      keyword: input.keyword.value,
      original: input.original,
      flags: flagsOf(input),
      comments: input.comments,
      range: input.range,
      test: { type: 'none' },
    };
  }
  const flags = checkFlags(input);
  if (type !== 'CMD') {
    fail(codes.healthcheck, `unknown type "${typeSpan.value}" in HEALTHCHECK (try CMD)`, rangeOf(input, typeSpan));
  }
  const command = commandLineOf(input, rest);
  if (command.form === 'exec' ? command.args.length === 0 : command.command === '') {
    fail(codes.healthcheck, 'missing command after HEALTHCHECK CMD', rangeOf(input, typeSpan));
  }
  const health: HealthcheckInstruction = {
    kind: 'healthcheck',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    test: { type: 'cmd', command },
  };
  const interval = duration(input, flags, 'interval');
  if (interval !== undefined) health.interval = interval;
  const timeout = duration(input, flags, 'timeout');
  if (timeout !== undefined) health.timeout = timeout;
  const startPeriod = duration(input, flags, 'start-period');
  if (startPeriod !== undefined) health.startPeriod = startPeriod;
  const startInterval = duration(input, flags, 'start-interval');
  if (startInterval !== undefined) health.startInterval = startInterval;
  const retries = flags.span('retries');
  if (retries) {
    const v = retries.flagValue ?? '';
    const range = rangeOf(input, retries);
    if (!/^[+-]?\d+$/.test(v) || Math.abs(Number(v)) > 2 ** 31 - 1) {
      fail(codes.healthcheck, `invalid value for --retries: ${v}`, range);
    }
    const n = Number(v);
    if (n < 0) fail(codes.healthcheck, `--retries cannot be negative (${n})`, range);
    health.retries = n;
  }
  return health;
}

function duration(input: InstructionInput, flags: CheckedFlags, name: string): number | undefined {
  const f = flags.span(name);
  if (!f || f.flagValue === '' || f.flagValue === null) return undefined;
  const range = rangeOf(input, f);
  const ns = parseDuration(f.flagValue);
  if (ns === undefined) fail(codes.healthcheck, `invalid duration for --${name}: ${f.flagValue}`, range);
  if (ns !== 0 && ns < MINIMUM_NS) fail(codes.healthcheck, `interval "${name}" cannot be less than 1ms`, range);
  return ns;
}
