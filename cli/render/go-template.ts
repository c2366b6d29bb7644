import { UsageError } from '../../errors.js';

/**
 * The Go text/template subset that Docker's `--format` flags take: actions
 * `{{.Field.Sub}}`, `{{$}}`, pipelines `{{.X | lower}}`, `{{if}}`/`{{else}}`/
 * `{{range}}`/`{{with}}`/`{{end}}` (with `$v := …` and `$k, $v := range`),
 * trim markers `{{- -}}`, string/number/bool literals, parenthesised
 * sub-pipelines, and Docker's functions (json, join, split, lower, upper,
 * title, pad, truncate) plus Go's builtins (print, printf, println, index,
 * len, slice, eq, ne, lt, le, gt, ge, and, or, not).
 */

export interface TemplateOptions {
  /**
   * How a field that the data lacks is printed: 'error' as Go does for a struct
   * (`docker images`' rows), 'zero' as for a map (`docker inspect`'s JSON): `<no value>`.
   */
  missingField?: 'error' | 'zero';
  /**
   * The Go types behind the data's maps and nullable slices, by dotted path from
   * the root (`Config.Labels`: 'map'): a missing key of a 'map' is `<no value>`
   * even with missingField 'error', and a null prints as Go prints an empty
   * value of its type (`map[]`, `[]`).
   */
  types?: Record<string, 'map' | 'slice'>;
}

type Arg =
  | { kind: 'field'; base: 'dot' | string; path: string[]; pos: number }
  | { kind: 'literal'; value: unknown }
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'pipe'; pipe: Pipeline; path: string[]; pos: number };
interface Pipeline {
  decl: string[];
  cmds: Arg[][];
}
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pipe: Pipeline; body: Node[]; alt: Node[] };

/** A parsed template: `render(data)` runs it. */
export interface GoTemplate {
  render(data: unknown): string;
}

export function parseGoTemplate(source: string, options: TemplateOptions = {}): GoTemplate {
  const nodes = new Parser(source).parseAll();
  return {
    render: (data) => {
      const ex = new Executor(options, data);
      return ex.run(nodes, data, new Map([['$', data]]));
    },
  };
}

class TemplateError extends UsageError {
  constructor(message: string) {
    super(message, { flag: '--format' });
  }
}

const parseError = (source: string, pos: number, what: string) =>
  new TemplateError(`template parsing error: template: :${lineAt(source, pos)}: ${what}`);

function lineAt(source: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < source.length; i++) if (source[i] === '\n') line++;
  return line;
}

// ---------------------------------------------------------------- parsing

interface Token {
  t: 'field' | 'var' | 'string' | 'number' | 'ident' | '|' | '(' | ')' | ':=' | '=' | ',';
  v: string;
  pos: number;
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parseAll(): Node[] {
    const { nodes, end } = this.parseList();
    if (end !== undefined) throw parseError(this.src, end.pos, `unexpected {{${end.word}}}`);
    return nodes;
  }

  /** Nodes up to `{{end}}` or `{{else…}}` (returned as `end`), or the end of the source. */
  private parseList(): { nodes: Node[]; end?: { word: string; rest: Token[]; pos: number } } {
    const nodes: Node[] = [];
    while (this.pos < this.src.length) {
      const open = this.src.indexOf('{{', this.pos);
      let text = this.src.slice(this.pos, open < 0 ? undefined : open);
      if (open < 0) {
        if (text) nodes.push({ kind: 'text', text });
        this.pos = this.src.length;
        break;
      }
      let inner = open + 2;
      if (this.src.startsWith('- ', inner) || this.src.startsWith('-\t', inner) || this.src.startsWith('-\n', inner)) {
        text = text.replace(/\s+$/, '');
        inner += 1;
      }
      if (text) nodes.push({ kind: 'text', text });
      const close = this.findClose(inner);
      if (close < 0) throw parseError(this.src, open, 'unclosed action');
      let body = this.src.slice(inner, close);
      let after = close + 2;
      if (/\s-$/.test(body)) {
        body = body.slice(0, -1);
        while (after < this.src.length && /\s/.test(this.src[after] ?? '')) after++;
      }
      this.pos = after;
      const trimmed = body.trim();
      if (trimmed.startsWith('/*')) continue; // a comment
      const tokens = tokenize(body, inner, this.src);
      const head = tokens[0];
      if (!head) throw parseError(this.src, open, 'missing value for command');
      if (head.t === 'ident' && (head.v === 'end' || head.v === 'else')) {
        return { nodes, end: { word: head.v, rest: tokens.slice(1), pos: open } };
      }
      if (head.t === 'ident' && (head.v === 'if' || head.v === 'with' || head.v === 'range')) {
        nodes.push(this.parseBlock(head.v, tokens.slice(1), open));
        continue;
      }
      nodes.push({ kind: 'action', pipe: parsePipeline(tokens, this.src) });
    }
    return { nodes };
  }

