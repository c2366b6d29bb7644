#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';
import { getErrorExitCode } from './exit-code.js';
import type { GlobalOptions } from './global-options.js';
import { formatError } from './render/error.js';

export async function main(argv: string[]): Promise<void> {
  argv = withDefaultCommand(argv);
  let debug = argv.includes('--debug');
  const cli = yargs(argv)
    .scriptName('tsbuild')
    .usage('$0 <command> [options]\n\nBuild OCI images from Dockerfiles, and run them.')
    .option('root', {
      type: 'string',
      describe: 'Store root (default $TSBUILD_ROOT or /var/lib/tsbuild)',
      global: true,
    })
    .option('debug', { type: 'boolean', describe: 'Show causes and stacks of errors', global: true })
    .strict()
    .recommendCommands()
    .demandCommand(1, 'give a command, or a build context: tsbuild -t name .')
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new CliUsageError(`${msg}\nrun 'tsbuild --help' for usage`);
    });
  for (const c of commands) cli.command(c as never);
  try {
    const parsed = (await cli.parseAsync()) as GlobalOptions;
    debug = parsed.debug ?? debug;
  } catch (err) {
    if (err instanceof CliUsageError) {
      process.stderr.write(`error: ${err.message}\n`);
    } else {
      process.stderr.write(`${formatError(err, { debug, color: process.stderr.isTTY === true })}\n`);
    }
    process.exitCode = getErrorExitCode();
  }
}

class CliUsageError extends Error {}

/** `tsbuild -t name .` means `tsbuild build -t name .`: a first word that is no command starts a build. */
function withDefaultCommand(argv: string[]): string[] {
  const names = new Set<string>();
  for (const c of commands) {
    const all = [c.command ?? [], c.aliases ?? []].flat();
    for (const n of all) names.add(String(n).split(' ')[0] ?? '');
  }
  if (!names.has('build') || argv.length === 0) return argv;
  const first = argv.find((a) => !a.startsWith('-'));
  const helpOnly = argv.every((a) => ['-h', '--help', '--debug'].includes(a));
  if (helpOnly || (first !== undefined && names.has(first))) return argv;
  return ['build', ...argv];
}

main(hideBin(process.argv));
