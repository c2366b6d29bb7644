import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { BuildOptions, BuildOutput, BuildSecret } from '../../builder/types.js';
import { UsageError } from '../../errors.js';
import { parseReference } from '../../image/reference.js';
import { setErrorExitCode } from '../exit-code.js';
import type { GlobalOptions } from '../global-options.js';
import type { ProgressMode } from '../render/progress.js';

type BuildArgs = GlobalOptions & { _: (string | number)[] };

/** Docker's `--network` values for RUN steps. */
export const NETWORK_MODES = ['default', 'none', 'host'] as const;
const PROGRESS_CHOICES: readonly ProgressMode[] = ['auto', 'tty', 'plain', 'json', 'quiet'];

interface FlagSpec {
  name: string;
  short?: string;
  kind: 'string' | 'boolean' | 'list';
  /** The value's word in the help (`list`, `string`, `int`). */
  arg?: string;
  describe: string;
}

/** `tsbuild build`'s flags, in Docker's words; the help is printed from this table. */
export const BUILD_FLAGS: readonly FlagSpec[] = [
  {
    name: 'build-arg',
    kind: 'list',
    describe: 'Set build-time variables (KEY=value, or KEY to take it from the environment)',
  },
  {
    name: 'debug-cache',
    kind: 'boolean',
    describe: 'Show why each step missed the cache: the first input that differs',
  },
  {
    name: 'file',
    short: 'f',
    kind: 'string',
    describe: "Name of the Dockerfile (default: 'CONTEXT/Dockerfile'; - for stdin)",
  },
  { name: 'iidfile', kind: 'string', describe: 'Write the image ID to the file' },
  { name: 'jobs', kind: 'string', arg: 'int', describe: 'How many steps run at once (default: the number of cores)' },
  { name: 'label', kind: 'list', describe: 'Set metadata for an image (KEY=value)' },
  { name: 'network', kind: 'string', describe: 'Networking mode for the RUN instructions: default, none or host' },
  { name: 'no-cache', kind: 'boolean', describe: 'Do not use cache when building the image' },
  { name: 'no-cache-filter', kind: 'list', describe: 'Do not cache the steps of these stages (names or indexes)' },
  {
    name: 'output',
    short: 'o',
    kind: 'list',
    describe: 'Also export the image (type=docker|oci|tar|local,dest=PATH; PATH alone is local; - is a tar on stdout)',
  },
  { name: 'platform', kind: 'string', describe: 'Set the target platform (os/arch[/variant])' },
  {
    name: 'progress',
    kind: 'string',
    describe: 'Set type of progress output (auto, tty, plain, json, quiet). Use plain to show container output',
  },
  { name: 'quiet', short: 'q', kind: 'boolean', describe: 'Suppress the build output and print image ID on success' },
  {
    name: 'secret',
    kind: 'list',
    arg: 'stringArray',
    describe: 'Secret to expose to the build (id=mysecret[,src=/local/secret|env=VAR])',
  },
  { name: 'squash', kind: 'boolean', describe: 'Squash the layers the build makes into one' },
  { name: 'tag', short: 't', kind: 'list', describe: "Name and optionally a tag in the 'name:tag' format" },
  { name: 'target', kind: 'string', describe: 'Set the target build stage to build' },
  { name: 'root', kind: 'string', describe: 'Store root (default $TSBUILD_ROOT or /var/lib/tsbuild)' },
  { name: 'debug', kind: 'boolean', describe: 'Show causes and stacks of errors' },
];

/** What `tsbuild build`'s words ask for: the options for `build()` and what the CLI does around it. */
export interface BuildCommandLine {
  help: boolean;
  /** `build()`'s options, without the Dockerfile text and the signal (the handler adds them). */
  options: BuildOptions & { network?: (typeof NETWORK_MODES)[number] };
  /** `-f -`: the Dockerfile comes from stdin. */
  dockerfileFromStdin: boolean;
  progress: ProgressMode;
  quiet: boolean;
  iidfile?: string;
  debug: boolean;
}

