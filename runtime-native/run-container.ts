import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { UsageError } from '../errors.js';
import type { ImageConfigLike } from './image-config.js';
import { type Container, NativeRuntime, type RunResult } from './native-runtime.js';
import { parseCpus, parseEnvEntry, parseEnvFile, parseMemoryBytes, parsePidsLimit, parseVolume } from './options.js';
import { readRootfsFile } from './rootfs-files.js';
import type { OverlayRootfs, Resources, RunSpec } from './run-spec.js';
import { resolveUser } from './user.js';

/** `tsbuild run`'s flags, as Docker names them. */
export interface RunFlags {
  /** Remove the container's writable layer when it exits (there is no container store yet: always done). */
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  volumes?: string[];
  network?: 'none' | 'host';
  entrypoint?: string;
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  pidsLimit?: number;
  hostname?: string;
  init?: boolean;
  readOnly?: boolean;
  /** The command after IMAGE (replaces the image's Cmd). */
  command?: string[];
}

/** The caller's terminal streams, for -i and -t. */
export interface RunIo {
  stdin?: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout?: Writable & { isTTY?: boolean; columns?: number; rows?: number };
}

export interface RunContainerOptions {
  /**
   * A directory holding the container's filesystem. It is never written: it is the
   * lower layer of an overlay whose upper layer is thrown away (mount points for
   * /etc/hosts and volumes included), also with --read-only.
   */
  rootfs?: string;
  /** With `rootfs`: let the container write to the directory itself (a snapshot made for it). */
  writable?: boolean;
  /** An overlay from the snapshotter (an image's layers and the container's writable layer). */
  overlay?: OverlayRootfs;
  /** The image config (`config` of the OCI image config); an empty image when absent. */
  config?: ImageConfigLike;
  flags: RunFlags;
  io?: RunIo;
  signal?: AbortSignal;
  runtime?: NativeRuntime;
  /** Where the temporary upper layer of a `rootfs` run goes (default: the OS temp dir). */
  scratchDir?: string;
  /** Host environment for `-e KEY` and env-file lines without a value. */
  hostEnv?: NodeJS.ProcessEnv;
  /** Called with the container once it is started (to forward signals to it). */
  onStart?: (container: Container) => void;
}

/**
 * The RunSpec for `tsbuild run`: Docker's rules for the command (entrypoint +
 * cmd), env (image, env files, -e), working dir, user (from the container's own
 * passwd and group), volumes and resources.
 */
