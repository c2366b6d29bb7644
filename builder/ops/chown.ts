import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { parseGroup, parseId, parsePasswd } from '../../runtime-native/index.js';
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
 * Resolves `--chown=user[:group]` as BuildKit does: a numeric user is its own
 * uid and gid; a user name takes its uid and primary gid from the image's
 * /etc/passwd; a group (name or id) replaces the gid, names from /etc/group.
 * Files are read inside `root`, never the host's. Unknown names fail, naming them.
 */
export function resolveChown(root: string, spec: string): Owner {
  if (spec.includes('\0')) throw new CopyError('TSB_COPY_CHOWN', `invalid --chown ${JSON.stringify(spec)}`);
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  let owner: Owner = { uid: 0, gid: 0 };
  if (userPart !== '') {
    const id = parseId(userPart);
    if (id !== undefined) owner = { uid: id, gid: id };
    else if (/^\d+$/.test(userPart)) {
      throw new CopyError('TSB_COPY_CHOWN', `invalid --chown user ${userPart}: out of range`);
    } else {
      const text = readImageFile(root, '/etc/passwd');
      if (text === undefined) {
        throw new CopyError('TSB_COPY_CHOWN', `unable to find user ${userPart}: no passwd file in the image`);
      }
      const entry = parsePasswd(text).find((p) => p.name === userPart);
      if (!entry) {
        throw new CopyError('TSB_COPY_CHOWN', `unable to find user ${userPart}: no matching entries in passwd file`);
      }
      owner = { uid: entry.uid, gid: entry.gid };
    }
  }
  if (groupPart !== undefined && groupPart !== '') {
    const id = parseId(groupPart);
    if (id !== undefined) owner.gid = id;
    else if (/^\d+$/.test(groupPart)) {
      throw new CopyError('TSB_COPY_CHOWN', `invalid --chown group ${groupPart}: out of range`);
    } else {
      const text = readImageFile(root, '/etc/group');
      if (text === undefined) {
        throw new CopyError('TSB_COPY_CHOWN', `unable to find group ${groupPart}: no group file in the image`);
      }
      const entry = parseGroup(text).find((g) => g.name === groupPart);
      if (!entry) {
        throw new CopyError('TSB_COPY_CHOWN', `unable to find group ${groupPart}: no matching entries in group file`);
      }
      owner.gid = entry.gid;
    }
  }
  return owner;
}
