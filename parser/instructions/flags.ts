import type { InstructionKind } from '../ast.js';
import type { FlagSpan } from '../syntax/index.js';
import { codes, fail, type InstructionInput, rangeOf } from './context.js';
import { suggest } from './suggest.js';

/** How a flag takes its value: a boolean (`--link`, `--link=false`), one string, or a repeatable string. */
export type FlagType = 'bool' | 'string' | 'strings';

/** The flags each instruction accepts (BuildKit's stable Dockerfile syntax). */
export const INSTRUCTION_FLAGS: Record<InstructionKind, Readonly<Record<string, FlagType>>> = {
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string' },
  copy: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  add: {
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    'keep-git-dir': 'bool',
    checksum: 'string',
    exclude: 'strings',
    unpack: 'bool',
  },
  healthcheck: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
  cmd: {},
  label: {},
  maintainer: {},
  expose: {},
  env: {},
  entrypoint: {},
  volume: {},
  user: {},
  workdir: {},
  arg: {},
  onbuild: {},
  stopsignal: {},
  shell: {},
};

/** The checked flags of one instruction, by name (a few flags: looked up by a scan, no map). */
export class CheckedFlags {
  constructor(private readonly flags: FlagSpan[]) {}

  /** The flag as written, if given. */
  span(name: string): FlagSpan | undefined {
    const flags = this.flags;
    for (let i = 0; i < flags.length; i++) if (flags[i]!.name === name) return flags[i];
    return undefined;
  }

  string(name: string): string | undefined {
    return this.span(name)?.flagValue ?? undefined;
  }

  /** A boolean flag: true for `--name` or `--name=true` (any case), false for `--name=false`, undefined when absent. */
  bool(name: string): boolean | undefined {
    const f = this.span(name);
    if (!f) return undefined;
    return f.flagValue === null || f.flagValue.toLowerCase() === 'true';
  }

  /** Every occurrence of a repeatable flag. */
  all(name: string): FlagSpan[] {
    const out: FlagSpan[] = [];
    for (const f of this.flags) if (f.name === name) out.push(f);
    return out;
  }
}

const NO_FLAGS = new CheckedFlags([]);

/** True when a flag before `i` has the name of flag `i`. */
function seenBefore(flags: FlagSpan[], i: number): boolean {
  const name = flags[i]!.name;
  for (let j = 0; j < i; j++) if (flags[j]!.name === name) return true;
  return false;
}
const BOOLEAN = /^(true|false)$/i;

/**
 * Checks an instruction's flags against what it accepts, as BuildKit's
 * `BFlags.Parse` does: unknown flags, repeated single flags, missing values
 * and non-boolean values of boolean flags are errors.
 */
export function checkFlags(input: InstructionInput, kind: InstructionKind = input.kind): CheckedFlags {
  if (input.flags.length === 0) return NO_FLAGS;
  const spec = INSTRUCTION_FLAGS[kind];
  const flags = input.flags;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    const type = Object.hasOwn(spec, f.name) ? spec[f.name] : undefined;
    if (type === undefined) {
      const range = rangeOf(input, f);
      const hint = suggest(f.name, Object.keys(spec));
      fail(
        codes.unknownFlag,
        `unknown flag --${f.name} for ${kind.toUpperCase()} on line ${range.start.line}${hint ? ` (did you mean --${hint}?)` : ''}`,
        range,
      );
    }
    if (type !== 'strings' && seenBefore(flags, i)) {
      fail(codes.flag, `duplicate flag specified: --${f.name}`, rangeOf(input, f));
    }
    if (type === 'bool') {
      if (f.flagValue === '') fail(codes.flag, `missing a value on flag: --${f.name}`, rangeOf(input, f));
      if (f.flagValue !== null && !BOOLEAN.test(f.flagValue)) {
        fail(codes.flag, `expecting boolean value for flag --${f.name}, not: ${f.flagValue}`, rangeOf(input, f));
      }
    } else if (f.flagValue === null) {
      fail(codes.flag, `missing a value on flag: --${f.name}`, rangeOf(input, f));
    }
  }
  return new CheckedFlags(input.flags);
}
