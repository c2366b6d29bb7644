import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isatty } from 'node:tty';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { setErrorExitCode } from '../exit-code.js';
import type { GlobalOptions } from '../global-options.js';

interface RunArgs extends GlobalOptions {
  image?: string;
  command?: string[];
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  'env-file'?: string[];
  workdir?: string;
  user?: string;
  volume?: string[];
  network?: string;
  entrypoint?: string;
  memory?: string;
  'memory-swap'?: string;
  cpus?: string;
  'pids-limit'?: number;
  hostname?: string;
  init?: boolean;
  'read-only'?: boolean;
}

/**
 * With TSBUILD_TRACE_RUN set, `run` writes `tsbuild-trace <phase> <ms>` lines to stderr: the time since the
 * process started at the end of each phase of a start (bench/runtime.sh turns them into a breakdown).
 */
const trace: ((phase: string) => void) | undefined = process.env.TSBUILD_TRACE_RUN
  ? (phase) => process.stderr.write(`tsbuild-trace ${phase} ${performance.now().toFixed(2)}\n`)
  : undefined;

/**
 * `tsbuild run [OPTIONS] IMAGE [COMMAND] [ARG...]`: runs a container in the
 * foreground and exits with its status (125 for tsbuild's own errors, as Docker).
 * IMAGE is an image of the store, or a directory holding a root filesystem.
 */
export const runCommand: CommandModule<GlobalOptions, RunArgs> = {
  // IMAGE and COMMAND are read from the rest of the line: options after IMAGE belong to the command.
  command: 'run [image] [command..]',
  describe: 'Run a command in a new container',
  // The options are read by parseRunArgs (Docker stops at IMAGE) and `run --help` prints RUN_HELP:
  // yargs lays out (and word-wraps) a command's help on every run, which would cost ~50 ms here.
  builder: (y: Argv<GlobalOptions>) =>
    y.parserConfiguration({
      'halt-at-non-option': true,
      'populate--': false,
      'unknown-options-as-args': true,
    }) as Argv<RunArgs>,
  handler: async (args) => {
    trace?.('cli');
    setErrorExitCode(125);
    // The CLI hands `run` its words unparsed (cli/main.ts rawArgs): `_` is "run" and every word after it.
    const raw = (args._ as (string | number)[]).map(String);
    if (raw[0] === 'run') raw.shift();
    if (raw[0] === '--help') {
      process.stdout.write(`${RUN_HELP}\n`);
      return;
    }
    const parsed = parseRunArgs(raw);
    Object.assign(args, parsed.options);
    if (parsed.image === undefined || parsed.image === '') {
      throw new UsageError(
        '"tsbuild run" requires at least 1 argument: tsbuild run [OPTIONS] IMAGE [COMMAND] [ARG...]',
      );
    }
    args.image = parsed.image;
    args.command = parsed.command;
    if (args.tty && args.interactive && !isatty(0)) {
      // Docker's check: a terminal session fed from a pipe would never see the end of its input.
      setErrorExitCode(1);
      throw new UsageError('the input device is not a TTY', { flag: '-it' });
    }
    for (const file of args['env-file'] ?? []) {
      // Docker's words for an env file that cannot be read, before any work starts.
      try {
        accessSync(file, constants.R_OK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code;
        throw new UsageError(`open ${file}: ${why}`, { flag: '--env-file', cause: err });
      }
    }
    // Loaded while the image is looked up (the store's modules load alongside).
    const runtime = import('../../runtime-native/index.js');
    runtime.catch(() => undefined); // awaited below; a failure is reported there, not as an unhandled rejection
    const flags = {
      rm: args.rm,
      interactive: args.interactive,
      tty: args.tty,
      env: args.env,
      envFile: args['env-file'],
      workdir: args.workdir,
      user: args.user,
      volumes: args.volume,
      network: args.network as 'none' | 'host' | undefined,
      entrypoint: args.entrypoint,
      memory: args.memory,
      memorySwap: args['memory-swap'],
      cpus: args.cpus,
      pidsLimit: args['pids-limit'],
      hostname: args.hostname,
      init: args.init,
      readOnly: args['read-only'],
      command: args.command?.map(String),
    };
    // Only a terminal session reads the caller's streams (process.stdin and stdout are made on first use, and
    // making them costs start-up time); otherwise the container gets fds 0-2 as they are.
    const io = args.tty ? { stdin: process.stdin, stdout: process.stdout } : {};
    const abort = new AbortController();
    // Docker's sig-proxy: signals to the CLI go to the container.
    const forward: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
    let container: { kill(s: NodeJS.Signals): boolean } | undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      if (!container?.kill(sig)) abort.abort();
    };
    for (const s of forward) process.on(s, onSignal);
    try {
      const result = await withImage(args, async (target) => {
        createVolumeSources(args.volume ?? []);
        return (await runtime).runContainer({
          ...target,
          flags,
          io,
          signal: abort.signal,
          onStart: (c) => {
            trace?.('spawn');
            container = c;
            if (trace)
              c.started().then(
                () => trace('started'),
                () => undefined,
              );
          },
        });
      });
      process.exitCode = result.exitCode;
    } finally {
      for (const s of forward) process.off(s, onSignal);
    }
  },
};

