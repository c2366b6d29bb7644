import { existsSync, readFileSync } from 'node:fs';
import { type AnyCommand, commands } from './commands/index.js';
import { getErrorExitCode } from './exit-code.js';
import type { GlobalOptions } from './global-options.js';
import { fastArgs } from './option-specs.js';
import { formatError } from './render/error.js';
import { dockerUsage } from './usage-errors.js';

declare const __TSBUILD_BUILD_ID__: string | undefined;

export async function main(argv: string[]): Promise<void> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  // `tsbuild help [COMMAND]` and `tsbuild version`, as docker has them.
  const first = commandWord(argv);
  if (first === 'help' || first === 'version') {
    const at = argv.indexOf(first);
    if (first === 'version') {
      process.stdout.write(`${version()}\n`);
      return;
    }
    argv = [...argv.slice(0, at), ...argv.slice(at + 1), '--help'];
  }
  // `tsbuild` alone prints its help, as `docker` does.
  if (commandWord(argv) === undefined) argv = [...argv, '--help'];
  const unknown = unknownCommand(argv);
  if (unknown !== undefined) {
    process.stderr.write(`error: '${unknown}' is not a tsbuild command, nor a build context\nSee 'tsbuild --help'.\n`);
    process.exitCode = 1;
    return;
  }
  argv = withDefaultCommand(argv);
  const debug = argv.includes('--debug');
  const word = commandWord(argv);
  const entry = commands.find((c) => c.name === word);
  const loaded = await entry?.load();
  try {
    // The common path: a plain command line is parsed without loading yargs.
    const fast = loaded?.raw
      ? rawArgs(argv)
      : loaded?.options
        ? fastArgs(argv, loaded.options, loaded.positionals)
        : undefined;
    if (loaded && fast) {
      await loaded.command.handler(fast as never);
      return;
    }
    await withYargs(argv, loaded?.command);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
      // The reader of stdout went away (`| head`): end quietly, as docker does when SIGPIPE ends it.
      process.exitCode = 141;
      return;
    }
    if (err instanceof CliUsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    } else {
      process.stderr.write(`${formatError(err, { debug, color: process.stderr.isTTY === true })}\n`);
    }
    process.exitCode = getErrorExitCode();
  }
}

/** The full yargs parser: help, usage errors, and any command line the fast path declines. */
async function withYargs(argv: string[], loaded: AnyCommand | undefined): Promise<void> {
  const { default: yargs } = await import('yargs');
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
      // yargs reports its own parse errors (a flag without its value) as a YError: a usage error too.
      if (err && err.name !== 'YError') throw err;
      const name = loaded ? commandWord(argv) : undefined;
      const words = argv.slice(argv.indexOf(name ?? '') + 1);
      const usage = dockerUsage(msg, name, loaded?.command as string | undefined, words);
      throw new CliUsageError(usage.message, usage.exitCode);
    });
  // Only the command being run is loaded; the others are listed by name for --help.
  for (const c of commands) {
    if (loaded && c.name === commandWord(argv)) cli.command(loaded as never);
    else cli.command(c.name, c.describe);
  }
  await cli.parseAsync();
}

/** For commands that read their own words: the global options before the command word, and every word from it on. */
function rawArgs(argv: string[]): Record<string, unknown> & GlobalOptions {
  const args: Record<string, unknown> & GlobalOptions = { $0: 'tsbuild' };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--root') args.root = argv[++i];
    else if (a.startsWith('--root=')) args.root = a.slice('--root='.length);
    else if (a === '--debug') args.debug = true;
    else break;
  }
  args._ = argv.slice(i);
  return args;
}

class CliUsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** `tsbuild version X, build ID` (Docker's `--version` line); dist/cli/ and dist/bin/ both sit two levels down. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const build = typeof __TSBUILD_BUILD_ID__ === 'string' ? __TSBUILD_BUILD_ID__ : 'unbundled';
  return `tsbuild version ${pkg.version}, build ${build}`;
}

/**
 * The first word after the global options (`--root DIR`, `--root=DIR`, `--debug`):
 * a command comes first, so in `tsbuild -t images .` the word is `-t`, not `images`.
 */
function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--root') i++;
    else if (a === '--debug' || a.startsWith('--root=')) continue;
    else return a;
  }
  return undefined;
}

/**
 * A first word that is neither a command, a flag, nor something a build could
 * take as its context (a path that exists, `-` for stdin, a URL): a mistyped
 * command, reported as Docker does rather than as a missing build context.
 */
function unknownCommand(argv: string[]): string | undefined {
  const first = commandWord(argv);
  if (first === undefined || first.startsWith('-') || commands.some((c) => c.name === first)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(first) || first.startsWith('git@') || existsSync(first)) return undefined;
  if (first.includes('/') || first.startsWith('.')) return undefined;
  return first;
}

/** `tsbuild -t name .` means `tsbuild build -t name .`: a first word that is no command starts a build. */
function withDefaultCommand(argv: string[]): string[] {
  const names = new Set(commands.map((c) => c.name));
  if (!names.has('build') || argv.length === 0) return argv;
  const first = commandWord(argv);
  const helpOnly = first === '-h' || first === '--help';
  if (helpOnly || (first !== undefined && names.has(first))) return argv;
  return ['build', ...argv];
}

/**
 * Exits once the command is done and its output is written. A normal exit would
 * tear down the environment, and better-sqlite3 then closes the store's database,
 * which checkpoints and deletes the WAL: two fsyncs on every command, and a new
 * WAL (one more fsync) for the next one. Leaving the WAL to the next process is as
 * safe as a kill -9, which the store survives by design.
 */
async function exitWhenFlushed(): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.writableLength > 0) await new Promise((resolve) => stream.once('drain', resolve));
  }
  process.exit();
}

main(process.argv.slice(2)).then(exitWhenFlushed);
