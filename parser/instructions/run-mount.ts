import type { RunMount, SourceRange } from '../ast.js';
import { codes, fail } from './context.js';
import { suggest } from './suggest.js';

const TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
type MountType = (typeof TYPES)[number];
const SHARING = ['shared', 'private', 'locked'] as const;
const KEYS = [
  'type',
  'from',
  'source',
  'target',
  'readonly',
  'id',
  'sharing',
  'required',
  'size',
  'mode',
  'uid',
  'gid',
  'src',
  'dst',
  'destination',
  'ro',
  'rw',
  'readwrite',
  'env',
];

/**
 * Parses one `RUN --mount=` option list (CSV of `key=value` and bare
 * `ro`/`rw`/`required`) into a typed mount, with BuildKit's rules and defaults:
 * type bind; bind and secret read-only and cache/tmpfs writable unless told;
 * cache sharing `shared`, mode 0755, uid/gid 0; a secret's id defaults to its
 * source or the base name of its target, and its target to
 * `/run/secrets/<id>` (unless it only sets `env`), mode 0400; ssh id
 * `default`, target `/run/buildkit/ssh_agent.<n>`, mode 0600.
 *
 * Values holding `$` are left as written (strings) or unset (numbers and
 * booleans), to be expanded later: re-parse `spec` after expansion for those.
 * `sshIndex` numbers the ssh mounts of one RUN. Throws `InstructionError`.
 */
export function parseRunMount(spec: string, range: SourceRange, sshIndex = 0): RunMount {
  const bad = (message: string): never => fail(codes.mount, message, range);
  const fields = splitCsv(spec, bad);
  let type: MountType = 'bind';
  let readonly = false;
  let roAuto = true;
  let required = false;
  const o: Partial<Record<'from' | 'source' | 'target' | 'id' | 'env' | 'sharing', string>> = {};
  const n: Partial<Record<'mode' | 'uid' | 'gid' | 'size', number>> = {};
  const given = new Set<string>();

  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') {
        readonly = true;
        roAuto = false;
      } else if (key === 'readwrite' || key === 'rw') {
        readonly = false;
        roAuto = false;
      } else if (key === 'required' && (type === 'secret' || type === 'ssh')) {
        required = true;
      } else if (key === 'required') {
        bad(`unexpected key 'required' for mount type '${type}'`);
      } else {
        bad(`invalid field '${field}' must be a key=value pair`);
      }
      continue;
    }
    const value = field.slice(eq + 1);
    const deferred = value.includes('$');
    switch (key) {
      case 'type': {
        const t = value.toLowerCase();
        if (!(TYPES as readonly string[]).includes(t)) {
          const hint = suggest(value, TYPES);
          bad(`unsupported mount type "${value}"${hint ? ` (did you mean ${hint}?)` : ''}`);
        }
        type = t as MountType;
        break;
      }
      case 'from': {
        const i = value.indexOf('$');
        if (i >= 0 && i !== value.length - 1) {
          bad(`'from' doesn't support variable expansion, define alias stage instead`);
        }
        o.from = value;
        break;
      }
      case 'source':
      case 'src':
        o.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        o.target = value;
        break;
      case 'readonly':
      case 'ro':
      case 'readwrite':
      case 'rw': {
        if (deferred) break;
        const b = parseBool(value) ?? bad(`invalid value for ${key}: ${value}`);
        readonly = key === 'readonly' || key === 'ro' ? b : !b;
        roAuto = false;
        break;
      }
      case 'required':
        if (type !== 'secret' && type !== 'ssh') bad(`unexpected key '${key}' for mount type '${type}'`);
        if (!deferred) required = parseBool(value) ?? bad(`invalid value for ${key}: ${value}`);
        break;
      case 'size':
        if (type !== 'tmpfs') bad(`unexpected key '${key}' for mount type '${type}'`);
        if (!deferred) n.size = ramInBytes(value) ?? bad(`invalid value for ${key}: ${value}`);
        break;
      case 'id':
        o.id = value;
        break;
      case 'env':
        o.env = value;
        break;
      case 'sharing':
        if (!deferred && !(SHARING as readonly string[]).includes(value.toLowerCase())) {
          bad(`unsupported sharing value "${value}"`);
        }
        o.sharing = value.toLowerCase();
        break;
      case 'mode':
        if (!deferred) n.mode = parseUint(value, 8) ?? bad(`invalid value ${value} for mode`);
        break;
      case 'uid':
      case 'gid':
        if (!deferred) n[key] = parseUint(value, 10) ?? bad(`invalid value ${value} for ${key}`);
        break;
      default: {
        const hint = suggest(key, KEYS);
        bad(`unexpected key '${key}' in '${field}'${hint ? ` (did you mean ${hint}?)` : ''}`);
      }
    }
    if (key === 'mode' || key === 'uid' || key === 'gid') given.add(key);
  }

  if (type !== 'secret' && type !== 'ssh' && type !== 'cache') {
    for (const k of ['mode', 'uid', 'gid']) if (given.has(k)) bad(`${k} not allowed for "${type}" type mounts`);
  }
  if (roAuto) readonly = type !== 'cache' && type !== 'tmpfs';
  if (type === 'secret') {
    if (o.from !== undefined) bad('secret mount should not have a from');
    if (o.sharing !== undefined) bad('secret mount should not define sharing');
    if (!o.source && !o.target && !o.id) bad('invalid secret mount: one of source, target required');
    if (o.source && o.id) bad("both source and id can't be set");
  }
  if (o.sharing !== undefined && type !== 'cache') bad(`invalid cache sharing set for ${type} mount`);

  const target = o.target ?? '';
  /** mode, uid and gid: the value, else BuildKit's default unless given as a `$` value still to be expanded. */
  const file = (mode: number) => {
    const out: { mode?: number; uid?: number; gid?: number } = {};
    const m = n.mode ?? (given.has('mode') ? undefined : mode);
    const u = n.uid ?? (given.has('uid') ? undefined : 0);
    const g = n.gid ?? (given.has('gid') ? undefined : 0);
    if (m !== undefined) out.mode = m;
    if (u !== undefined) out.uid = u;
    if (g !== undefined) out.gid = g;
    return out;
  };
  switch (type) {
    case 'bind':
      return withOptional({ type, target, readonly, range, spec }, { source: o.source, from: o.from });
    case 'cache':
      return withOptional(
        {
          type,
          target,
          sharing: (o.sharing ?? 'shared') as 'shared' | 'private' | 'locked',
          readonly,
          range,
          spec,
        },
        Object.assign({ id: o.id, from: o.from, source: o.source }, file(0o755)),
      );
    case 'tmpfs':
      return withOptional({ type, target, range, spec }, { size: n.size });
    case 'secret': {
      const id = o.source || o.id || basename(o.target ?? '');
      const secretTarget = o.target || (o.env === undefined ? `/run/secrets/${basename(id)}` : undefined);
      return withOptional(
        { type, id, required, range, spec },
        Object.assign({ target: secretTarget, env: o.env }, file(0o400)),
      );
    }
    case 'ssh':
      return withOptional(
        {
          type,
          id: o.id || 'default',
          target: o.target || `/run/buildkit/ssh_agent.${sshIndex}`,
          required,
          range,
          spec,
        },
        file(0o600),
      );
  }
}