/**
 * A rootfs directory as it is, or the image's layers with a fresh writable snapshot
 * removed afterwards. The image is found through the light store surfaces
 * (image/core, snapshotter/core): the archive, tar and unpack code is loaded only
 * when a layer is not unpacked yet. A lease holds the image and the snapshots
 * (gc and `rmi` leave them alone) while the container runs, and the writable
 * snapshot carries this process's pid, so that a crash leaves nothing that the
 * next cleanup does not remove.
 */
async function withImage<T>(
  args: RunArgs,
  run: (target: {
    rootfs?: string;
    writable?: boolean;
    overlay?: import('../../runtime-native/index.js').OverlayRootfs;
    config?: object;
  }) => Promise<T>,
): Promise<T> {
  const image = args.image ?? '';
  const looksLikePath = image.startsWith('/') || image.startsWith('.');
  if (looksLikePath) {
    const st = statSync(image, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      return run({ rootfs: resolve(image) });
    }
    throw new UsageError(st ? `${image} is not a directory` : `no such rootfs directory: ${image}`);
  }
  const [{ openImageStoreQuick }, { openSnapshotter, OWNER_PID_LABEL }, { rootfsFromMounts }] = await Promise.all([
    import('../../image/core.js'),
    import('../../snapshotter/core.js'),
    import('../../runtime-native/index.js'),
  ]);
  trace?.('modules');
  const store = openImageStoreQuick(args.root);
  trace?.('store');
  const resolved = store.resolve(image).image;
  const key = `run-${process.pid.toString(36)}-${Date.now().toString(36)}-${Math.floor(Math.random() * 2 ** 32).toString(36)}`;
  const top = store.layers(resolved).at(-1)?.chainId;
  const lease = store.leases.acquire('run');
  try {
    store.db.transaction(() => {
      lease.add('image', resolved.digest);
      if (top !== undefined) lease.add('snapshot', top);
      lease.add('snapshot', key);
    })();
    const [{ config }, sn] = await Promise.all([store.config(resolved), openSnapshotter(store.root)]);
    let parent: string | undefined = top;
    if (top !== undefined && !(await isCommitted(sn, top))) {
      const { unpackImage } = await import('../../image/index.js');
      parent = await unpackImage(store, resolved, sn, { rootless: process.getuid?.() !== 0 });
    }
    trace?.('image');
    const mounts = await sn.prepare(key, parent, { labels: { [OWNER_PID_LABEL]: String(process.pid) } });
    trace?.('snapshot');
    try {
      const { rootfs } = rootfsFromMounts(mounts);
      const target = typeof rootfs === 'string' ? { rootfs, writable: true } : { overlay: rootfs };
      return await run({ ...target, config: config.config ?? {} });
    } finally {
      trace?.('exited');
      await sn.remove(key);
      trace?.('removed');
    }
  } finally {
    lease.release();
  }
}

/**
 * `-v /host/path:/ctr`: a host path that does not exist is made (a directory,
 * as root owns it), as `docker run -v` does; `--mount` would refuse, but tsbuild
 * has only -v.
 */
function createVolumeSources(volumes: readonly string[]): void {
  for (const v of volumes) {
    const parts = v.split(':');
    const [source = '', destination = ''] = parts;
    if (parts.length < 2 || parts.length > 3 || !isAbsolute(source) || !isAbsolute(destination)) continue;
    if (!existsSync(source)) mkdirSync(source, { recursive: true, mode: 0o755 });
  }
}

async function isCommitted(sn: { stat(name: string): Promise<{ kind: string }> }, name: string): Promise<boolean> {
  try {
    return (await sn.stat(name)).kind === 'committed';
  } catch (err) {
    if ((err as { code?: string }).code === 'TSB_SNAPSHOT_NOT_FOUND') return false;
    throw err;
  }
}

