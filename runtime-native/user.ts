import { RuntimeError } from './errors.js';

/** One line of /etc/passwd. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** One line of /etc/group. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The identity a container process runs as. */
export interface ExecUser {
  uid: number;
  gid: number;
  /** Supplementary groups, the primary gid included (as Docker passes them). */
  additionalGids: number[];
  /** HOME from passwd, or `/` when the user has no entry. */
  home: string;
}

const MAX_ID = 2 ** 32 - 2;

/** A decimal user or group ID (0 to 2^32-2), or undefined for anything else. */
export function parseId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

/** Parses /etc/passwd text; malformed lines are skipped (as libc does). */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '0');
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] ?? '', shell: f[6] ?? '' });
  }
  return out;
}

/** Parses /etc/group text; malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    const gid = parseId(f[2] ?? '');
    if (gid === undefined) continue;
    const members = (f[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    out.push({ name: f[0] ?? '', gid, members });
  }
  return out;
}

/**
 * Resolves Docker's `--user` / `USER` value (`name`, `uid`, `name:group`, `uid:gid`, …)
 * against the container's own /etc/passwd and /etc/group text, never the host's.
 * As Docker: a numeric uid without an entry runs with gid 0 and HOME=/; an explicit
 * group replaces the supplementary groups; otherwise the groups listing the user
 * as a member are added to the primary gid.
 */
export function resolveUser(user: string | undefined, files: { passwd?: string; group?: string }): ExecUser {
  const spec = user === undefined || user === '' ? '0' : user;
  if (spec.includes('\0')) throw new RuntimeError('TSB_RUNTIME_USER', 'user contains a NUL byte');
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  const passwd = parsePasswd(files.passwd ?? '');
  const numericUid = parseId(userPart);
  let entry: PasswdEntry | undefined;
  if (numericUid !== undefined) {
    entry = passwd.find((p) => p.uid === numericUid);
  } else {
    if (userPart === '') throw new RuntimeError('TSB_RUNTIME_USER', `invalid user ${JSON.stringify(spec)}`);
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) {
      throw new RuntimeError('TSB_RUNTIME_USER', `unable to find user ${userPart}: no matching entries in passwd file`);
    }
  }
  const uid = numericUid ?? entry?.uid ?? 0;
  const home = entry?.home || '/';
  const groups = parseGroup(files.group ?? '');
  if (groupPart !== undefined && groupPart !== '') {
    const numericGid = parseId(groupPart);
    let gid = numericGid;
    if (gid === undefined) {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) {
        throw new RuntimeError(
          'TSB_RUNTIME_USER',
          `unable to find group ${groupPart}: no matching entries in group file`,
        );
      }
      gid = g.gid;
    }
    return { uid, gid, additionalGids: [gid], home };
  }
  const gid = entry?.gid ?? 0;
  const extra = entry ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  const additionalGids = [...new Set([...extra, gid])].sort((a, b) => a - b);
  return { uid, gid, additionalGids, home };
}
