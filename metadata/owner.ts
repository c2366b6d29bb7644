import { readFileSync } from 'node:fs';

/**
 * Who owns a temporary file or a lease: a pid and that process's start time
 * (field 22 of /proc/<pid>/stat), so that a reused pid is not mistaken for a
 * live owner.
 */
export interface Owner {
  pid: number;
  start: string;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

let self: Owner | undefined;

export function currentOwner(): Owner {
  self ??= { pid: process.pid, start: startTime(process.pid) ?? '0' };
  return self;
}

/** Whether the process that made `owner` still runs. */
export function isOwnerAlive(owner: Owner): boolean {
  if (owner.pid === process.pid) return owner.start === currentOwner().start;
  const start = startTime(owner.pid);
  return start !== undefined && start === owner.start;
}

/**
 * Whether a process with this pid exists on this host (EPERM means it exists
 * but is not ours). A pid alone can be reused: prefer `isOwnerAlive` where the
 * start time was recorded.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `<pid>.<start>`: the prefix of temporary names, parsed back by `parseOwnerToken`. */
export function ownerToken(owner: Owner = currentOwner()): string {
  return `${owner.pid}.${owner.start}`;
}

export function parseOwnerToken(token: string): Owner | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(token);
  return m ? { pid: Number(m[1]), start: m[2] as string } : undefined;
}
