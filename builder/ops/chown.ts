import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { parseGroup, parsePasswd } from '../../runtime-native/index.js';
import { CopyError } from './errors.js';
import { resolveInRoot } from './resolve-in-root.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** Reads a regular file of the image (symlinks resolved inside `root`); undefined when it is missing or not a file. */
export function readImageFile(root: string, path: string): string | undefined {
  const host = resolveInRoot(root, path);
  let fd: number;
  try {
    fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * A `--chown` part as BuildKit's `llb.WithUser` reads it: `root` is 0, a
 * decimal that Go's `strconv.ParseInt(s, 10, 32)` takes (a sign allowed) is an
 * id (negative ones wrap to 32 bits, so -1 leaves the owner as created), and
 * anything else is a name to look up.
 */
function idOf(part: string): number | undefined {
  if (part === 'root') return 0;
  if (!/^[+-]?\d+$/.test(part)) return undefined;
  const n = Number.parseInt(part, 10);
  if (n < -0x80000000 || n > 0x7fffffff) return undefined;
  return n < 0 ? n + 0x100000000 : n;
}

/**
 * Resolves `--chown=user[:group]` as BuildKit does: a numeric user is its own
 * uid and gid; a user name takes its uid and primary gid from the image's
 * /etc/passwd; a group (name or id) replaces the gid, names from /etc/group;
 * an empty user or group (`:g`, `u:`) is id 0. Files are read inside `root`,
 * never the host's. As in BuildKit (moby/buildkit#7002 describes it), a name
 * the image does not have, or an image without the file, is no error: an
 * unknown user is 0:0 and an unknown group leaves the gid as it was.
 */
export function resolveChown(root: string, spec: string): Owner {
  if (spec.includes('\0')) throw new CopyError('TSB_COPY_CHOWN', `invalid --chown ${JSON.stringify(spec)}`);
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  let owner: Owner = { uid: 0, gid: 0 };
  const uid = userPart === '' ? 0 : idOf(userPart);
  if (uid !== undefined) owner = { uid, gid: uid };
  else {
    const text = readImageFile(root, '/etc/passwd');
    const entry = text === undefined ? undefined : parsePasswd(text).find((p) => p.name === userPart);
    if (entry) owner = { uid: entry.uid, gid: entry.gid };
  }
  if (groupPart !== undefined) {
    const gid = groupPart === '' ? 0 : idOf(groupPart);
    if (gid !== undefined) owner.gid = gid;
    else {
      const text = readImageFile(root, '/etc/group');
      const entry = text === undefined ? undefined : parseGroup(text).find((g) => g.name === groupPart);
      if (entry) owner.gid = entry.gid;
    }
  }
  return owner;
}