  private parseBlock(kind: 'if' | 'with' | 'range', tokens: Token[], pos: number): Node {
    if (tokens.length === 0) throw parseError(this.src, pos, `missing value for ${kind}`);
    const pipe = parsePipeline(tokens, this.src);
    const { nodes: body, end } = this.parseList();
    if (!end) throw parseError(this.src, pos, `unexpected EOF`);
    let alt: Node[] = [];
    if (end.word === 'else') {
      const first = end.rest[0];
      if (first?.t === 'ident' && (first.v === 'if' || first.v === 'with') && kind !== 'range') {
        // `{{else if …}}` is an `{{if}}` inside the else branch that shares this block's `{{end}}`.
        alt = [this.parseBlock(first.v as 'if' | 'with', end.rest.slice(1), end.pos)];
      } else {
        const rest = this.parseList();
        if (rest.end?.word !== 'end') throw parseError(this.src, end.pos, `expected end; found EOF`);
        alt = rest.nodes;
      }
    }
    return { kind, pipe, body, alt };
  }

  /** The `}}` that closes an action opened before `from`, skipping quoted strings. */
  private findClose(from: number): number {
    let i = from;
    while (i < this.src.length) {
      const c = this.src[i];
      if (c === '"' || c === '`' || c === "'") {
        const end = this.src.indexOf(c, i + 1);
        if (end < 0) return -1;
        if (c === '"') {
          let j = i + 1;
          while (j < this.src.length && this.src[j] !== '"') j += this.src[j] === '\\' ? 2 : 1;
          i = j + 1;
        } else i = end + 1;
        continue;
      }
      if (this.src.startsWith('}}', i)) return i;
      i++;
    }
    return -1;
  }
}

function tokenize(body: string, offset: number, src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i] ?? '';
    const pos = offset + i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '|' || c === '(' || c === ')' || c === ',') {
      tokens.push({ t: c, v: c, pos });
      i++;
    } else if (body.startsWith(':=', i)) {
      tokens.push({ t: ':=', v: ':=', pos });
      i += 2;
    } else if (c === '=') {
      tokens.push({ t: '=', v: '=', pos });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < body.length && body[j] !== '"') {
        if (body[j] === '\\') {
          const e = body[j + 1] ?? '';
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          j += 2;
        } else s += body[j++];
      }
      if (j >= body.length) throw parseError(src, pos, 'unterminated quoted string');
      tokens.push({ t: 'string', v: s, pos });
      i = j + 1;
    } else if (c === '`') {
      const j = body.indexOf('`', i + 1);
      if (j < 0) throw parseError(src, pos, 'unterminated raw quoted string');
      tokens.push({ t: 'string', v: body.slice(i + 1, j), pos });
      i = j + 1;
    } else if (c === '.' || c === '$') {
      const m = /^[.$][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/.exec(body.slice(i));
      const word = m?.[0] ?? c;
      tokens.push({ t: c === '.' ? 'field' : 'var', v: word, pos });
      i += word.length;
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)/.exec(body.slice(i));
      if (!m) throw parseError(src, pos, `bad number syntax: ${JSON.stringify(c)}`);
      tokens.push({ t: 'number', v: m[0], pos });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i)) as RegExpExecArray;
      tokens.push({ t: 'ident', v: m[0], pos });
      i += m[0].length;
    } else {
      throw parseError(src, pos, `unexpected ${JSON.stringify(c)} in command`);
    }
  }
  return tokens;
}

