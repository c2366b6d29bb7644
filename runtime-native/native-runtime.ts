import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, statfsSync } from 'node:fs';
import { constants, hostname as osHostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ReadStream } from 'node:tty';
import { type CgroupInfo, type ContainerStats, readCgroupStats } from './cgroup-stats.js';
import {
  CAPABILITIES,
  containerResolvConf,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH,
  DEFAULT_READONLY_PATHS,
  defaultHosts,
  RLIMITS,
} from './defaults.js';
import { RuntimeError, setupError } from './errors.js';
import { type IdMapping, rootlessIdMapping } from './id-map.js';
import { removeMountStubs } from './mount-stubs.js';
import { loadNative } from './native-binding.js';
import { readRootfsFile } from './rootfs-files.js';
import { envHas, mergeEnv, type RunSpec, validateRunSpec } from './run-spec.js';
import { parsePasswd } from './user.js';

export type StdioValue = 'inherit' | 'pipe' | 'ignore' | number;
/** Where the container's stdin, stdout and stderr go. With a tty they are ignored: the pty carries all three. */
export type StdioOptions = StdioValue | { stdin?: StdioValue; stdout?: StdioValue; stderr?: StdioValue };

export interface RunResult {
  /** The process's exit status, or 128+n when it died of signal n. */
  exitCode: number;
  /** The signal that killed PID 1, if one did. */
  signal?: NodeJS.Signals;
  /** True when the kernel's OOM killer killed a process of the container. */
  oomKilled?: boolean;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

const signalNames = new Map<number, NodeJS.Signals>();
for (const [name, n] of Object.entries(constants.signals)) signalNames.set(n, name as NodeJS.Signals);

/** The JSON the helper reads (runtime-native/src/spec.cc). */
interface WireSpec {
  rootfs:
    | { type: 'bind'; path: string }
    | { type: 'overlay'; lowerdirs: string[]; upperdir?: string; workdir?: string; options?: string[] };
  readonlyRootfs: boolean;
  mountpoint: string;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  hostname: string;
  namespaces: string[];
  uidMap?: [number, number, number][];
  gidMap?: [number, number, number][];
  idMapTool?: { uid: string; gid: string };
  mounts: { type: string; source?: string; destination: string; readonly: boolean; options?: string[] }[];
  files: { path: string; content: string; readonly: boolean }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  capabilities: { bounding: number[]; effective: number[] };
  noNewPrivileges: boolean;
  seccomp: boolean;
  rlimits: { resource: number; soft: number; hard: number }[];
  cgroup: null | {
    name: string;
    memory?: number;
    memorySwap?: number;
    cpuQuota?: number;
    cpuPeriod?: number;
    pids?: number;
  };
  tty: null | { rows: number; cols: number };
  init: boolean;
  umask: number;
}

export interface NativeRuntimeOptions {
  /** Where the helper mounts each container's staging tmpfs (an empty directory; one serves every container). */
  mountpoint?: string;
}

/** Runs containers with the tsbuild-init helper (see DESIGN.md, "The native runtime"). */
export class NativeRuntime {
  private readonly mountpointOption?: string;
  private mountpoint?: string;

  constructor(options: NativeRuntimeOptions = {}) {
    this.mountpointOption = options.mountpoint;
  }

  /** Starts a container and resolves when it exits. Rejects with RuntimeError for a bad spec or a set-up failure. */
  async run(spec: RunSpec, stdio: StdioOptions = 'inherit', signal?: AbortSignal): Promise<RunResult> {
    const c = this.start(spec, stdio, signal);
    return c.wait();
  }

  /** Starts a container and returns its handle at once (validation errors throw synchronously). */
  start(spec: RunSpec, stdio: StdioOptions = 'inherit', signal?: AbortSignal): Container {
    validateRunSpec(spec);
    signal?.throwIfAborted();
    const id = randomBytes(6).toString('hex');
    const wire = this.toWire(spec, id);
    return new Container(id, wire, stdio, spec.stopTimeout ?? 10, signal);
  }

