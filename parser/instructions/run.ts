import type { RunInstruction, RunMount } from '../ast.js';
import type { FlagSpan } from '../syntax/index.js';
import { commandLineOf } from './command-line.js';
import { codes, fail, flagsOf, type InstructionInput, NONE, rangeOf } from './context.js';
import { checkFlags } from './flags.js';
import { parseRunMount } from './run-mount.js';

const NO_SPANS: readonly FlagSpan[] = [];
const NETWORKS = ['default', 'none', 'host'] as const;
const SECURITY = ['sandbox', 'insecure'] as const;

/** `RUN [--mount=…]… [--network=…] [--security=…] command`, with its heredocs. */
export function parseRun(input: InstructionInput): RunInstruction {
  const flags = checkFlags(input);
  let ssh = 0;
  let mounts: RunMount[] = NONE;
  for (const f of input.flags.length === 0 ? NO_SPANS : flags.all('mount')) {
    const mount = parseRunMount(f.flagValue ?? '', rangeOf(input, f), ssh);
    if (mount.type === 'ssh') ssh++;
    if (mounts === NONE) mounts = [mount];
    else mounts.push(mount);
  }
  const run: RunInstruction = {
    kind: 'run',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    command: commandLineOf(input),
    heredocs: input.heredocs,
    mounts,
  };
  const network = flags.string('network');
  if (network !== undefined) {
    if (!(NETWORKS as readonly string[]).includes(network)) {
      fail(codes.flag, `unsupported network mode "${network}"`, rangeOf(input, flags.span('network')!));
    }
    run.network = network as RunInstruction['network'];
  }
  const security = flags.string('security');
  if (security !== undefined) {
    if (!(SECURITY as readonly string[]).includes(security)) {
      fail(codes.flag, `unsupported security mode "${security}"`, rangeOf(input, flags.span('security')!));
    }
    run.security = security as RunInstruction['security'];
  }
  return run;
}
