/**
 * The builder's public data: what `build()` takes, the events it emits while it
 * works, and what it returns. Plain JSON-serialisable data: the CLI's progress
 * renderers (tty, plain, json) and monorepo tools consume the same events.
 */
import type { SourceRange } from '../errors.js';

export interface BuildSecret {
  id: string;
  /** A file whose content is the secret. */
  src?: string;
  /** An environment variable of the calling process whose value is the secret. */
  env?: string;
}

/** An `-o` export of the result: a docker-archive, an OCI layout tar, a rootfs tar, or a rootfs directory. */
export interface BuildOutput {
  type: 'docker' | 'oci' | 'tar' | 'local';
  /** A file (a directory for `local`); `-` writes the tar to `outputStream`. */
  dest: string;
}

export interface BuildOptions {
  /** The build context directory. */
  context: string;
  /**
   * The Dockerfile: a path (relative to the current directory; may lie outside the context).
   * Default `<context>/Dockerfile`. Ignored when `dockerfileText` is given.
   */
  dockerfile?: string;
  /** The Dockerfile's text (`-f -`); `dockerfile` then only names it in messages (default `Dockerfile`). */
  dockerfileText?: string;
  /** Names to give the image (`-t`). */
  tags?: string[];
  buildArgs?: Record<string, string>;
  /** The stage to build (name or index); default the last. */
  target?: string;
  /** Ignore the cache for every step (results are still recorded). */
  noCache?: boolean;
  /** Ignore the cache for the steps of these stages (names or indexes). */
  noCacheFilter?: string[];
  /** Labels added to the image config (`--label`). */
  labels?: Record<string, string>;
  /** The target platform, `os/arch[/variant]`; default the host's (only the host's can run RUN steps). */
  platform?: string;
  /** How many steps run at once (default: twice the number of cores, at least 4). */
  jobs?: number;
  /** The store root (default `resolveRoot()`). */
  root?: string;
  /** Emit a `cache-miss` event that names the first differing input for each step that misses. */
  debugCache?: boolean;
  /**
   * How the store keeps the layers the build makes: `none` (default) keeps plain
   * tars, as Docker's own store keeps layers (a push compresses them); `gzip`
   * compresses them at once.
   */
  compression?: 'gzip' | 'none';
  /** Squash the layers the build made into one (`--squash`). */
  squash?: boolean;
  /** Exports of the image besides the store (`-o`). */
  outputs?: BuildOutput[];
  /** Where an output with `dest: '-'` goes (the CLI's stdout). */
  outputStream?: import('node:stream').Writable;
  /** RUN --mount=type=secret sources. */
  secrets?: BuildSecret[];
  /**
   * The network of RUN steps without `--network`: `default` (the host's network,
   * as tsbuild has no bridge), `none` or `host`.
   */
  network?: 'default' | 'none' | 'host';
  /** Stops the build: running steps are killed, their mounts and sandboxes removed. */
  signal?: AbortSignal;
}

/** A step as progress shows it. */
export interface StepRef {
  /** The build's vertex number, from 1, unique within the build (BuildKit's `#N`). */
  id: number;
  /** `[stage N/M]`-style label: the stage's name (or index) and the step's position in it. */
  stage: string;
  position: number;
  total: number;
  /** The instruction as written, keyword upper-cased (`RUN echo hi`), or `FROM busybox`. */
  name: string;
  /** The Dockerfile and range of the instruction. */
  file: string;
  range: SourceRange;
}

export type BuildEvent =
  | { type: 'build-start'; buildId: string; file: string; steps: number; time: number }
  | { type: 'warning'; message: string; code?: string; file?: string; range?: SourceRange; time: number }
  | { type: 'context'; files: number; bytes: number; cachedFiles: number; time: number }
  | { type: 'step-start'; step: StepRef; time: number }
  /** One line of a RUN step's output, without its newline (a line longer than 64 KiB comes in pieces). */
  | { type: 'step-log'; step: StepRef; stream: 'stdout' | 'stderr'; data: string; time: number }
  | { type: 'step-cached'; step: StepRef; time: number }
  | { type: 'cache-miss'; step: StepRef; reason: string; time: number }
  | { type: 'step-done'; step: StepRef; cached: boolean; durationMs: number; time: number }
  | { type: 'step-error'; step: StepRef; code: string; message: string; exitCode?: number; time: number }
  | { type: 'export'; phase: 'layers' | 'config' | 'manifest' | 'output' | 'naming'; detail: string; time: number }
  | {
      type: 'build-done';
      imageId: string;
      digest: string;
      names: string[];
      durationMs: number;
      cachedSteps: number;
      steps: number;
      time: number;
    };

export type BuildEventListener = (event: BuildEvent) => void;

export interface BuildResult {
  /** Docker's image ID: the config digest. */
  imageId: string;
  /** The manifest digest. */
  digest: string;
  /** The normalised names now pointing at the image. */
  names: string[];
  /** Warnings (unused build args, lint-free facts Docker also reports). */
  warnings: string[];
  steps: number;
  cachedSteps: number;
}
