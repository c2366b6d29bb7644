/**
 * The typed Dockerfile AST: what `parseDockerfile` returns and what `parser/dag`
 * and the linter consume. Plain, JSON-serialisable data.
 *
 * Words are kept *raw*: quotes, `$VAR` references and escapes are exactly as
 * written (continuations joined), because expansion needs the ARG/ENV state at
 * that point of the build and so happens in `parser/dag` through `parser/shell`.
 * Every node carries its 1-based source range.
 */
import type { SourceRange } from '../errors.js';

export type { Position, SourceRange } from '../errors.js';

/** Instruction names, lower-case, as BuildKit's `command` package lists them. */
export const INSTRUCTIONS = [
  'from',
  'run',
  'cmd',
  'label',
  'maintainer',
  'expose',
  'env',
  'add',
  'copy',
  'entrypoint',
  'volume',
  'user',
  'workdir',
  'arg',
  'onbuild',
  'stopsignal',
  'healthcheck',
  'shell',
] as const;
export type InstructionKind = (typeof INSTRUCTIONS)[number];

export type EscapeChar = '\\' | '`';

/** A raw word (or word list) as written, with its range. */
export interface Word {
  value: string;
  range: SourceRange;
}

/**
 * A `--name=value` or bare `--name` flag. `value` is null for a bare flag; it is
 * read as BuildKit reads flags (quotes removed, `\x` taken as `x`), `$VAR` kept.
 */
export interface Flag {
  name: string;
  value: string | null;
  range: SourceRange;
}

/** A parser directive from the top of the file: `# syntax=`, `# escape=`, `# check=`. */
export interface Directive {
  /** Lower-case name: `syntax`, `escape` or `check`. */
  name: string;
  value: string;
  range: SourceRange;
}

/** A heredoc body introduced by `<<NAME`, `<<-NAME`, `<<"NAME"` or `<<'NAME'`. */
export interface Heredoc {
  /** The delimiter word, without quotes. */
  name: string;
  /** The body up to (not including) the terminator line, ending with `\n` unless empty; `<<-` has already stripped leading tabs. */
  content: string;
  /** False for a quoted delimiter: the body is not expanded. */
  expand: boolean;
  /** True for `<<-`. */
  chomp: boolean;
  /** For `3<<EOF` style redirections in RUN; undefined when not given. */
  fd?: number;
  range: SourceRange;
}

/** Exec form (a JSON array) or shell form (the text as written, continuations joined). */
export type CommandLine =
  | { form: 'exec'; args: string[]; range: SourceRange }
  | { form: 'shell'; command: string; range: SourceRange };

/** A key=value pair of ENV, LABEL or ARG. Key and value are raw (unexpanded, quotes kept). */
export interface KeyValue {
  key: string;
  /** null only for ARG without a default (`ARG name`). */
  value: string | null;
  range: SourceRange;
}

interface InstructionBase<K extends InstructionKind> {
  kind: K;
  /** The keyword exactly as written (`run`, `RUN`, `Run`), for casing checks. */
  keyword: string;
  /** The instruction's text with continuations joined and comment lines removed (BuildKit's `Original`). */
  original: string;
  /** Every flag as written, in order; typed views of them are on each instruction. */
  flags: Flag[];
  /** Comment lines directly above the instruction, without the leading `#`. */
  comments: string[];
  range: SourceRange;
}

export interface FromInstruction extends InstructionBase<'from'> {
  image: Word;
  /** The name after `AS`, as written (lower-cased only by the graph). */
  stageName?: Word;
  /** The `AS` keyword as written, for the FromAsCasing check. */
  asKeyword?: Word;
  platform?: string;
}

/**
 * One `RUN --mount=` option list, typed, with BuildKit's defaults filled in
 * (see `parseRunMount`). `spec` is the option list as written: values holding
 * `$` are kept raw (strings) or left unset (numbers, booleans) until expanded,
 * so re-parse `spec` after expansion when it contains `$`.
 */
export type RunMount =
  | {
      type: 'bind';
      /** As written; may be relative (to the working directory) or empty (the working directory). */
      target: string;
      source?: string;
      from?: string;
      readonly: boolean;
      spec: string;
      range: SourceRange;
    }
  | {
      type: 'cache';
      target: string;
      /** Undefined when not given: BuildKit then uses the resolved target. */
      id?: string;
      sharing: 'shared' | 'private' | 'locked';
      from?: string;
      source?: string;
      mode?: number;
      uid?: number;
      gid?: number;
      readonly: boolean;
      spec: string;
      range: SourceRange;
    }
  | { type: 'tmpfs'; target: string; size?: number; spec: string; range: SourceRange }
  | {
      type: 'secret';
      id?: string;
      target?: string;
      env?: string;
      required: boolean;
      mode?: number;
      uid?: number;
      gid?: number;
      spec: string;
      range: SourceRange;
    }
  | {
      type: 'ssh';
      id?: string;
      target?: string;
      required: boolean;
      mode?: number;
      uid?: number;
      gid?: number;
      spec: string;
      range: SourceRange;
    };

