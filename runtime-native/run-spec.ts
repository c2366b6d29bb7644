import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { CAPABILITIES, type CapabilityName, RLIMITS, type RlimitName } from './defaults.js';
import { invalidSpec } from './errors.js';
import type { IdMapping } from './id-map.js';

/** An overlay rootfs: `lowerdirs` top first (as overlayfs's lowerdir=), plus a writable upper layer. */
export interface OverlayRootfs {
  lowerdirs: string[];
  upperdir?: string;
  workdir?: string;
  /** More overlayfs options, `key=value` or a flag (`index=off`, `redirect_dir=off`). */
  options?: string[];
}

export type MountSpec =
  | { type: 'bind'; source: string; destination: string; readonly?: boolean }
  | { type: 'tmpfs'; destination: string; options?: string[]; readonly?: boolean };

export interface Rlimit {
  type: RlimitName;
  /** -1 (or Infinity) for unlimited. Never raised above the caller's hard limit: clamped. */
  soft: number;
  hard: number;
}

/** cgroup limits. Docker's meanings: `memorySwap` is memory plus swap (-1: unlimited swap). */
export interface Resources {
  memory?: number;
  memorySwap?: number;
  /** CPU time per period, in microseconds (`--cpus 0.5` is 50000 of 100000). */
  cpuQuota?: number;
  cpuPeriod?: number;
  pids?: number;
}

/** The identity of the process: resolved by the caller from the container's /etc/passwd and /etc/group. */
export interface RunUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
  /** HOME when the env does not set it (default `/`). */
  home?: string;
}

export interface RunSpec {
  /** A directory (bind-mounted), or an overlay of layer directories. */
  rootfs: string | OverlayRootfs;
  readonlyRootfs?: boolean;
  args: string[];
  /** `KEY=value` entries; the last of a key wins. PATH, HOSTNAME, HOME (and TERM with a tty) are defaulted. */
  env?: string[];
  /** Set HOSTNAME in the environment (default true, as docker run; BuildKit's RUN steps have none). */
  hostnameEnv?: boolean;
  /** Absolute; created when missing, as Docker does. Default `/`. */
  cwd?: string;
  user?: RunUser;
  /** At most 64 bytes. Default: 12 random hex digits. */
  hostname?: string;
  /** Namespaces beyond mount: pid, ipc and uts default on; user defaults on when not root; cgroup on pure cgroup v2. */
  namespaces?: { pid?: boolean; ipc?: boolean; uts?: boolean; user?: boolean; cgroup?: boolean };
  /** `none` (a private network namespace with lo up; the default) or `host`. */
  network?: 'none' | 'host';
  mounts?: MountSpec[];
  /**
   * Contents of /etc/hosts, /etc/hostname and /etc/resolv.conf; false (for all, or for
   * one) to leave the image's file. `readonly` binds them read-only (BuildKit's RUN;
   * default: as the rootfs, so `--read-only` makes them read-only as docker run does).
   */
  etcFiles?:
    | { hosts?: string | false; hostname?: string | false; resolvConf?: string | false; readonly?: boolean }
    | false;
  rlimits?: Rlimit[];
  resources?: Resources;
  /** Capabilities in the bounding set (and, for uid 0, permitted and effective). Default: Docker's 14. */
  capabilities?: CapabilityName[];
  noNewPrivileges?: boolean;
  /**
   * Deny mount, namespace, module, keyring, bpf, perf, io_uring and clock calls with
   * EPERM (clone3: ENOSYS), as Docker's default profile does. Default true; off when
   * the capabilities include CAP_SYS_ADMIN.
   */
  seccomp?: boolean;
  /** A pty for the process (`-t`), with its initial size. */
  tty?: boolean | { rows: number; cols: number };
  /** Run tsbuild-init as PID 1 to reap zombies and forward signals (`--init`). */
  init?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** uid/gid maps for a user namespace (default for rootless: see rootlessIdMapping). */
  idMap?: IdMapping;
  /** Seconds between SIGTERM and SIGKILL when the run is aborted. Default 10. */
  stopTimeout?: number;
}

const MAX_ID = 2 ** 32 - 2;

function hasNul(s: string): boolean {
  return s.includes('\0');
}