  private staging(): string {
    if (this.mountpoint) return this.mountpoint;
    const uid = process.getuid?.() ?? 0;
    const dir =
      this.mountpointOption ??
      (uid === 0
        ? '/run/tsbuild/mnt'
        : join(process.env.XDG_RUNTIME_DIR || join(tmpdir(), `tsbuild-${uid}`), 'tsbuild-mnt'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid) {
      const msg = `the staging directory ${dir} is not a directory owned by uid ${uid}`;
      throw new RuntimeError('TSB_RUNTIME_SETUP', msg, { step: 'rootfs' });
    }
    this.mountpoint = dir;
    return dir;
  }

  private toWire(spec: RunSpec, id: string): WireSpec {
    const rootless = (process.getuid?.() ?? 0) !== 0;
    const network = spec.network ?? 'none';
    // Docker: the host's name with the host's network, else the container's id.
    const hostname = spec.hostname ?? (network === 'host' ? osHostname() : id);
    const ns = spec.namespaces ?? {};
    const userns = ns.user ?? rootless;
    const namespaces = ['mount'];
    if (ns.pid ?? true) namespaces.push('pid');
    if (ns.ipc ?? true) namespaces.push('ipc');
    if (ns.uts ?? true) namespaces.push('uts');
    if (network === 'none') namespaces.push('net');
    if (ns.cgroup ?? isCgroup2()) namespaces.push('cgroup');
    if (userns) namespaces.push('user');
    const idMap: IdMapping | undefined = userns ? (spec.idMap ?? rootlessIdMapping()) : undefined;

    const uid = spec.user?.uid ?? 0;
    const gid = spec.user?.gid ?? 0;
    const ttySize = spec.tty ? (typeof spec.tty === 'object' ? spec.tty : { rows: 24, cols: 80 }) : null;
    const env = spec.env ?? [];
    const defaults = [`PATH=${DEFAULT_PATH}`];
    if (spec.hostnameEnv !== false) defaults.push(`HOSTNAME=${hostname}`);
    if (ttySize) defaults.push('TERM=xterm');
    let merged = mergeEnv(defaults, env);
    if (!envHas(merged, 'HOME')) merged = mergeEnv(merged, [`HOME=${spec.user?.home ?? homeFromRootfs(spec, uid)}`]);

    const files: WireSpec['files'] = [];
    if (spec.etcFiles !== false) {
      const etc = spec.etcFiles ?? {};
      const readonly = etc.readonly ?? spec.readonlyRootfs ?? false;
      const add = (path: string, content: string | false | undefined, fallback: () => string) => {
        if (content !== false) files.push({ path, content: content ?? fallback(), readonly });
      };
      add('/etc/hosts', etc.hosts, () => (network === 'host' ? hostFile('/etc/hosts') : defaultHosts()));
      add('/etc/hostname', etc.hostname, () => `${hostname}\n`);
      add('/etc/resolv.conf', etc.resolvConf, () => containerResolvConf(hostFile('/etc/resolv.conf'), network));
    }
    const caps = (spec.capabilities ?? DEFAULT_CAPABILITIES).map((c) => CAPABILITIES[c]);
    const res = spec.resources;
    const wantsCgroup = !rootless || (res !== undefined && Object.values(res).some((v) => v !== undefined));
    // overlayfs needs two layers without an upper one: one read-only layer is a read-only bind.
    const single = typeof spec.rootfs === 'object' && spec.rootfs.lowerdirs.length === 1 && !spec.rootfs.upperdir;
    const rootfs: WireSpec['rootfs'] =
      typeof spec.rootfs === 'string'
        ? { type: 'bind', path: spec.rootfs }
        : single
          ? { type: 'bind', path: spec.rootfs.lowerdirs[0]! }
          : {
              type: 'overlay',
              lowerdirs: spec.rootfs.lowerdirs,
              upperdir: spec.rootfs.upperdir,
              workdir: spec.rootfs.workdir,
              options: spec.rootfs.options,
            };
    return {
      rootfs,
      readonlyRootfs: (spec.readonlyRootfs ?? false) || single,
      mountpoint: this.staging(),
      args: spec.args,
      env: merged,
      cwd: spec.cwd ?? '/',
      uid,
      gid,
      additionalGids: spec.user?.additionalGids ?? (rootless && !idMap?.tools ? [] : [gid]),
      hostname,
      namespaces,
      uidMap: idMap?.uid.map((e) => [e.container, e.host, e.size]),
      gidMap: idMap?.gid.map((e) => [e.container, e.host, e.size]),
      idMapTool: idMap?.tools,
      mounts: sortMounts(spec.mounts ?? []).map((m) =>
        m.type === 'bind'
          ? { type: 'bind', source: m.source, destination: m.destination, readonly: m.readonly ?? false }
          : { type: 'tmpfs', destination: m.destination, readonly: m.readonly ?? false, options: m.options ?? [] },
      ),
      files,
      maskedPaths: spec.maskedPaths ?? [...DEFAULT_MASKED_PATHS],
      readonlyPaths: spec.readonlyPaths ?? [...DEFAULT_READONLY_PATHS],
      capabilities: { bounding: caps, effective: uid === 0 ? caps : [] },
      noNewPrivileges: spec.noNewPrivileges ?? false,
      seccomp: (spec.seccomp ?? true) && !caps.includes(CAPABILITIES.CAP_SYS_ADMIN),
      rlimits: (spec.rlimits ?? []).map((r) => ({
        resource: RLIMITS[r.type],
        soft: toLimit(r.soft),
        hard: toLimit(r.hard),
      })),
      cgroup: wantsCgroup
        ? {
            name: `tsbuild-${id}`,
            memory: res?.memory,
            // Docker's default swap is as much again as the memory limit.
            memorySwap: res?.memory !== undefined ? (res.memorySwap ?? res.memory * 2) : undefined,
            cpuQuota: res?.cpuQuota,
            cpuPeriod: res?.cpuQuota !== undefined ? (res.cpuPeriod ?? 100_000) : undefined,
            pids: res?.pids,
          }
        : null,
      tty: ttySize,
      init: spec.init ?? false,
      umask: 0o022,
    };
  }
}

function toLimit(v: number): number {
  return v === -1 || v === Number.POSITIVE_INFINITY ? -1 : v;
}

function isCgroup2(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

function hostFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function homeFromRootfs(spec: RunSpec, uid: number): string {
  const passwd = readRootfsFile(spec.rootfs, '/etc/passwd');
  const entry = passwd ? parsePasswd(passwd).find((p) => p.uid === uid) : undefined;
  return entry?.home || '/';
}

/** Parents before children, as Docker sorts mounts (by the number of path components). */
function sortMounts<T extends { destination: string }>(mounts: T[]): T[] {
  const depth = (p: string) => p.split('/').filter((c) => c !== '').length;
  return mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map((x) => x.m);
}

interface HelperMessage {
  type: 'started' | 'pty' | 'error' | 'exit' | 'helper-exit';
  pid?: number;
  cgroup?: CgroupInfo | null;
  step?: string;
  errno?: number;
  syscall?: string;
  message?: string;
  exitCode?: number;
  signal?: number;
  oomKilled?: boolean;
  code?: number;
  mountStubs?: string[];
}

/** A running container: its stdio, pty, signals, stats and exit. */
export class Container {
  readonly id: string;
  /** The host pid of the container's PID 1, once started. */
  pid?: number;
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  private readonly native = loadNative();
  private readonly runId: number;
  private cgroup: CgroupInfo | null = null;
  private result?: RunResult;
  private failure?: Error;
  private readonly done: Promise<RunResult>;
  private readonly startedPromise: Promise<number>;
  private readonly ptyPromise: Promise<ReadStream | undefined>;
  private resolvePty!: (pty: ReadStream | undefined) => void;
  private ptyStream?: ReadStream;
  private ptyFd = -1;
  private stopTimer?: NodeJS.Timeout;
  private aborted = false;

  constructor(id: string, wire: WireSpec, stdio: StdioOptions, stopTimeout: number, signal?: AbortSignal) {
    this.id = id;
    const opened: number[] = [];
    const fds = this.openStdio(stdio, wire.tty !== null, opened);
    let resolveDone!: (r: RunResult) => void;
    let rejectDone!: (e: Error) => void;
    this.done = new Promise<RunResult>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    let resolveStarted!: (pid: number) => void;
    let rejectStarted!: (e: Error) => void;
    this.startedPromise = new Promise<number>((res, rej) => {
      resolveStarted = res;
      rejectStarted = rej;
    });
    this.startedPromise.catch(() => {});
    this.ptyPromise = new Promise((res) => {
      this.resolvePty = res;
    });
    const onAbort = () => {
      this.aborted = true;
      this.kill('SIGTERM');
      this.stopTimer = setTimeout(() => this.kill('SIGKILL'), stopTimeout * 1000);
    };
    // Mount points the helper had to create are removed from the writable layer afterwards,
    // so that they never end up in a committed layer (as BuildKit does for RUN).
    let stubs: string[] = [];
    const stubTop =
      wire.rootfs.type === 'bind' ? (wire.readonlyRootfs ? undefined : wire.rootfs.path) : wire.rootfs.upperdir;
    const onMessage = (json: string, fd: number) => {
      let msg: HelperMessage;
      try {
        msg = JSON.parse(json) as HelperMessage;
      } catch {
        if (fd >= 0) closeSync(fd);
        return;
      }
      switch (msg.type) {
        case 'started':
          this.pid = msg.pid;
          this.cgroup = msg.cgroup ?? null;
          resolveStarted(msg.pid ?? 0);
          break;
        case 'pty':
          if (fd >= 0) this.attachPty(fd);
          break;
        case 'error':
          this.failure ??= setupError({
            step: msg.step ?? 'start',
            errno: msg.errno ?? 0,
            message: msg.message ?? '',
            syscall: msg.syscall,
          });
          stubs = msg.mountStubs ?? stubs;
          break;
        case 'exit':
          stubs = msg.mountStubs ?? stubs;
          this.result = {
            exitCode: msg.exitCode ?? 0,
            ...(msg.signal ? { signal: signalNames.get(msg.signal) } : {}),
            ...(msg.oomKilled ? { oomKilled: true } : {}),
          };
          break;
        case 'helper-exit': {
          if (this.stopTimer) clearTimeout(this.stopTimer);
          if (stubTop && stubs.length > 0) removeMountStubs(stubTop, stubs);
          signal?.removeEventListener('abort', onAbort);
          this.resolvePty(undefined);
          if (!this.result && !this.failure) {
            this.failure = new RuntimeError(
              'TSB_RUNTIME_HELPER',
              msg.signal
                ? `the runtime helper was killed by ${signalNames.get(msg.signal) ?? `signal ${msg.signal}`}`
                : `the runtime helper exited with code ${msg.code}`,
            );
          }
          const failure = this.failure ?? (this.aborted && signal ? abortError(signal) : undefined);
          if (failure) {
            rejectStarted(failure);
            rejectDone(failure);
          } else {
            resolveStarted(this.pid ?? 0);
            resolveDone(this.result!);
          }
          break;
        }
        default:
          if (fd >= 0) closeSync(fd);
      }
    };
    try {
      const started = this.native.addon.spawn(JSON.stringify(wire), fds, onMessage);
      this.runId = started.id;
    } catch (err) {
      for (const s of [this.stdin, this.stdout, this.stderr]) s?.destroy();
      throw err;
    } finally {
      for (const fd of opened) closeSync(fd);
    }
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  }

  /** Resolves with the host pid of PID 1 once the namespaces exist (rejects if set-up fails first). */
  started(): Promise<number> {
    return this.startedPromise;
  }

  /** The pty master as a duplex stream (with `tty: true`), or undefined once the container has exited without one. */
  terminal(): Promise<ReadStream | undefined> {
    return this.ptyPromise;
  }

  /** Resolves with the exit status; rejects with RuntimeError when set-up failed, or with the abort reason. */
  wait(): Promise<RunResult> {
    return this.done;
  }

  /** Sends a signal to PID 1 (through the helper). False once the container is gone. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const n = typeof signal === 'number' ? signal : constants.signals[signal];
    if (n === undefined) throw new RuntimeError('TSB_RUNTIME_SIGNAL', `unknown signal ${String(signal)}`);
    return this.native.addon.send(this.runId, JSON.stringify({ signal: n }));
  }

  /** The container's cgroup directories (null without a cgroup), once started. */
  get cgroupInfo(): CgroupInfo | null {
    return this.cgroup;
  }

  /** Sets the pty's window size (SIGWINCH reaches the container's foreground process group). */
  resize(rows: number, cols: number): void {
    if (this.ptyFd >= 0 && this.ptyStream && !this.ptyStream.destroyed) {
      this.native.addon.setWindowSize(this.ptyFd, rows, cols);
    }
  }

  /** Memory and CPU use from the container's cgroup, readable while it runs. */
  async stats(): Promise<ContainerStats> {
    await this.startedPromise;
    if (!this.cgroup) {
      throw new RuntimeError('TSB_RUNTIME_NO_CGROUP', 'this container has no cgroup (rootless without delegation)');
    }
    return readCgroupStats(this.cgroup);
  }

  private attachPty(fd: number): void {
    this.ptyFd = fd;
    // node:tty (and node:net under it) is loaded only for a terminal.
    const stream = new (process.getBuiltinModule('node:tty').ReadStream)(fd);
    // The master reads EIO once the last slave fd closes: that is the end of output.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EIO') stream.push(null);
    });
    this.ptyStream = stream;
    this.resolvePty(stream);
  }