export interface RunInstruction extends InstructionBase<'run'> {
  command: CommandLine;
  heredocs: Heredoc[];
  mounts: RunMount[];
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
}

export interface CmdInstruction extends InstructionBase<'cmd'> {
  command: CommandLine;
}

export interface EntrypointInstruction extends InstructionBase<'entrypoint'> {
  command: CommandLine;
}

export interface ShellInstruction extends InstructionBase<'shell'> {
  /** SHELL accepts only the exec (JSON array) form. */
  args: string[];
}

export interface LabelInstruction extends InstructionBase<'label'> {
  pairs: KeyValue[];
  /** True for the legacy `LABEL key value` form. */
  legacy: boolean;
}

export interface EnvInstruction extends InstructionBase<'env'> {
  pairs: KeyValue[];
  /** True for the legacy `ENV key value with spaces` form. */
  legacy: boolean;
}

export interface ArgInstruction extends InstructionBase<'arg'> {
  pairs: KeyValue[];
}

export interface MaintainerInstruction extends InstructionBase<'maintainer'> {
  name: string;
}

export interface ExposeInstruction extends InstructionBase<'expose'> {
  /** Raw port words, e.g. `80`, `53/udp`, `$PORT`, `8000-8010/tcp`. */
  ports: Word[];
}

export interface VolumeInstruction extends InstructionBase<'volume'> {
  /** Raw paths, from a JSON array or whitespace-separated words. */
  paths: Word[];
  form: 'exec' | 'shell';
}

export interface UserInstruction extends InstructionBase<'user'> {
  /** Raw `user[:group]`. */
  user: Word;
}

export interface WorkdirInstruction extends InstructionBase<'workdir'> {
  path: Word;
}

export interface StopsignalInstruction extends InstructionBase<'stopsignal'> {
  signal: Word;
}

/** Shared by COPY and ADD. Sources and destination are raw words. */
interface CopyLike<K extends 'copy' | 'add'> extends InstructionBase<K> {
  /** Every source word as written, heredoc markers (`<<EOF`) included. */
  sources: Word[];
  dest: Word;
  /** The bodies of the heredoc sources (`COPY <<EOF /dst`), in the order their markers appear among `sources`. */
  heredocs: Heredoc[];
  form: 'exec' | 'shell';
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
}

export type CopyInstruction = CopyLike<'copy'>;

export interface AddInstruction extends CopyLike<'add'> {
  checksum?: string;
  keepGitDir: boolean;
  /** `--unpack` / `--unpack=false`; undefined means the default (unpack local archives only). */
  unpack?: boolean;
}

export interface HealthcheckInstruction extends InstructionBase<'healthcheck'> {
  /** `HEALTHCHECK NONE` disables the base image's check. */
  test: { type: 'none' } | { type: 'cmd'; command: CommandLine };
  /** Durations in nanoseconds, as Docker's image config stores them. Undefined when not given. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface OnbuildInstruction extends InstructionBase<'onbuild'> {
  /** The wrapped instruction; never ONBUILD, FROM or MAINTAINER. */
  instruction: Instruction;
  /** The trigger text as Docker stores it in the image config (`RUN echo hi`). */
  expression: string;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | EnvInstruction
  | AddInstruction
  | CopyInstruction
  | EntrypointInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

export type InstructionOf<K extends InstructionKind> = Extract<Instruction, { kind: K }>;

export interface Dockerfile {
  /** The name used in messages, as given to `parseDockerfile`. */
  filename: string;
  directives: Directive[];
  escape: EscapeChar;
  instructions: Instruction[];
}

export type Severity = 'error' | 'warning';

/**
 * A problem found while parsing or linting. Parse errors have severity `error`
 * and a `TSB_DOCKERFILE_…` code; lint findings are warnings whose `rule` is the
 * BuildKit check name (`StageNameCasing`, …).
 */
export interface Diagnostic {
  severity: Severity;
  code: string;
  message: string;
  range: SourceRange;
  rule?: string;
  /** Documentation link for lint rules. */
  url?: string;
}

export interface ParseResult {
  ast: Dockerfile;
  diagnostics: Diagnostic[];
}