const RUN_HELP = `Usage: tsbuild run [OPTIONS] IMAGE [COMMAND] [ARG...]

Run a command in a new container

Options:
      --rm                 Remove the container when it exits
  -i, --interactive        Keep STDIN open
  -t, --tty                Allocate a pseudo-TTY
  -e, --env list           Set environment variables (KEY=value, or KEY to pass the caller's)
      --env-file list      Read in a file of environment variables
  -w, --workdir string     Working directory inside the container
  -u, --user string        Username or UID (format: <name|uid>[:<group|gid>])
  -v, --volume list        Bind mount a volume (/host:/container[:ro])
      --network string     Network mode: none (default) or host
      --entrypoint string  Overwrite the default ENTRYPOINT of the image
  -m, --memory bytes       Memory limit (e.g. 64m)
      --memory-swap bytes  Memory plus swap limit: '-1' for unlimited swap
      --cpus decimal       Number of CPUs
      --pids-limit int     Tune container pids limit (-1 for unlimited)
  -h, --hostname string    Container host name
      --init               Run an init inside the container that forwards signals and reaps processes
      --read-only          Mount the container's root filesystem as read only

IMAGE is an image of the store, or a directory holding a root filesystem.`;

const VALUE_OPTIONS: Record<string, keyof RunArgs> = {
  e: 'env',
  env: 'env',
  'env-file': 'env-file',
  w: 'workdir',
  workdir: 'workdir',
  u: 'user',
  user: 'user',
  v: 'volume',
  volume: 'volume',
  network: 'network',
  net: 'network',
  entrypoint: 'entrypoint',
  m: 'memory',
  memory: 'memory',
  'memory-swap': 'memory-swap',
  cpus: 'cpus',
  'pids-limit': 'pids-limit',
  h: 'hostname',
  hostname: 'hostname',
  root: 'root',
};
const BOOLEAN_OPTIONS: Record<string, keyof RunArgs> = {
  rm: 'rm',
  i: 'interactive',
  interactive: 'interactive',
  t: 'tty',
  tty: 'tty',
  init: 'init',
  'read-only': 'read-only',
  debug: 'debug',
};
const ARRAY_OPTIONS = new Set<keyof RunArgs>(['env', 'env-file', 'volume']);

/**
 * Docker's reading of `run`'s words: options up to IMAGE (`-it`, `-e K=V`,
 * `--env=K=V`, `-eK=V`), then IMAGE, then the command with its own options untouched.
 */
export function parseRunArgs(words: string[]): { options: Partial<RunArgs>; image?: string; command: string[] } {
  const options: Record<string, unknown> = {};
  const set = (key: keyof RunArgs, value: string | boolean, flag: string) => {
    if (key === 'network' && value !== 'none' && value !== 'host') {
      throw new UsageError(`invalid value for ${flag}: ${String(value)} (choose none or host)`);
    }
    if (key === 'pids-limit') {
      const n = Number(value);
      if (!Number.isInteger(n)) throw new UsageError(`invalid value for ${flag}: ${String(value)}`);
      options[key] = n;
      return;
    }
    if (ARRAY_OPTIONS.has(key)) options[key] = [...((options[key] as string[] | undefined) ?? []), value];
    else options[key] = value;
  };
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i] ?? '';
    if (w === '--') {
      i++;
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = w.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : w.slice(eq + 1);
      const valueKey = VALUE_OPTIONS[name];
      const boolKey = BOOLEAN_OPTIONS[name];
      if (valueKey && name.length > 1) {
        const value = inline ?? words[++i];
        if (value === undefined) throw new UsageError(`flag needs an argument: --${name}`);
        set(valueKey, value, `--${name}`);
      } else if (boolKey && name.length > 1) {
        if (inline !== undefined && inline !== 'true' && inline !== 'false') {
          throw new UsageError(`invalid value for --${name}: ${inline}`);
        }
        set(boolKey, inline !== 'false', `--${name}`);
      } else {
        throw new UsageError(`unknown flag: --${name}`);
      }
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let j = 1; j < w.length; j++) {
        const c = w[j] ?? '';
        const valueKey = VALUE_OPTIONS[c];
        const boolKey = BOOLEAN_OPTIONS[c];
        if (boolKey && c.length === 1) {
          set(boolKey, true, `-${c}`);
        } else if (valueKey && c.length === 1) {
          let value: string | undefined = w.slice(j + 1);
          if (value.startsWith('=')) value = value.slice(1);
          if (value === '') value = words[++i];
          if (value === undefined) throw new UsageError(`flag needs an argument: -${c}`);
          set(valueKey, value, `-${c}`);
          break;
        } else {
          throw new UsageError(`unknown shorthand flag: '${c}' in ${w}`);
        }
      }
      continue;
    }
    break;
  }
  const image = words[i];
  return { options: options as Partial<RunArgs>, image, command: words.slice(i + 1) };
}