function checkPath(field: string, value: unknown, opts: { mustExist?: 'dir' | 'any' } = {}): string {
  if (typeof value !== 'string' || value === '') throw invalidSpec(field, 'must be a non-empty string');
  if (hasNul(value)) throw invalidSpec(field, 'contains a NUL byte');
  if (!isAbsolute(value)) throw invalidSpec(field, `${JSON.stringify(value)} is not an absolute path`);
  if (opts.mustExist) {
    if (!existsSync(value)) throw invalidSpec(field, `${value} does not exist`);
    if (opts.mustExist === 'dir' && !statSync(value).isDirectory())
      throw invalidSpec(field, `${value} is not a directory`);
  }
  return value;
}

function checkId(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ID) {
    throw invalidSpec(field, `must be an integer from 0 to ${MAX_ID}`);
  }
  return value;
}

function checkPositiveInt(field: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalidSpec(field, `must be an integer of at least ${min}`);
  }
  return value;
}

/** The env, validated: each entry `KEY=value` with a non-empty key and no NUL (runc's prepareEnv). */
export function validateEnv(env: unknown, field = 'env'): string[] {
  if (env === undefined) return [];
  if (!Array.isArray(env)) throw invalidSpec(field, 'must be an array of KEY=value strings');
  env.forEach((e, i) => {
    if (typeof e !== 'string') throw invalidSpec(`${field}[${i}]`, 'must be a string');
    if (hasNul(e)) throw invalidSpec(`${field}[${i}]`, 'contains a NUL byte');
    const eq = e.indexOf('=');
    if (eq < 0) throw invalidSpec(`${field}[${i}]`, `${JSON.stringify(e)} has no "="`);
    if (eq === 0) throw invalidSpec(`${field}[${i}]`, `${JSON.stringify(e)} has an empty name`);
  });
  return env as string[];
}

/** Merges env lists left to right: a later KEY replaces an earlier one in place. */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) {
    for (const e of list) {
      const eq = e.indexOf('=');
      map.set(e.slice(0, eq), e);
    }
  }
  return [...map.values()];
}

export function envHas(env: string[], key: string): boolean {
  return env.some((e) => e.startsWith(`${key}=`));
}

