/**
 * The build graph: what `toBuildGraph` makes of a Dockerfile AST, and what the
 * builder executes. Plain, JSON-serialisable, deterministic data: every value
 * is already expanded with the ARG/ENV state at its point of the build, so the
 * builder needs nothing else from the Dockerfile.
 */
import type { SourceRange } from '../../errors.js';
import type { Diagnostic, Heredoc } from '../ast.js';

/** An OCI platform: `linux/amd64`, `linux/arm/v7`. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Docker's HEALTHCHECK config; durations in nanoseconds, zero values left out (as Docker stores them). */
export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/**
 * The `config` object of a Docker/OCI image config, limited to the fields a
 * Dockerfile reads or writes. Field names are Docker's, so the image store can
 * pass a stored config as it is.
 */
export interface ImageConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[];
}

/**
 * What the graph needs of a base image: its config (Env, WorkingDir, User, Shell, OnBuild, …)
 * and the image's `author`, which an image built on it keeps until a MAINTAINER of its own.
 */
export interface BaseImageConfig extends ImageConfig {
  author?: string;
}

export interface BuildGraphOptions {
  /** Stage name (case-insensitive) or index; default the last stage. */
  target?: string;
  buildArgs?: Record<string, string>;
  /** Target platform; default the host's. */
  platform?: Platform;
  /** Build platform; default the host's. */
  buildPlatform?: Platform;
  /** The config of a base image, looked up by its expanded reference; undefined = unknown, treated as empty. */
  baseImage?: (ref: string, platform: Platform) => BaseImageConfig | undefined;
  /**
   * Expand every stage, not only those the target needs (the linter's mode). The
   * graph still lists only the needed stages.
   */
  allStages?: boolean;
  /** Receives facts the linter checks (unmatched variables, shell forms, …) while the graph is made. */
  observer?: GraphObserver;
}

/** A base image the builder must resolve before it builds: see `baseImageRefs`. */
export interface BaseImageRef {
  /** The reference after global-ARG expansion, as written (`busybox`, `docker.io/library/busybox:1.36`). */
  ref: string;
  /** The same, normalised: `docker.io/library/busybox:latest`. */
  normalized: string;
  platform: Platform;
  range: SourceRange;
  /** What needs it: a stage's FROM, a COPY --from, or a RUN --mount from=. */
  use: 'base' | 'copy' | 'mount';
}

/** Where a stage starts from. */
export type StageBase =
  | { type: 'scratch' }
  | { type: 'image'; ref: string; normalized: string; platform: Platform }
  | { type: 'stage'; stage: number };

/** Where COPY --from or RUN --mount from= takes its files. Absent means the build context. */
export type FileSource =
  | { type: 'stage'; stage: number }
  | { type: 'image'; ref: string; normalized: string; platform: Platform };

/** One entry of the image history, as BuildKit writes it (`comment` is always `buildkit.dockerfile.v0`). */
export interface HistoryEntry {
  createdBy: string;
  /** True for steps that change only the config (no layer). */
  emptyLayer: boolean;
}

interface StepBase<Op extends string> {
  op: Op;
  /** The instruction's range; for ONBUILD triggers of the base, the FROM line's range. */
  range: SourceRange;
  /** Progress text: the instruction as written, keyword upper-cased (`RUN echo hi`). */
  name: string;
  /** True when the step is a base image's ONBUILD trigger, run right after FROM. */
  onbuild?: boolean;
  /** The history entry the step adds; absent for ONBUILD, which adds none. */
  history?: HistoryEntry;
}

/** A resolved RUN --mount; paths absolute, values expanded, BuildKit's defaults filled in. */
export type StepMount =
  | { type: 'bind'; target: string; source: string; from?: FileSource; readwrite: boolean }
  | {
      type: 'cache';
      target: string;
      id: string;
      sharing: 'shared' | 'private' | 'locked';
      from?: FileSource;
      source: string;
      mode: number;
      uid: number;
      gid: number;
      readonly: boolean;
    }
  | { type: 'tmpfs'; target: string; size?: number }
  | {
      type: 'secret';
      id: string;
      target?: string;
      env?: string;
      required: boolean;
      mode: number;
      uid: number;
      gid: number;
    }
  | { type: 'ssh'; id: string; target: string; required: boolean; mode: number; uid: number; gid: number };

/** A file the builder writes before RUN (a heredoc with a `#!` line runs as a script). */
export interface InlineFile {
  path: string;
  content: string;
  mode: number;
}

export interface RunStep extends StepBase<'run'> {
  form: 'shell' | 'exec';
  /** The full argv, SHELL already prepended for the shell form. */
  args: string[];
  /** The SHELL in effect (what was prepended), for the shell form. */
  shell?: string[];
  /** The process environment: image env + ENV + the ARGs in scope, `KEY=value`, in BuildKit's order. */
  env: string[];
  /** Proxy variables from the build args (both cases); not part of the cache key or the history. */
  proxyEnv: string[];
  /** Names of the ARGs in scope, in order: the `|N K=V` part of the history, and the cache key. */
  argNames: string[];
  user: string;
  workdir: string;
  mounts: StepMount[];
  network: 'default' | 'none' | 'host';
  security: 'sandbox' | 'insecure';
  heredocs: Heredoc[];
  /** Files to create and mount read-only before the command runs (`/dev/pipes/<name>` scripts). */
  files: InlineFile[];
}

/** A COPY or ADD source. */
export type CopySource =
  | { type: 'path'; path: string }
  | { type: 'url'; url: string }
  | { type: 'git'; url: string }
  | { type: 'heredoc'; name: string; content: string };