function parsePipeline(tokens: Token[], src: string): Pipeline {
  let i = 0;
  const decl: string[] = [];
  // `$x :=` or `$k, $v :=`
  const declEnd = tokens.findIndex((t) => t.t === ':=' || t.t === '=');
  if (declEnd > 0 && tokens.slice(0, declEnd).every((t) => t.t === 'var' || t.t === ',')) {
    for (const t of tokens.slice(0, declEnd)) if (t.t === 'var') decl.push(t.v);
    i = declEnd + 1;
  }
  const cmds: Arg[][] = [];
  let cmd: Arg[] = [];
  const read = (): Arg => {
    const t = tokens[i++] as Token;
    switch (t.t) {
      case 'field':
        return { kind: 'field', base: 'dot', path: t.v === '.' ? [] : t.v.slice(1).split('.'), pos: t.pos };
      case 'var': {
        const [name, ...path] = t.v.split('.');
        return { kind: 'field', base: name as string, path, pos: t.pos };
      }
      case 'string':
        return { kind: 'literal', value: t.v };
      case 'number':
        return { kind: 'literal', value: Number(t.v) };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { kind: 'literal', value: t.v === 'true' };
        if (t.v === 'nil') return { kind: 'literal', value: null };
        return { kind: 'ident', name: t.v, pos: t.pos };
      case '(': {
        let depth = 1;
        const start = i;
        while (i < tokens.length && depth > 0) {
          const k = tokens[i++] as Token;
          if (k.t === '(') depth++;
          else if (k.t === ')') depth--;
        }
        if (depth > 0) throw parseError(src, t.pos, 'unclosed left paren');
        const pipe = parsePipeline(tokens.slice(start, i - 1), src);
        // `(…).Field`
        const next = tokens[i];
        let path: string[] = [];
        if (next?.t === 'field' && next.pos === (tokens[i - 1] as Token).pos + 1) {
          path = next.v.slice(1).split('.');
          i++;
        }
        return { kind: 'pipe', pipe, path, pos: t.pos };
      }
      default:
        throw parseError(src, t.pos, `unexpected ${JSON.stringify(t.v)} in operand`);
    }
  };
  while (i < tokens.length) {
    if ((tokens[i] as Token).t === '|') {
      if (cmd.length === 0) throw parseError(src, (tokens[i] as Token).pos, 'missing command');
      cmds.push(cmd);
      cmd = [];
      i++;
      continue;
    }
    cmd.push(read());
  }
  if (cmd.length === 0) throw parseError(src, tokens[0]?.pos ?? 0, 'missing value for command');
  cmds.push(cmd);
  return { decl, cmds };
}

// ---------------------------------------------------------------- execution

const NO_VALUE = Symbol('no value');

/** A null whose Go type is known: printed as Go prints an empty map or slice, and `null` in JSON. */
class TypedNil {
  constructor(readonly type: 'map' | 'slice') {}
}

class Executor {
  constructor(
    private readonly options: TemplateOptions,
    private readonly root: unknown,
  ) {}