/**
 * Reads `tsbuild build`'s words (after the word `build`) as Docker's CLI does:
 * flags and the CONTEXT in any order, `--flag value`, `--flag=value`, `-tNAME`,
 * `-qt NAME`, repeatable list flags, `--` to end the flags. Every fault is a
 * `UsageError` naming the flag. `env` is where `--build-arg KEY` and
 * `--secret id=KEY` look up values.
 */
export function parseBuildCommandLine(
  words: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): BuildCommandLine {
  const strings = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const booleans = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  const byName = new Map(BUILD_FLAGS.map((f) => [f.name, f]));
  const byShort = new Map(BUILD_FLAGS.filter((f) => f.short).map((f) => [f.short as string, f]));
  const set = (flag: FlagSpec, value: string) => {
    if (flag.kind === 'list') lists.set(flag.name, [...(lists.get(flag.name) ?? []), value]);
    else strings.set(flag.name, value);
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '--') {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (w === '--help' || w === '-h') {
      help = true;
      continue;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = w.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : w.slice(eq + 1);
      const flag = byName.get(name);
      if (!flag) throw new UsageError(`unknown flag: --${name}`, { flag: `--${name}` });
      if (flag.kind === 'boolean') {
        if (inline === undefined || inline === 'true') booleans.add(name);
        else if (inline === 'false') booleans.delete(name);
        else throw badValue(`--${name}`, inline, 'expected true or false');
        continue;
      }
      const value = inline ?? words[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: --${name}`, { flag: `--${name}` });
      set(flag, value);
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let j = 1; j < w.length; j++) {
        const c = w[j] as string;
        const flag = byShort.get(c);
        if (c === 'h') {
          help = true;
          continue;
        }
        if (!flag) throw new UsageError(`unknown shorthand flag: '${c}' in ${w}`, { flag: `-${c}` });
        if (flag.kind === 'boolean') {
          booleans.add(flag.name);
          continue;
        }
        let value: string | undefined = w.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        if (value === '') value = words[++i];
        if (value === undefined) throw new UsageError(`flag needs an argument: -${c}`, { flag: `-${c}` });
        set(flag, value);
        break;
      }
      continue;
    }
    positionals.push(w);
  }

  const progressWord = strings.get('progress') ?? 'auto';
  if (!PROGRESS_CHOICES.includes(progressWord as ProgressMode)) {
    throw badValue('--progress', progressWord, `choose ${PROGRESS_CHOICES.join(', ')}`);
  }
  const quiet = booleans.has('quiet') || progressWord === 'quiet';
  const result: BuildCommandLine = {
    help,
    options: { context: positionals[0] ?? '' },
    dockerfileFromStdin: strings.get('file') === '-',
    progress: quiet ? 'quiet' : (progressWord as ProgressMode),
    quiet,
    debug: booleans.has('debug'),
  };
  if (help) return result;
  if (positionals.length !== 1) {
    throw new UsageError(
      `"tsbuild build" requires exactly 1 argument (the build context directory), ${positionals.length} given: tsbuild build [OPTIONS] CONTEXT`,
    );
  }
  if (positionals[0] === '-') {
    throw new UsageError(
      'a build context from stdin (-) is not supported: give a directory (a Dockerfile on stdin is -f -)',
    );
  }
  const o = result.options;
  const file = strings.get('file');
  if (file !== undefined && file !== '-') o.dockerfile = file;
  const tags = lists.get('tag');
  // Checked before anything is built, as `docker build -t` does.
  for (const tag of tags ?? []) {
    try {
      const ref = parseReference(tag);
      if (ref.digest !== undefined) throw badValue('--tag', tag, 'a tag cannot name a digest');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw badValue('--tag', tag, (err as Error).message.replace(/^".*" is not a valid reference: /, ''));
    }
  }
  if (tags) o.tags = tags;
  const buildArgs = parseBuildArgFlags(lists.get('build-arg'), env);
  if (Object.keys(buildArgs).length > 0) o.buildArgs = buildArgs;
  const target = strings.get('target');
  if (target !== undefined) {
    if (target === '') throw badValue('--target', target, 'expected a stage name or index');
    o.target = target;
  }
  if (booleans.has('no-cache')) o.noCache = true;
  const filters = (lists.get('no-cache-filter') ?? []).flatMap((v) => v.split(',').map((s) => s.trim()));
  if (filters.some((f) => f === ''))
    throw badValue('--no-cache-filter', lists.get('no-cache-filter')?.join(',') ?? '', 'empty stage name');
  if (filters.length > 0) o.noCacheFilter = filters;
  const labels = parseLabelFlags(lists.get('label'));
  if (Object.keys(labels).length > 0) o.labels = labels;
  const platform = strings.get('platform');
  if (platform !== undefined) {
    if (platform.includes(',')) {
      throw badValue('--platform', platform, 'builds for several platforms at once are not supported');
    }
    if (!/^[a-z0-9_.-]+\/[a-z0-9_.-]+(\/[a-z0-9_.-]+)?$/i.test(platform)) {
      throw badValue('--platform', platform, 'expected os/arch[/variant]');
    }
    o.platform = platform;
  }
  const jobs = strings.get('jobs');
  if (jobs !== undefined) {
    const n = Number(jobs);
    if (!/^\d+$/.test(jobs) || !Number.isSafeInteger(n) || n < 1)
      throw badValue('--jobs', jobs, 'expected a positive integer');
    o.jobs = n;
  }
  const root = strings.get('root');
  if (root !== undefined) o.root = root;
  if (booleans.has('debug-cache')) o.debugCache = true;
  if (booleans.has('squash')) o.squash = true;
  const secrets = (lists.get('secret') ?? []).map((s) => parseSecretFlag(s, env));
  if (secrets.length > 0) o.secrets = secrets;
  const network = strings.get('network');
  if (network !== undefined) {
    if (!(NETWORK_MODES as readonly string[]).includes(network)) {
      throw badValue('--network', network, `choose ${NETWORK_MODES.join(', ')}`);
    }
    o.network = network as (typeof NETWORK_MODES)[number];
  }
  const outputs = (lists.get('output') ?? []).map(parseOutputFlag);
  if (outputs.filter((out) => out.dest === '-').length > 1) {
    throw badValue('--output', lists.get('output')?.join(' ') ?? '', 'only one output can go to stdout');
  }
  if (outputs.some((out) => out.dest === '-') && quiet) {
    throw new UsageError('-q prints the image ID on stdout, which --output - needs for the tar: use --iidfile', {
      flag: '--output',
    });
  }
  if (outputs.length > 0) o.outputs = outputs;
  const iidfile = strings.get('iidfile');
  if (iidfile !== undefined) {
    if (iidfile === '') throw badValue('--iidfile', iidfile, 'expected a file name');
    result.iidfile = iidfile;
  }
  return result;
}

/**
 * `--build-arg KEY=value` flags as a record. `KEY` alone takes the value of the
 * environment variable KEY and is left out when that is unset, as Docker's CLI does.
 */
export function parseBuildArgFlags(
  flags: readonly string[] | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of flags ?? []) {
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (key === '' || /\s/.test(key)) throw badValue('--build-arg', kv, 'expected KEY=value or KEY');
    if (eq >= 0) out[key] = kv.slice(eq + 1);
    else if (env[key] !== undefined) out[key] = env[key] as string;
  }
  return out;
}

/** `--label KEY=value` flags as a record (a later flag for the same key wins; a bare KEY is KEY="", as docker build). */
export function parseLabelFlags(flags: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of flags ?? []) {
    const eq = kv.indexOf('=');
    if (eq === 0 || kv === '') throw badValue('--label', kv, 'expected KEY=value or KEY');
    if (eq < 0) out[kv] = '';
    else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/**
 * One `--secret` flag, as buildx reads it: comma-separated `id=`, `src=`/`source=`,
 * `env=` and `type=file|env`. Without a source, the secret is the environment
 * variable named by the id when it is set, else the file named by the id (BuildKit's rule).
 */
export function parseSecretFlag(
  flag: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): BuildSecret {
  let id: string | undefined;
  let src: string | undefined;
  let envName: string | undefined;
  let type: 'file' | 'env' | undefined;
  for (const field of flag.split(',')) {
    const eq = field.indexOf('=');
    if (eq < 0) throw badValue('--secret', flag, `field "${field}" must be a key=value pair`);
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1);
    if (key === 'id') id = value;
    else if (key === 'src' || key === 'source') src = value;
    else if (key === 'env') envName = value;
    else if (key === 'type') {
      if (value !== 'file' && value !== 'env') throw badValue('--secret', flag, `unsupported secret type "${value}"`);
      type = value;
    } else throw badValue('--secret', flag, `unexpected key "${key}"`);
  }
  if (type === 'env' && envName === undefined) {
    envName = src ?? id;
    src = undefined;
  }
  if (id === undefined || id === '') {
    // buildx takes the id from the file's or variable's name when none is given.
    id = envName ?? (src === undefined ? undefined : (src.split('/').pop() ?? ''));
    if (!id) throw badValue('--secret', flag, 'an id= is required');
  }
  if (src !== undefined && envName !== undefined) throw badValue('--secret', flag, 'give src= or env=, not both');
  if (src === undefined && envName === undefined) {
    if (env[id] !== undefined) envName = id;
    else src = id;
  }
  return envName !== undefined ? { id, env: envName } : { id, src };
}

const OUTPUT_TYPES: readonly BuildOutput['type'][] = ['docker', 'oci', 'tar', 'local'];

/**
 * One `-o` flag, as buildx reads it: `type=TYPE,dest=PATH`; a bare `PATH` is
 * `type=local,dest=PATH` and a bare `-` is `type=tar,dest=-` (a tar on stdout).
 */
export function parseOutputFlag(flag: string): BuildOutput {
  if (flag === '-') return { type: 'tar', dest: '-' };
  if (!flag.includes('=')) return { type: 'local', dest: flag };
  let type: string | undefined;
  let dest: string | undefined;
  for (const field of flag.split(',')) {
    const eq = field.indexOf('=');
    if (eq < 0) throw badValue('--output', flag, `field "${field}" must be a key=value pair`);
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1);
    if (key === 'type') type = value;
    else if (key === 'dest') dest = value;
    else throw badValue('--output', flag, `unexpected key "${key}" (give type= and dest=)`);
  }
  if (type === undefined) throw badValue('--output', flag, 'type= is required');
  if (!(OUTPUT_TYPES as readonly string[]).includes(type)) {
    throw badValue('--output', flag, `unsupported type "${type}" (choose ${OUTPUT_TYPES.join(', ')})`);
  }
  if (dest === undefined || dest === '') throw badValue('--output', flag, 'dest= is required');
  if (type === 'local' && dest === '-') throw badValue('--output', flag, 'type=local needs a directory, not -');
  return { type: type as BuildOutput['type'], dest };
}

function badValue(flag: string, value: string, why: string): UsageError {
  return new UsageError(`invalid value for ${flag}: ${JSON.stringify(value)}: ${why}`, { flag });
}

/** `tsbuild build --help`: the flag table as Docker prints it. */
export function buildHelp(): string {
  const rows = BUILD_FLAGS.map((f) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.kind === 'boolean' ? '' : ` ${f.arg ?? (f.kind === 'list' ? 'list' : 'string')}`}`;
    return [left, f.describe] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  return [
    'Usage: tsbuild build [OPTIONS] CONTEXT',
    '',
    'Build an image from a Dockerfile (tsbuild -t NAME CONTEXT is the same)',
    '',
    'Options:',
    ...rows.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`),
    '',
    'CONTEXT is a directory; a context from stdin (-) is not supported.',
  ].join('\n');
}

/**
 * `tsbuild build [OPTIONS] CONTEXT` (and `tsbuild -t NAME CONTEXT`): builds the
 * Dockerfile into the store, drawing progress on stderr. Exits 1 when the build
 * fails (as `docker build`), 130 when interrupted.
 */
export const buildCommand: CommandModule<GlobalOptions, BuildArgs> = {
  command: 'build [context]',
  describe: 'Build an image from a Dockerfile',
  // The handler reads its own words (cli/main.ts hands them over raw): Docker's flags, usage errors naming them.
  builder: (y: Argv<GlobalOptions>) =>
    y.parserConfiguration({ 'unknown-options-as-args': true, 'boolean-negation': false }) as Argv<BuildArgs>,
  handler: async (args) => {
    const words = args._.map(String);
    if (words[0] === 'build') words.shift();
    let line: BuildCommandLine;
    try {
      line = parseBuildCommandLine(words);
    } catch (err) {
      // A bad flag exits 125 as docker build's flag errors do; a wrong argument count stays 1.
      if (err instanceof UsageError && err.flag !== undefined) setErrorExitCode(125);
      throw err;
    }
    if (line.help) {
      process.stdout.write(`${buildHelp()}\n`);
      return;
    }
    if (args.root !== undefined && line.options.root === undefined) line.options.root = args.root;
    await runBuild(line);
  },
};

/**
 * Runs the build the command line asks for: progress on stderr, `-q`'s image ID
 * on stdout, `--iidfile`, and Ctrl-C (SIGINT/SIGTERM) aborting the build through
 * its signal (a second one exits at once).
 */
export async function runBuild(line: BuildCommandLine): Promise<void> {
  const [{ createProgressRenderer }, { readDockerfile }] = await Promise.all([
    import('../render/progress.js'),
    import('../dockerfile-input.js'),
  ]);
  if (line.progress === 'tty' && process.stderr.isTTY !== true) {
    throw new UsageError('--progress=tty needs a terminal, but stderr is not one: use --progress=plain', {
      flag: '--progress',
    });
  }
  const options: BuildOptions = { ...line.options };
  if (options.outputs?.some((out) => out.dest === '-')) {
    if (process.stdout.isTTY) {
      throw new UsageError('--output - writes a tar to stdout, but stdout is a terminal: redirect it or give dest=', {
        flag: '--output',
      });
    }
    options.outputStream = process.stdout;
  }
  if (line.dockerfileFromStdin) {
    const { name, text } = readDockerfile('-');
    options.dockerfile = name;
    options.dockerfileText = text;
  }
  if (line.iidfile !== undefined) removeStale(line.iidfile);
  const renderer = await createProgressRenderer(line.progress, process.stderr);
  const abort = new AbortController();
  options.signal = abort.signal;
  let interrupted = 0;
  const onSignal = () => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    renderer.cancel();
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let ended = false;
  try {
    const { build } = await import('../../builder/index.js');
    let result: Awaited<ReturnType<typeof build>>;
    try {
      result = await build(options, (event) => {
        if (!ended) renderer.event(event);
      });
    } catch (error) {
      ended = true;
      const canceled = abort.signal.aborted;
      const reported = renderer.end({ ok: false, error, canceled });
      if (canceled) {
        process.exitCode = 130;
        return;
      }
      if (reported) {
        process.exitCode = 1;
        return;
      }
      throw error;
    }
    ended = true;
    renderer.end({ ok: true });
    if (line.iidfile !== undefined) writeAtomically(line.iidfile, result.imageId);
    if (line.quiet) process.stdout.write(`${result.imageId}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Docker removes an old `--iidfile` first, so that a failed build leaves no stale ID behind. */
function removeStale(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch (err) {
    throw new UsageError(`cannot remove the old --iidfile ${file}: ${(err as Error).message}`, {
      flag: '--iidfile',
      cause: err,
    });
  }
}

/** Writes `text` to `file` through a temporary file in the same directory and a rename. */
export function writeAtomically(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new UsageError(`cannot write --iidfile ${file}: ${(err as Error).message}`, {
      flag: '--iidfile',
      cause: err,
    });
  }
}
