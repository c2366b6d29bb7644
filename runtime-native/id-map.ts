import { accessSync, constants, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/** One line of a uid_map or gid_map: `size` ids from `container` map to `host`. */
export interface IdMapEntry {
  container: number;
  host: number;
  size: number;
}

export interface IdMapping {
  uid: IdMapEntry[];
  gid: IdMapEntry[];
  /** Paths of newuidmap/newgidmap when the maps need them (more than the caller's own id). */
  tools?: { uid: string; gid: string };
}

/** The ranges /etc/subuid (or /etc/subgid) gives a user, by name or by uid. */
export function parseSubordinateIds(
  text: string,
  user: { name: string; id: number },
): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 3) continue;
    if (f[0] !== user.name && f[0] !== String(user.id)) continue;
    const start = Number(f[1]);
    const count = Number(f[2]);
    if (Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count > 0) out.push({ start, count });
  }
  return out;
}

/**
 * The maps for a container started by an unprivileged user (rootless): container
 * root is the caller, and container ids 1.. come from the user's first
 * /etc/subuid and /etc/subgid ranges, written by newuidmap/newgidmap. Without
 * ranges (or without the tools) only the caller's own id is mapped.
 */
export function rootlessIdMapping(
  options: {
    uid?: number;
    gid?: number;
    name?: string;
    subuid?: string;
    subgid?: string;
    tools?: { uid: string; gid: string } | null;
  } = {},
): IdMapping {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const gid = options.gid ?? process.getgid?.() ?? 0;
  const name = options.name ?? safeUserName();
  const own: IdMapping = { uid: [{ container: 0, host: uid, size: 1 }], gid: [{ container: 0, host: gid, size: 1 }] };
  const tools = options.tools === undefined ? findTools() : options.tools;
  if (!tools) return own;
  const subuid = parseSubordinateIds(options.subuid ?? readOrEmpty('/etc/subuid'), { name, id: uid })[0];
  const subgid = parseSubordinateIds(options.subgid ?? readOrEmpty('/etc/subgid'), { name, id: uid })[0];
  if (!subuid || !subgid) return own;
  return {
    uid: [own.uid[0]!, { container: 1, host: subuid.start, size: subuid.count }],
    gid: [own.gid[0]!, { container: 1, host: subgid.start, size: subgid.count }],
    tools,
  };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function findTools(): { uid: string; gid: string } | null {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    try {
      accessSync(`${dir}/newuidmap`, constants.X_OK);
      accessSync(`${dir}/newgidmap`, constants.X_OK);
      return { uid: `${dir}/newuidmap`, gid: `${dir}/newgidmap` };
    } catch {
      // try the next directory
    }
  }
  return null;
}

/** Whether `id` is covered by a map. */
export function mapsId(map: IdMapEntry[], id: number): boolean {
  return map.some((e) => id >= e.container && id - e.container < e.size);
}