  run(nodes: Node[], dot: unknown, vars: Map<string, unknown>): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'action') {
        const v = this.pipeline(n.pipe, dot, vars);
        if (n.pipe.decl.length === 0) out += printValue(v);
      } else if (n.kind === 'if' || n.kind === 'with') {
        const scope = new Map(vars);
        const v = this.pipeline(n.pipe, dot, scope);
        if (truth(v)) out += this.run(n.body, n.kind === 'with' ? v : dot, scope);
        else out += this.run(n.alt, dot, scope);
      } else {
        const scope = new Map(vars);
        const v = this.pipeline({ decl: [], cmds: n.pipe.cmds }, dot, scope);
        const entries: [unknown, unknown][] = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : isMap(v)
            ? Object.keys(v)
                .sort()
                .map((k) => [k, v[k]])
            : v instanceof TypedNil
              ? []
              : typeof v === 'number'
                ? Array.from({ length: Math.max(0, v) }, (_, i) => [i, i])
                : v === null || v === undefined || v === NO_VALUE
                  ? []
                  : this.fail(`range can't iterate over ${printValue(v)}`);
        if (entries.length === 0) {
          out += this.run(n.alt, dot, scope);
          continue;
        }
        for (const [k, x] of entries) {
          const [a, b] = n.pipe.decl;
          if (b !== undefined) {
            scope.set(a as string, k);
            scope.set(b, x);
          } else if (a !== undefined) scope.set(a, x);
          out += this.run(n.body, x, scope);
        }
      }
    }
    return out;
  }

  private fail(message: string): never {
    throw new TemplateError(`template parsing error: template: ${message}`);
  }

  private pipeline(pipe: Pipeline, dot: unknown, vars: Map<string, unknown>): unknown {
    let value: unknown = NO_VALUE;
    let piped = false;
    for (const cmd of pipe.cmds) {
      value = this.command(cmd, dot, vars, piped ? [value] : []);
      piped = true;
    }
    const [a, b] = pipe.decl;
    if (a !== undefined) vars.set(b ?? a, value);
    return value;
  }

  private command(cmd: Arg[], dot: unknown, vars: Map<string, unknown>, piped: unknown[]): unknown {
    const [head, ...rest] = cmd as [Arg, ...Arg[]];
    if (head.kind === 'ident') {
      const fn = FUNCTIONS[head.name];
      if (!fn) this.fail(`function ${JSON.stringify(head.name)} not defined`);
      const args = [...rest.map((a) => this.arg(a, dot, vars)), ...piped];
      try {
        return fn(...args);
      } catch (err) {
        if (err instanceof TemplateError) throw err;
        this.fail(`executing "" at <${head.name}>: error calling ${head.name}: ${(err as Error).message}`);
      }
    }
    if (rest.length > 0 || piped.length > 0) {
      this.fail(`can't give argument to non-function ${describeArg(head)}`);
    }
    return this.arg(head, dot, vars);
  }

  private arg(a: Arg, dot: unknown, vars: Map<string, unknown>): unknown {
    switch (a.kind) {
      case 'literal':
        return a.value;
      case 'ident': {
        const fn = FUNCTIONS[a.name];
        if (!fn) this.fail(`function ${JSON.stringify(a.name)} not defined`);
        return fn();
      }
      case 'pipe':
        return this.walk(this.pipeline(a.pipe, dot, new Map(vars)), a.path, a, false);
      case 'field': {
        let base: unknown = dot;
        if (a.base !== 'dot') {
          if (a.base === '$') base = vars.get('$') ?? this.root;
          else if (vars.has(a.base)) base = vars.get(a.base);
          else this.fail(`undefined variable: ${a.base}`);
        }
        return this.walk(base, a.path, a, base === this.root);
      }
    }
  }

  private walk(base: unknown, path: string[], a: Arg, fromRoot: boolean): unknown {
    let v = base;
    const types = fromRoot ? this.options.types : undefined;
    for (const [i, key] of path.entries()) {
      if (isMap(v)) {
        const parentType = types?.[path.slice(0, i).join('.')];
        if (Object.hasOwn(v, key)) v = v[key];
        else if (this.options.missingField === 'error' && parentType !== 'map') {
          this.fail(`executing "" at <${describeArg(a)}>: can't evaluate field ${key}`);
        } else return NO_VALUE;
      } else if (v === null || v === undefined || v === NO_VALUE) {
        if (this.options.missingField === 'error' && types?.[path.slice(0, i).join('.')] !== 'map')
          this.fail(`executing "" at <${describeArg(a)}>: nil pointer evaluating .${key}`);
        return NO_VALUE;
      } else {
        this.fail(`executing "" at <${describeArg(a)}>: can't evaluate field ${key} in type ${goType(v)}`);
      }
    }
    if (v === null && types) {
      const type = types[path.join('.')];
      if (type !== undefined) return new TypedNil(type);
    }
    return v;
  }
}