/** Checks every field of a RunSpec; throws RuntimeError TSB_RUNTIME_INVALID_SPEC naming the first bad one. */
export function validateRunSpec(spec: RunSpec): void {
  if (spec === null || typeof spec !== 'object') throw invalidSpec('spec', 'must be an object');
  const rootfs = spec.rootfs;
  if (typeof rootfs === 'string') {
    checkPath('rootfs', rootfs, { mustExist: 'dir' });
  } else if (rootfs && typeof rootfs === 'object') {
    if (!Array.isArray(rootfs.lowerdirs) || rootfs.lowerdirs.length === 0) {
      throw invalidSpec('rootfs.lowerdirs', 'must list at least one directory');
    }
    rootfs.lowerdirs.forEach((d, i) => {
      checkPath(`rootfs.lowerdirs[${i}]`, d, { mustExist: 'dir' });
    });
    if ((rootfs.upperdir === undefined) !== (rootfs.workdir === undefined)) {
      throw invalidSpec('rootfs', 'upperdir and workdir go together');
    }
    if (rootfs.upperdir !== undefined) checkPath('rootfs.upperdir', rootfs.upperdir, { mustExist: 'dir' });
    if (rootfs.workdir !== undefined) checkPath('rootfs.workdir', rootfs.workdir, { mustExist: 'dir' });
    (rootfs.options ?? []).forEach((o, i) => {
      if (typeof o !== 'string' || o === '' || hasNul(o) || o.includes(',')) {
        throw invalidSpec(`rootfs.options[${i}]`, 'must be one option without commas');
      }
      if (/^(lowerdir|upperdir|workdir)[=+]/.test(o)) {
        throw invalidSpec(`rootfs.options[${i}]`, 'layers go in lowerdirs, upperdir and workdir');
      }
    });
  } else {
    throw invalidSpec('rootfs', 'must be a directory or an overlay');
  }
  if (!Array.isArray(spec.args) || spec.args.length === 0) throw invalidSpec('args', 'must have at least one entry');
  spec.args.forEach((a, i) => {
    if (typeof a !== 'string') throw invalidSpec(`args[${i}]`, 'must be a string');
    if (hasNul(a)) throw invalidSpec(`args[${i}]`, 'contains a NUL byte');
  });
  if (spec.args[0] === '') throw invalidSpec('args[0]', 'the command is empty');
  validateEnv(spec.env);
  if (spec.cwd !== undefined) checkPath('cwd', spec.cwd);
  if (spec.user !== undefined) {
    checkId('user.uid', spec.user.uid);
    checkId('user.gid', spec.user.gid);
    (spec.user.additionalGids ?? []).forEach((g, i) => {
      checkId(`user.additionalGids[${i}]`, g);
    });
    if (spec.user.home !== undefined) checkPath('user.home', spec.user.home);
  }
  if (spec.hostname !== undefined) {
    if (typeof spec.hostname !== 'string') throw invalidSpec('hostname', 'must be a string');
    if (hasNul(spec.hostname)) throw invalidSpec('hostname', 'contains a NUL byte');
    if (Buffer.byteLength(spec.hostname) > 64) throw invalidSpec('hostname', 'is longer than 64 bytes');
  }
  if (spec.network !== undefined && spec.network !== 'none' && spec.network !== 'host') {
    throw invalidSpec('network', `must be none or host, not ${JSON.stringify(spec.network)}`);
  }
  (spec.mounts ?? []).forEach((m, i) => {
    const dest = checkPath(`mounts[${i}].destination`, m.destination);
    if (dest.replace(/\/+$/, '') === '') throw invalidSpec(`mounts[${i}].destination`, 'cannot be /');
    if (m.type === 'bind') {
      checkPath(`mounts[${i}].source`, m.source, { mustExist: 'any' });
    } else if (m.type === 'tmpfs') {
      (m.options ?? []).forEach((o, j) => {
        if (typeof o !== 'string' || hasNul(o) || o.includes(',')) {
          throw invalidSpec(`mounts[${i}].options[${j}]`, 'must be one option without commas');
        }
      });
    } else {
      throw invalidSpec(`mounts[${i}].type`, 'must be bind or tmpfs');
    }
  });
  (spec.rlimits ?? []).forEach((r, i) => {
    if (!(r.type in RLIMITS)) throw invalidSpec(`rlimits[${i}].type`, `unknown rlimit ${JSON.stringify(r.type)}`);
    const lim = (v: number) => (v === -1 || v === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : v);
    for (const k of ['soft', 'hard'] as const) {
      const v = r[k];
      if (
        typeof v !== 'number' ||
        !(v === -1 || v === Number.POSITIVE_INFINITY || (Number.isSafeInteger(v) && v >= 0))
      ) {
        throw invalidSpec(`rlimits[${i}].${k}`, 'must be a non-negative integer or -1 for unlimited');
      }
    }
    if (lim(r.soft) > lim(r.hard)) throw invalidSpec(`rlimits[${i}]`, 'soft limit is above the hard limit');
  });
  const res = spec.resources;
  if (res) {
    if (res.memory !== undefined) {
      checkPositiveInt('resources.memory', res.memory);
      if (res.memory < 6 * 1024 * 1024) throw invalidSpec('resources.memory', 'the minimum memory limit is 6MB');
    }
    if (res.memorySwap !== undefined && res.memorySwap !== -1) {
      checkPositiveInt('resources.memorySwap', res.memorySwap);
      if (res.memory === undefined || res.memorySwap < res.memory) {
        throw invalidSpec('resources.memorySwap', 'must be at least resources.memory (it counts memory plus swap)');
      }
    }
    if (res.cpuQuota !== undefined) checkPositiveInt('resources.cpuQuota', res.cpuQuota, 1000);
    if (res.cpuPeriod !== undefined) {
      checkPositiveInt('resources.cpuPeriod', res.cpuPeriod, 1000);
      if (res.cpuPeriod > 1_000_000) throw invalidSpec('resources.cpuPeriod', 'must be at most 1000000');
    }
    if (res.pids !== undefined) checkPositiveInt('resources.pids', res.pids);
  }
  (spec.capabilities ?? []).forEach((c, i) => {
    if (!(c in CAPABILITIES)) throw invalidSpec(`capabilities[${i}]`, `unknown capability ${JSON.stringify(c)}`);
  });
  if (typeof spec.tty === 'object' && spec.tty !== null) {
    for (const k of ['rows', 'cols'] as const) {
      const v = spec.tty[k];
      if (!Number.isInteger(v) || v < 1 || v > 65535)
        throw invalidSpec(`tty.${k}`, 'must be an integer from 1 to 65535');
    }
  }
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    (spec[key] ?? []).forEach((p, i) => {
      checkPath(`${key}[${i}]`, p);
    });
  }
  if (spec.stopTimeout !== undefined && !(typeof spec.stopTimeout === 'number' && spec.stopTimeout >= 0)) {
    throw invalidSpec('stopTimeout', 'must be a number of seconds');
  }
}