function withOptional<T extends object, O extends Record<string, string | number | undefined>>(
  base: T,
  optional: O,
): T {
  for (const k in optional) {
    const v = optional[k];
    if (v !== undefined) (base as Record<string, unknown>)[k] = v;
  }
  return base;
}

function basename(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/** Go's `strconv.ParseBool`. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** An unsigned 32-bit integer in `base` (8 or 10), as `strconv.ParseUint(v, base, 32)`. */
function parseUint(v: string, base: 8 | 10): number | undefined {
  if (!(base === 8 ? /^[0-7]+$/ : /^[0-9]+$/).test(v)) return undefined;
  const n = Number.parseInt(v, base);
  return n <= 0xffffffff ? n : undefined;
}

const RAM_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Docker's `units.RAMInBytes`: `64m`, `1.5g`, `512kb`, `100` (binary multiples). */
function ramInBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(v);
  if (!m) return undefined;
  const size = Number.parseFloat(m[1]!);
  if (!Number.isFinite(size)) return undefined;
  return Math.trunc(size * RAM_UNITS[(m[2] ?? '').toLowerCase()]!);
}

/**
 * One CSV record as Go's `encoding/csv` reads it: fields separated by commas,
 * a field starting with `"` is quoted (`""` inside is a quote).
 */
function splitCsv(spec: string, bad: (message: string) => never): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (spec.charCodeAt(i) === 34) {
      let field = '';
      i++;
      for (;;) {
        const q = spec.indexOf('"', i);
        if (q < 0) bad(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        field += spec.slice(i, q);
        i = q + 1;
        if (spec.charCodeAt(i) === 34) {
          field += '"';
          i++;
          continue;
        }
        break;
      }
      if (i < spec.length && spec.charCodeAt(i) !== 44) {
        bad(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
      }
      fields.push(field);
    } else {
      const c = spec.indexOf(',', i);
      const field = spec.slice(i, c < 0 ? spec.length : c);
      if (field.includes('"')) bad(`failed to parse csv mounts: bare " in non-quoted-field`);
      fields.push(field);
      i = c < 0 ? spec.length : c;
    }
    if (i >= spec.length) return fields;
    i++;
  }
}
