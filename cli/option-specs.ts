import { parseArgs } from 'node:util';

/**
 * A command's options, declared once: yargs builds its parser and help from
 * them (`y.options(specs)`), and `fastArgs` parses the same options with
 * node's built-in `parseArgs` when the command line is plain, so that the
 * common path does not pay for loading yargs (~90 ms here).
 */
export interface OptionSpec {
  type: 'string' | 'boolean' | 'number';
  describe: string;
  alias?: string;
  array?: boolean;
  default?: string | boolean | number;
  choices?: readonly string[];
}
export type OptionSpecs = Record<string, OptionSpec>;

const GLOBAL_OPTIONS: OptionSpecs = {
  root: { type: 'string', describe: '' },
  debug: { type: 'boolean', describe: '' },
};

/**
 * Parses `argv` (starting at the command word) against `specs`, as yargs would
 * for a plain command line. Returns undefined when yargs must take over: help
 * was asked for, an option is unknown, malformed or negated (`--no-x`), a value
 * is not among its choices, or the positionals don't fit.
 */
export function fastArgs(
  argv: string[],
  specs: OptionSpecs,
  positionals: string[] = [],
): Record<string, unknown> | undefined {
  const all = { ...GLOBAL_OPTIONS, ...specs };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(all)) {
    options[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.alias?.length === 1 ? { short: spec.alias } : {}),
      ...(spec.array ? { multiple: true } : {}),
    };
  }
  if (argv.some((a) => a === '--help' || a === '-h' || a.startsWith('--no-'))) return undefined;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch {
    return undefined;
  }
  const [command, ...rest] = parsed.positionals;
  const variadic = positionals.at(-1)?.endsWith('..') === true;
  if (!variadic && rest.length > positionals.length) return undefined;
  const args: Record<string, unknown> = { _: command === undefined ? [] : [command], $0: 'tsbuild' };
  positionals.forEach((p, i) => {
    if (p.endsWith('..')) args[p.slice(0, -2)] = rest.slice(i);
    else if (rest[i] !== undefined) args[p] = rest[i];
  });
  for (const [name, spec] of Object.entries(all)) {
    let value: unknown = parsed.values[name] ?? spec.default;
    if (value === undefined) continue;
    if (spec.type === 'number') {
      value = Array.isArray(value) ? value.map(Number) : Number(value);
      if ([value].flat().some((n) => Number.isNaN(n))) return undefined;
    }
    if (spec.choices && [value].flat().some((v) => !spec.choices?.includes(String(v)))) return undefined;
    args[name] = value;
    const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (camel !== name) args[camel] = value;
    if (spec.alias) args[spec.alias] = value;
  }
  return args;
}