export interface CopyStep extends StepBase<'copy' | 'add'> {
  sources: CopySource[];
  /** The destination as written (expanded); a trailing `/` means a directory. */
  dest: string;
  /** The destination resolved against WORKDIR: absolute, trailing `/` kept. */
  destPath: string;
  /** Absent: the build context. */
  from?: FileSource;
  chown?: string;
  /** `--chmod` as written (expanded); `mode` is its octal value when it is one. */
  chmod?: { raw: string; mode?: number };
  link: boolean;
  parents: boolean;
  exclude: string[];
  /** ADD only. */
  checksum?: string;
  keepGitDir?: boolean;
  /** ADD: unpack local archives (default true for ADD, false for COPY). */
  unpack: boolean;
  user: string;
  workdir: string;
}

export interface EnvStep extends StepBase<'env'> {
  pairs: [string, string][];
}
export interface LabelStep extends StepBase<'label'> {
  pairs: [string, string][];
}
export interface ArgStep extends StepBase<'arg'> {
  /** Each declared ARG with the value it has from here on (undefined: declared without a value). */
  args: { key: string; value?: string }[];
}
export interface CmdStep extends StepBase<'cmd'> {
  args: string[];
}
export interface EntrypointStep extends StepBase<'entrypoint'> {
  args: string[];
  /** True when this ENTRYPOINT cleared the base image's CMD (no CMD before it in the stage). */
  resetCmd: boolean;
}
export interface ExposeStep extends StepBase<'expose'> {
  /** `80/tcp`, `53/udp`: ranges expanded, protocol lower-cased. */
  ports: string[];
}
export interface VolumeStep extends StepBase<'volume'> {
  paths: string[];
}
export interface UserStep extends StepBase<'user'> {
  user: string;
}
export interface WorkdirStep extends StepBase<'workdir'> {
  /** The new working directory, absolute. */
  path: string;
  /** Create the directory (owned by `user`); false for `/`. */
  mkdir: boolean;
  user: string;
}
export interface StopsignalStep extends StepBase<'stopsignal'> {
  signal: string;
}
export interface HealthcheckStep extends StepBase<'healthcheck'> {
  healthcheck: HealthConfig;
}
export interface ShellStep extends StepBase<'shell'> {
  shell: string[];
}
export interface OnbuildStep extends StepBase<'onbuild'> {
  expression: string;
}
export interface MaintainerStep extends StepBase<'maintainer'> {
  author: string;
}

export type Step =
  | RunStep
  | CopyStep
  | EnvStep
  | LabelStep
  | ArgStep
  | CmdStep
  | EntrypointStep
  | ExposeStep
  | VolumeStep
  | UserStep
  | WorkdirStep
  | StopsignalStep
  | HealthcheckStep
  | ShellStep
  | OnbuildStep
  | MaintainerStep;

export interface Stage {
  /** The stage's position among all stages of the Dockerfile (pruning keeps the numbers). */
  index: number;
  /** Lower-cased `AS` name. */
  name?: string;
  base: StageBase;
  platform: Platform;
  /** The FROM instruction's range. */
  range: SourceRange;
  steps: Step[];
  /** Indexes of the stages this one needs (its base stage, COPY --from, RUN --mount from=), ascending. */
  dependencies: number[];
  /** The image config after the last step (the base's config with every step applied). */
  config: ImageConfig;
  /** MAINTAINER, when set. */
  author?: string;
}

export interface BuildGraph {
  filename: string;
  platform: Platform;
  buildPlatform: Platform;
  /** Index of the target stage. */
  target: number;
  /** The stages the target needs, in Dockerfile order. */
  stages: Stage[];
  /** Stages that the target does not need. */
  pruned: { index: number; name?: string }[];
  buildArgs: {
    /** Build args some ARG declares (or that are predefined). */
    used: string[];
    /** Build args no ARG declares: Docker warns about them. */
    unused: string[];
  };
  /**
   * SOURCE_DATE_EPOCH (the build arg, else a global ARG's non-empty value) as the time the image
   * config writes (`1970-01-01T00:00:00Z`): no history entry and no image is newer (BuildKit's epoch).
   */
  epoch?: string;
  warnings: Diagnostic[];
}

/** Facts for the linter, reported while the graph is made. */
export interface GraphObserver {
  /** Variables an instruction referenced that were not set (RUN's shell form is never expanded, so never here). */
  unmatched?(e: {
    range: SourceRange;
    stage: number;
    names: string[];
    declaredArgs: string[];
    envKeys: string[];
  }): void;
  /** Variables a FROM line referenced that no global ARG or predefined arg sets. */
  fromUnmatched?(e: { range: SourceRange; names: string[]; knownArgs: string[] }): void;
  /** A FROM image whose expansion with only the defaults of the global ARGs is empty or invalid. */
  invalidDefaultBase?(e: { range: SourceRange; raw: string }): void;
  /** The first WORKDIR of a stage chain (absolute or not). */
  firstWorkdir?(e: { range: SourceRange; path: string }): void;
  /** CMD or ENTRYPOINT in shell form; `shellSet` when a SHELL is in effect. */
  shellForm?(e: { range: SourceRange; instruction: 'CMD' | 'ENTRYPOINT'; shellSet: boolean }): void;
  /** A second CMD, ENTRYPOINT or HEALTHCHECK in a stage: `range` is the earlier one's, which is ignored. */
  repeated?(e: { range: SourceRange; instruction: 'CMD' | 'ENTRYPOINT' | 'HEALTHCHECK' }): void;
  /** The expanded port words of an EXPOSE. */
  expose?(e: { range: SourceRange; ports: string[] }): void;
  /** An ARG or ENV key. */
  key?(e: { range: SourceRange; instruction: 'ARG' | 'ENV'; key: string }): void;
}