  private openStdio(stdio: StdioOptions, tty: boolean, opened: number[]): [number, number, number] {
    const o = typeof stdio === 'object' ? stdio : { stdin: stdio, stdout: stdio, stderr: stdio };
    const values: StdioValue[] = tty
      ? ['ignore', 'ignore', 'ignore']
      : [o.stdin ?? 'inherit', o.stdout ?? 'inherit', o.stderr ?? 'inherit'];
    return values.map((v, i) => {
      if (typeof v === 'number') return v;
      if (v === 'inherit') return i;
      if (v === 'ignore') {
        // Read-write, as runc opens it: `echo >&0` works in docker run without -i.
        const fd = openSync('/dev/null', 'r+');
        opened.push(fd);
        return fd;
      }
      const [r, w] = this.native.addon.pipe();
      // node:net is loaded only for pipes (~4 ms of start-up that `tsbuild run` never needs).
      const { Socket } = process.getBuiltinModule('node:net');
      if (i === 0) {
        opened.push(r);
        this.stdin = new Socket({ fd: w, readable: false, writable: true });
        return r;
      }
      opened.push(w);
      const s = new Socket({ fd: r, readable: true, writable: false });
      if (i === 1) this.stdout = s;
      else this.stderr = s;
      return w;
    }) as [number, number, number];
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('the operation was aborted');
  e.name = 'AbortError';
  return e;
}