export function buildRunSpec(options: RunContainerOptions & { rootfsSpec: RunSpec['rootfs'] }): RunSpec {
  const { flags } = options;
  const config = options.config ?? {};
  const hostEnv = options.hostEnv ?? process.env;
  const entrypoint =
    flags.entrypoint !== undefined ? (flags.entrypoint === '' ? [] : [flags.entrypoint]) : (config.Entrypoint ?? []);
  // A new entrypoint drops the image's Cmd (Docker), unless a command is given.
  const cmd =
    flags.command && flags.command.length > 0
      ? flags.command
      : flags.entrypoint !== undefined
        ? []
        : (config.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new UsageError('no command specified', { flag: 'COMMAND' });

  const env: string[] = [...(config.Env ?? [])];
  for (const file of flags.envFile ?? []) env.push(...parseEnvFile(readFileSync(file, 'utf8'), hostEnv, file));
  for (const e of flags.env ?? []) {
    const entry = parseEnvEntry(e, hostEnv);
    if (entry !== undefined) env.push(entry);
  }
  const cwd = flags.workdir ?? (config.WorkingDir || '/');
  if (!cwd.startsWith('/')) {
    throw new UsageError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`, { flag: '-w' });
  }
  const rootfs = options.rootfsSpec;
  const user = resolveUser(flags.user ?? config.User, {
    passwd: readRootfsFile(rootfs, '/etc/passwd'),
    group: readRootfsFile(rootfs, '/etc/group'),
  });
  const resources: Resources = {};
  if (flags.memory !== undefined) resources.memory = parseMemoryBytes(flags.memory);
  if (flags.memorySwap !== undefined) {
    resources.memorySwap = flags.memorySwap === '-1' ? -1 : parseMemoryBytes(flags.memorySwap, '--memory-swap');
  }
  if (flags.cpus !== undefined) Object.assign(resources, parseCpus(flags.cpus));
  if (flags.pidsLimit !== undefined) resources.pids = parsePidsLimit(flags.pidsLimit);
  const tty = flags.tty ? { rows: options.io?.stdout?.rows || 24, cols: options.io?.stdout?.columns || 80 } : undefined;
  return {
    rootfs,
    readonlyRootfs: flags.readOnly ?? false,
    args,
    env,
    cwd,
    user,
    hostname: flags.hostname,
    network: flags.network ?? 'none',
    mounts: (flags.volumes ?? []).map((v) => parseVolume(v)),
    resources,
    tty,
    init: flags.init ?? false,
  };
}

/**
 * Runs one container in the foreground, as `tsbuild run` does, and resolves with
 * its exit status. With `rootfs`, the directory is the lower layer of an overlay
 * whose upper layer is thrown away at exit (or bound read-only with --read-only).
 * With `overlay`, the caller owns the layers.
 */
export async function runContainer(options: RunContainerOptions): Promise<RunResult> {
  if ((options.rootfs === undefined) === (options.overlay === undefined)) {
    throw new UsageError('give exactly one of rootfs and overlay');
  }
  let scratch: string | undefined;
  let rootfsSpec: RunSpec['rootfs'];
  if (options.overlay) {
    rootfsSpec = options.overlay;
  } else if (options.writable) {
    rootfsSpec = options.rootfs!;
  } else {
    scratch = mkdtempSync(join(options.scratchDir ?? tmpdir(), 'tsbuild-run-'));
    rootfsSpec = { lowerdirs: [options.rootfs!], upperdir: join(scratch, 'upper'), workdir: join(scratch, 'work') };
  }
  try {
    if (scratch) {
      mkdirSync(join(scratch, 'upper'));
      mkdirSync(join(scratch, 'work'));
    }
    const spec = buildRunSpec({ ...options, rootfsSpec });
    const runtime = options.runtime ?? new NativeRuntime();
    const flags = options.flags;
    if (!spec.tty) {
      const stdio = { stdin: flags.interactive ? 'inherit' : 'ignore', stdout: 'inherit', stderr: 'inherit' } as const;
      const c = runtime.start(spec, stdio, options.signal);
      options.onStart?.(c);
      return await c.wait();
    }
    return await runWithTerminal(runtime, spec, options);
  } finally {
    if (scratch) {
      // overlayfs leaves work/work with mode 000: a caller that is not root (rootless) must open it first;
      // Node 20's rmSync did that itself, Node 24's does not.
      try {
        chmodSync(join(scratch, 'work', 'work'), 0o700);
      } catch {}
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}

async function runWithTerminal(
  runtime: NativeRuntime,
  spec: RunSpec,
  options: RunContainerOptions,
): Promise<RunResult> {
  const io = options.io ?? {};
  const stdin = options.flags.interactive ? io.stdin : undefined;
  const stdout = io.stdout;
  const c = runtime.start(spec, 'ignore', options.signal);
  options.onStart?.(c);
  const onResize = () => {
    if (stdout?.rows && stdout.columns) c.resize(stdout.rows, stdout.columns);
  };
  let raw = false;
  const pty = await c.terminal();
  let drained: Promise<void> = Promise.resolve();
  if (pty) {
    if (stdin?.isTTY && stdin.setRawMode) {
      stdin.setRawMode(true);
      raw = true;
    }
    // The end of input is not the end of the session on a terminal: keep the pty open for output.
    stdin?.pipe(pty, { end: false });
    if (stdout) {
      drained = new Promise<void>((res) => {
        pty.on('end', res);
        pty.on('close', res);
      });
      pty.pipe(stdout, { end: false });
      stdout.on('resize', onResize);
    }
  }
  try {
    const result = await c.wait();
    await drained;
    return result;
  } finally {
    stdout?.off('resize', onResize);
    if (stdin) {
      stdin.unpipe(pty);
      if (raw) stdin.setRawMode?.(false);
      stdin.pause();
    }
    pty?.destroy();
  }
}
