import type { BuildEvent, StepRef } from '../../builder/types.js';

/**
 * Draws a build's progress from its events. One renderer per build; `end` is
 * called once when `build()` settles and prints what comes after the steps
 * (warnings, the failed steps' logs, "canceled").
 */
export interface ProgressRenderer {
  event(event: BuildEvent): void;
  /** Ctrl-C: the build is being stopped, so steps that fail from now on were canceled. */
  cancel(): void;
  /**
   * The build ended. Returns true when the renderer reported the failure in
   * full itself (json prints it as one JSON line), so the CLI must not print it again.
   */
  end(outcome: BuildOutcome): boolean;
}

export type BuildOutcome = { ok: true } | { ok: false; error: unknown; canceled: boolean };

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'tty', 'plain', 'json', 'quiet'];

/** What a renderer writes to: stderr, or a fake in tests. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * The renderer for `--progress=MODE` on `stream`. `auto` draws spinners when the
 * stream is a terminal (ora decides: not under CI, not TERM=dumb) and plain logs
 * otherwise; ora is loaded only then.
 */
export async function createProgressRenderer(
  mode: ProgressMode,
  stream: NodeJS.WriteStream | ProgressStream,
): Promise<ProgressRenderer> {
  if (mode === 'json') return new (await import('./progress-json.js')).JsonRenderer(stream);
  if (mode === 'quiet') return new (await import('./progress-quiet.js')).QuietRenderer(stream);
  if (mode === 'plain' || (mode === 'auto' && stream.isTTY !== true)) {
    return new (await import('./progress-plain.js')).PlainRenderer(stream);
  }
  const { createTtyRenderer } = await import('./progress-tty.js');
  const tty = await createTtyRenderer(stream as NodeJS.WriteStream, { force: mode === 'tty' });
  return tty ?? new (await import('./progress-plain.js')).PlainRenderer(stream);
}

/** `[stage 2/3]`, or `[2/3]` for a step of an unnamed single stage (BuildKit's labels). */
export function stepLabel(step: StepRef): string {
  const pos = `${step.position}/${step.total}`;
  return step.stage ? `[${step.stage} ${pos}]` : `[${pos}]`;
}

/** BuildKit's vertex name: `[stage 1/2] RUN echo hi`. */
export function stepTitle(step: StepRef): string {
  return `${stepLabel(step)} ${step.name}`;
}

/** Seconds with one decimal, as BuildKit's `DONE 0.4s`. */
export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/** go-units' HumanSize: decimal units, four significant digits (`192B`, `1.234kB`, `4.5MB`). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(4))}${units[i]}`;
}

/**
 * A warning as BuildKit lists it after a build: `Rule: message (line N)`. Only
 * BuildKit's rule names lead the line; tsbuild's own `TSB_…` codes do not.
 */
export function warningText(w: Extract<BuildEvent, { type: 'warning' }>): string {
  const line = w.range ? ` (line ${w.range.start.line})` : '';
  const rule = w.code && !w.code.startsWith('TSB_') ? `${w.code}: ` : '';
  return `${rule}${w.message}${line}`;
}

/** BuildKit's summary of warnings: ` 2 warnings found:` and one ` - …` line each. */
export function warningSummary(warnings: Extract<BuildEvent, { type: 'warning' }>[]): string[] {
  if (warnings.length === 0) return [];
  const n = warnings.length;
  return [` ${n} warning${n === 1 ? '' : 's'} found:`, ...warnings.map((w) => ` - ${warningText(w)}`)];
}

/**
 * The lines of a `step-log` event: the builder sends one line per event without
 * its newline; data that holds newlines is split, and a last newline ends the
 * last line (it does not make an empty one). `\r\n` counts as one line end.
 */
export function logLines(data: string): string[] {
  const text = data.endsWith('\n') ? data.slice(0, -1) : data;
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}