function describeArg(a: Arg): string {
  if (a.kind === 'field') return `${a.base === 'dot' ? '' : a.base}.${a.path.join('.')}`;
  if (a.kind === 'ident') return a.name;
  if (a.kind === 'literal') return printValue(a.value);
  return '(...)';
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof TypedNil);
}

function goType(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'interface {}';
}

function truth(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (v instanceof TypedNil) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's `%v` of a value decoded from JSON (maps with sorted keys, slices in brackets). */
export function printValue(v: unknown): string {
  if (v === NO_VALUE || v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (v instanceof TypedNil) return v.type === 'map' ? 'map[]' : '[]';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => (x === null ? '<nil>' : printValue(x))).join(' ')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${v[k] === null ? '<nil>' : printValue(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

function str(v: unknown): string {
  return printValue(v);
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error('incompatible types for comparison');
}

function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([svdqtfx%])/g, (_m, flags: string, width: string, prec, verb) => {
    if (verb === '%') return '%';
    const a = args[n++];
    let s: string;
    if (verb === 'q') s = JSON.stringify(str(a));
    else if (verb === 'd') s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${goType(a)}=${str(a)})`;
    else if (verb === 'f') s = typeof a === 'number' ? a.toFixed(prec === undefined ? 6 : Number(prec)) : str(a);
    else if (verb === 'x') s = typeof a === 'number' ? a.toString(16) : Buffer.from(str(a)).toString('hex');
    else s = str(a);
    if (verb === 's' && prec !== undefined) s = s.slice(0, Number(prec));
    if (width) s = flags.includes('-') ? s.padEnd(Number(width)) : s.padStart(Number(width));
    return s;
  });
}

type Fn = (...args: unknown[]) => unknown;

const FUNCTIONS: Record<string, Fn> = {
  // Docker's (cli/templates)
  json: (v) => JSON.stringify(v === NO_VALUE || v === undefined || v instanceof TypedNil ? null : v),
  split: (s, sep) => str(s).split(str(sep)),
  join: (a, sep) => (Array.isArray(a) ? a.map(str).join(str(sep)) : str(a)),
  title: (s) => str(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase()),
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  pad: (s, left, right) => `${' '.repeat(Number(left))}${str(s)}${' '.repeat(Number(right))}`,
  truncate: (s, n) => {
    const chars = [...str(s)];
    return chars.length > Number(n) ? chars.slice(0, Number(n)).join('') : str(s);
  },
  // Go's builtins
  print: (...a) =>
    a.map((x, i) => (i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + str(x)).join(''),
  println: (...a) => `${a.map(str).join(' ')}\n`,
  printf: (f, ...a) => sprintf(str(f), a),
  len: (v) => {
    if (v instanceof TypedNil) return 0;
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isMap(v)) return Object.keys(v).length;
    throw new Error(`len of ${goType(v)}`);
  },
  index: (v, ...keys) => {
    let cur: unknown = v;
    for (const k of keys) {
      if (Array.isArray(cur)) {
        const i = Number(k);
        if (!Number.isInteger(i) || i < 0 || i >= cur.length) throw new Error(`index out of range: ${str(k)}`);
        cur = cur[i];
      } else if (isMap(cur)) cur = Object.hasOwn(cur, str(k)) ? cur[str(k)] : NO_VALUE;
      else if (cur === null || cur === NO_VALUE || cur instanceof TypedNil) return NO_VALUE;
      else throw new Error(`can't index item of type ${goType(cur)}`);
    }
    return cur;
  },
  slice: (v, ...idx) => {
    if (typeof v !== 'string' && !Array.isArray(v)) throw new Error(`can't slice item of type ${goType(v)}`);
    const [a, b] = idx.map(Number);
    return v.slice(a ?? 0, b);
  },
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  not: (a) => !truth(a),
  and: (...a) => a.find((x) => !truth(x)) ?? a.at(-1),
  or: (...a) => a.find((x) => truth(x)) ?? a.at(-1),
};
