/**
 * Docker's wording for command-line mistakes, from what yargs reports:
 * `unknown flag: --x` and `"tsbuild tag" requires exactly 2 arguments.`, each
 * followed by `See 'tsbuild tag --help'.`. Flag errors exit 125 (as cobra's
 * flag errors in the docker CLI), argument-count errors 1.
 */
export interface DockerUsage {
  message: string;
  exitCode: number;
}

/** `tag <source> <target>` → exactly 2; `rmi <images..>` → at least 1; `images [repository]` → at most 1. */
export function arity(command: string): { min: number; max: number } {
  const words = command.split(/\s+/).slice(1);
  let min = 0;
  let max = 0;
  for (const w of words) {
    const variadic = w.endsWith('..]') || w.endsWith('..>');
    if (w.startsWith('<')) min++;
    max = variadic || max === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : max + 1;
  }
  return { min, max };
}

function requires(name: string, { min, max }: { min: number; max: number }): string {
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (min === max) return `"tsbuild ${name}" requires exactly ${n(min)}.`;
  if (max === Number.POSITIVE_INFINITY) return `"tsbuild ${name}" requires at least ${n(min)}.`;
  if (min === 0) return `"tsbuild ${name}" requires at most ${n(max)}.`;
  return `"tsbuild ${name}" requires at least ${n(min)} and at most ${n(max)}.`;
}

/**
 * Rewrites a yargs failure message for command `name` (its yargs command string
 * `command`), given the words typed after the global options.
 */
export function dockerUsage(
  yargsMessage: string,
  name: string | undefined,
  command: string | undefined,
  argv: readonly string[],
): DockerUsage {
  const see = name ? `See 'tsbuild ${name} --help'.` : `See 'tsbuild --help'.`;
  const unknown = /^Unknown arguments?: (.*)$/.exec(yargsMessage);
  if (unknown && name) {
    const names = (unknown[1] as string).split(', ');
    const flag = argv.find((a) => names.some((n) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}`));
    if (flag) {
      const bare = flag.split('=')[0] as string;
      const text = bare.startsWith('--')
        ? `unknown flag: ${bare}`
        : `unknown shorthand flag: '${bare.slice(1)}' in ${bare}`;
      return { message: `${text}\n${see}`, exitCode: 125 };
    }
    if (command) return { message: `${requires(name, arity(command))}\n${see}`, exitCode: 1 };
  }
  if (/^Not enough non-option arguments/.test(yargsMessage) && name && command) {
    return { message: `${requires(name, arity(command))}\n${see}`, exitCode: 1 };
  }
  const invalid = /^Invalid values:\s*Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(yargsMessage);
  if (invalid) {
    return {
      message: `invalid argument ${invalid[2]} for "--${invalid[1]}" flag: choose one of ${invalid[3]}\n${see}`,
      exitCode: 125,
    };
  }
  const needsValue = /^Not enough arguments following: (\S+)$/.exec(yargsMessage);
  if (needsValue) {
    const n = needsValue[1] as string;
    return { message: `flag needs an argument: ${n.length === 1 ? `-${n}` : `--${n}`}\n${see}`, exitCode: 125 };
  }
  return { message: `${yargsMessage}\n${see}`, exitCode: 125 };
}
