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

/** The checked flags of one instruction, by name. */
export class CheckedFlags {
  private readonly byName = new Map<string, FlagSpan[]>();

  constructor(flags: FlagSpan[]) {
    for (const f of flags) {
      const list = this.byName.get(f.name);
      if (list) list.push(f);
      else this.byName.set(f.name, [f]);
    }
  }

  /** The flag as written, if given. */
  span(name: string): FlagSpan | undefined {
    return this.byName.get(name)?.[0];
  }

  string(name: string): string | undefined {
    return this.byName.get(name)?.[0]?.flagValue ?? undefined;
  }

  /** A boolean flag: true for `--name` or `--name=true` (any case), false for `--name=false`, undefined when absent. */
  bool(name: string): boolean | undefined {
    const f = this.byName.get(name)?.[0];
    if (!f) return undefined;
    return f.flagValue === null || f.flagValue.toLowerCase() === 'true';
  }

  /** Every occurrence of a repeatable flag. */
  all(name: string): FlagSpan[] {
    return this.byName.get(name) ?? [];
  }
}

const NO_FLAGS = new CheckedFlags([]);
const BOOLEAN = /^(true|false)$/i;

/**
 * Checks an instruction's flags against what it accepts, as BuildKit's
 * `BFlags.Parse` does: unknown flags, repeated single flags, missing values
 * and non-boolean values of boolean flags are errors.
 */
export function checkFlags(input: InstructionInput, kind: InstructionKind = input.kind): CheckedFlags {
  if (input.flags.length === 0) return NO_FLAGS;
  const spec = INSTRUCTION_FLAGS[kind];
  const seen = new Set<string>();
  for (const f of input.flags) {
    const type = spec[f.name];
    if (type === undefined) {
      const range = rangeOf(input, f);
      const hint = suggest(f.name, Object.keys(spec));
      fail(
        codes.unknownFlag,
        `unknown flag --${f.name} for ${kind.toUpperCase()} on line ${range.start.line}${hint ? ` (did you mean --${hint}?)` : ''}`,
        range,
      );
    }
    if (seen.has(f.name) && type !== 'strings') {
      fail(codes.flag, `duplicate flag specified: --${f.name}`, rangeOf(input, f));
    }
    seen.add(f.name);
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
