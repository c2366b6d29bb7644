import type { RunStep } from '../../parser/index.js';
import {
  NativeRuntime,
  type RunSpec,
  readRootfsFile,
  resolveUser,
  rootfsFromMounts,
} from '../../runtime-native/index.js';
import type { Mount } from '../../snapshotter/index.js';
import { BuildError } from '../errors.js';

/** BuildKit's hostname for RUN steps. */
export const BUILD_HOSTNAME = 'buildkitsandbox';

/** BuildKit's /etc/hosts for RUN steps (executor/oci hosts.go): the sandbox's name resolves to loopback. */
export const BUILD_HOSTS = `127.0.0.1\tlocalhost ${BUILD_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;

let runtime: NativeRuntime | undefined;

/** One sandbox runtime for every build of the process. */
export function sharedRuntime(): NativeRuntime {
  runtime ??= new NativeRuntime();
  return runtime;
}

/** How many lines of a failing command's output its error keeps. */
const TAIL_LINES = 20;

export type ExtraMount = NonNullable<RunSpec['mounts']>[number];

export interface ExecOptions {
  runtime: NativeRuntime;
  /** The step's rootfs: the snapshotter's mounts of its active snapshot. */
  rootfs: Mount[];
  /** RUN --mount and inline files, already resolved to host paths. */
  mounts: ExtraMount[];
  /** The build's `--network`, for steps without their own. */
  network?: 'default' | 'none' | 'host';
  /** Variables added to the step's env (secrets with `env=`). */
  env?: string[];
  onLog(stream: 'stdout' | 'stderr', line: string): void;
  signal?: AbortSignal;
}

/**
 * Runs one RUN step in the sandbox with BuildKit's process settings: the step's
 * argv, env (with the proxy variables), user resolved from the rootfs's
 * /etc/passwd and /etc/group, working directory, hostname `buildkitsandbox` (in a
 * read-only /etc/hosts, with a read-only resolv.conf and the image's own
 * /etc/hostname), and the host's network unless `--network=none`. Output is passed on line by line;
 * a non-zero exit throws `TSB_BUILD_RUN_FAILED` with BuildKit's message.
 */
export async function execRun(step: RunStep, o: ExecOptions): Promise<void> {
  const { rootfs } = rootfsFromMounts(o.rootfs);
  const user = resolveUser(step.user === '' ? undefined : step.user, {
    passwd: readRootfsFile(rootfs, '/etc/passwd'),
    group: readRootfsFile(rootfs, '/etc/group'),
  });
  const spec: RunSpec = {
    rootfs,
    args: step.args,
    env: [...step.env, ...step.proxyEnv, ...(o.env ?? [])],
    cwd: step.workdir,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids, home: user.home },
    hostname: BUILD_HOSTNAME,
    hostnameEnv: false,
    // BuildKit binds its own hosts file and resolv.conf read-only, and no /etc/hostname.
    etcFiles: { hosts: BUILD_HOSTS, hostname: false, readonly: true },
    network: (step.network === 'default' ? (o.network ?? 'default') : step.network) === 'none' ? 'none' : 'host',
    mounts: o.mounts,
    // A cancelled build kills the step at once, as BuildKit does.
    stopTimeout: 0,
  };
  const tail: string[] = [];
  const container = o.runtime.start(spec, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }, o.signal);
  const pump = (stream: 'stdout' | 'stderr', readable: NodeJS.ReadableStream | undefined): Promise<void> =>
    new Promise((resolve) => {
      if (!readable) return resolve();
      let partial = '';
      readable.setEncoding('utf8');
      const line = (l: string) => {
        tail.push(l);
        if (tail.length > TAIL_LINES) tail.shift();
        o.onLog(stream, l);
      };
      readable.on('data', (chunk: string) => {
        const text = partial + chunk;
        const lines = text.split('\n');
        partial = lines.pop() as string;
        for (const l of lines) line(l);
        // A line without an end is passed on in pieces rather than held without bound.
        if (partial.length > 64 * 1024) {
          line(partial);
          partial = '';
        }
      });
      readable.on('end', () => {
        if (partial !== '') line(partial);
        resolve();
      });
      readable.on('error', () => resolve());
      readable.on('close', () => resolve());
    });
  const pumps = Promise.all([pump('stdout', container.stdout), pump('stderr', container.stderr)]);
  const result = await container.wait();
  await pumps;
  if (o.signal?.aborted) throw new BuildError('TSB_BUILD_CANCELED', 'canceled', { cause: o.signal.reason });
  if (result.exitCode !== 0) {
    const what = result.signal ? `signal: ${result.signal}` : `exit code: ${result.exitCode}`;
    const err = new BuildError(
      'TSB_BUILD_RUN_FAILED',
      `process ${JSON.stringify(step.args.join(' '))} did not complete successfully: ${what}`,
      { ranges: [step.range] },
    );
    err.exitCode = result.exitCode;
    err.output = tail;
    throw err;
  }
}
