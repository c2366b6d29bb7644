import { CopyError } from './errors.js';

/** A `--chmod` as a function of an object's `st_mode` (type bits included): its new permission, setuid, setgid and sticky bits. */
export type ModeChange = (mode: number) => number;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
/** The bits `u`, `g` and `o` name; setuid and setgid belong to `u` and `g`. */
const WHO_BITS: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o0007, a: 0o6777 };
/** What `=` clears when no class is named: everything but the sticky bit, as BSD's setmode. */
const STANDARD_BITS = 0o6777;
const ALL_BITS = 0o7777;

interface Action {
  op: '+' | '-' | '=';
  /** Permission letters (`rwxXst`), or one class to copy from (`u`, `g`, `o`). */
  perms: string;
  copyFrom?: 'u' | 'g' | 'o';
}

interface Clause {
  /** The classes named (0: none, which with a zero umask means all). */
  who: number;
  actions: Action[];
}

function invalid(spec: string): CopyError {
  return new CopyError('TSB_COPY_CHMOD', `invalid chmod parameter: '${spec}': not an octal or symbolic mode`);
}

function parseClause(text: string, spec: string): Clause {
  let i = 0;
  let who = 0;
  while (i < text.length && 'ugoa'.includes(text[i] as string)) who |= WHO_BITS[text[i++] as string] as number;
  const actions: Action[] = [];
  while (i < text.length) {
    const op = text[i++] as Action['op'];
    if (op !== '+' && op !== '-' && op !== '=') throw invalid(spec);
    const from = text[i];
    if (from === 'u' || from === 'g' || from === 'o') {
      actions.push({ op, perms: '', copyFrom: from });
      i++;
      continue;
    }
    let perms = '';
    while (i < text.length && 'rwxXst'.includes(text[i] as string)) perms += text[i++];
    actions.push({ op, perms });
  }
  if (actions.length === 0) throw invalid(spec);
  return { who, actions };
}

function applyAction(mode: number, original: number, isDir: boolean, who: number, a: Action): number {
  let perm = 0;
  if (a.copyFrom !== undefined) {
    const shift = a.copyFrom === 'u' ? 6 : a.copyFrom === 'g' ? 3 : 0;
    perm = ((mode >> shift) & 7) * 0o111;
  } else {
    // setuid, setgid and sticky only when a class other than `o` is named (or none is).
    const special = who === 0 || (who & ~0o7) !== 0;
    for (const ch of a.perms) {
      if (ch === 'r') perm |= 0o444;
      else if (ch === 'w') perm |= 0o222;
      else if (ch === 'x') perm |= 0o111;
      else if (ch === 'X') {
        if (isDir || (original & 0o111) !== 0) perm |= 0o111;
      } else if (ch === 's') {
        if (special) perm |= 0o6000;
      } else if (ch === 't' && special) perm |= 0o1000;
    }
  }
  const mask = who === 0 ? ALL_BITS : who | (perm & 0o1000);
  const bits = perm & mask;
  if (a.op === '+') return mode | bits;
  if (a.op === '-') return mode & ~bits;
  const clear = who === 0 ? STANDARD_BITS : mask;
  return (mode & ~clear) | bits;
}

/**
 * A symbolic `--chmod` (`+x`, `u=rwX,go=rX`, `g=u`, `a-w,o+t`) as BuildKit
 * applies it to each copied object (tonistiigi/dchapes-mode, BSD setmode(3)
 * with a zero umask): clauses separated by commas, each some of `ugoa` (none
 * means all) then one or more actions `+`, `-` or `=` with permission letters
 * `rwxXst` or one class to copy; `X` is execute for directories and for what
 * had an execute bit before the change (with `=` and `-` too, as current
 * BuildKit after moby/buildkit#5835). Applied in order to the object's mode.
 */
export function parseSymbolicMode(spec: string): ModeChange {
  if (spec === '') throw invalid(spec);
  const clauses = spec.split(',').map((c) => parseClause(c, spec));
  return (mode: number) => {
    const isDir = (mode & S_IFMT) === S_IFDIR;
    const original = mode & ALL_BITS;
    let m = original;
    for (const c of clauses) for (const a of c.actions) m = applyAction(m, original, isDir, c.who, a);
    return m;
  };
}

/** `--chmod` as a mode change: an octal mode replaces the bits, a symbolic one is applied to each object's mode. */
export function modeChange(chmod: number | string): ModeChange {
  if (typeof chmod === 'number') {
    const bits = chmod & ALL_BITS;
    return () => bits;
  }
  if (/^[0-7]+$/.test(chmod)) {
    const bits = Number.parseInt(chmod, 8);
    if (bits > ALL_BITS) throw invalid(chmod);
    return () => bits;
  }
  return parseSymbolicMode(chmod);
}
