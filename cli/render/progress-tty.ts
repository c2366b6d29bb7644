import { stripVTControlCharacters } from 'node:util';
import type { Ora } from 'ora';
import type { BuildEvent, StepRef } from '../../builder/types.js';
import {
  type BuildOutcome,
  logLines,
  type ProgressRenderer,
  type ProgressStream,
  seconds,
  stepTitle,
  warningSummary,
} from './progress.js';
import { errorBlock } from './progress-plain.js';

/** How many of a running step's last log lines stay under it. */
export const TTY_LOG_LINES = 6;
/** A failed step's log lines repeated after the build. */
const ERROR_TAIL_LINES = 10;

type Warning = Extract<BuildEvent, { type: 'warning' }>;

export interface TtyRendererOptions {
  /** `--progress=tty`: draw even where ora would not (CI, TERM=dumb). */
  force?: boolean;
  /** The clock for elapsed times of running steps (tests pass a fake). */
  now?: () => number;
}

/**
 * `--progress=tty` (and `auto` on a terminal): one ora spinner whose text lists
 * the running steps, `[stage i/n] name` with their elapsed time and last log
 * lines. Each step that ends is printed above it for good, as BuildKit's tty
 * display does (` => CACHED [stage 1/2] …`, ` => [stage 2/2] RUN …   0.4s`), and
 * the build ends with one summary line. Returns undefined when ora finds the
 * stream is not an interactive terminal and `force` is not set, or when the
 * terminal has no width.
 */
export async function createTtyRenderer(
  stream: NodeJS.WriteStream | ProgressStream,
  options: TtyRendererOptions = {},
): Promise<TtyRenderer | undefined> {
  // A terminal without a size (a pty nobody sized) cannot be redrawn: ora would clear lines without end.
  if (!stream.columns) return undefined;
  const { default: ora } = await import('ora');
  const spinner = ora({
    stream: stream as NodeJS.WriteStream,
    text: 'Building',
    discardStdin: false,
    ...(options.force ? { isEnabled: true } : {}),
  });
  if (!spinner.isEnabled) return undefined;
  return new TtyRenderer(spinner, stream, options.now ?? Date.now);
}

interface Running {
  ref: StepRef;
  startedAt: number;
  logs: string[];
}

export class TtyRenderer implements ProgressRenderer {
  readonly #spinner: Ora;
  readonly #out: ProgressStream;
  readonly #now: () => number;
  readonly #running = new Map<number, Running>();
  readonly #finished = new Set<number>();
  /** Failed steps and their last log lines, for the block after the build. */
  readonly #failed: { ref: StepRef; tail: string[] }[] = [];
  readonly #tails = new Map<number, string[]>();
  readonly #warnings: Warning[] = [];
  #total = 0;
  #cached = 0;
  /** Steps that completed (cached, done or failed; not canceled). */
  #done = 0;
  #startedAt: number;
  #exporting: { startedAt: number; detail: string } | undefined;
  #canceling = false;
  #image: { id: string; names: string[] } | undefined;

  constructor(spinner: Ora, out: ProgressStream, now: () => number) {
    this.#spinner = spinner;
    this.#out = out;
    this.#now = now;
    this.#startedAt = now();
    spinner.suffixText = () => this.frameText();
  }

  event(e: BuildEvent): void {
    switch (e.type) {
      case 'build-start':
        this.#total = e.steps;
        this.#startedAt = this.#now();
        this.#spin();
        return;
      case 'warning':
        this.#warnings.push(e);
        return;
      case 'context':
      case 'cache-miss':
        return;
      case 'step-start':
        this.#start(e.step);
        this.#spin();
        return;
      case 'step-log': {
        const r = this.#start(e.step);
        const lines = logLines(e.data).map(cleanLine);
        r.logs.push(...lines);
        if (r.logs.length > TTY_LOG_LINES) r.logs.splice(0, r.logs.length - TTY_LOG_LINES);
        const tail = this.#tails.get(e.step.id) ?? [];
        tail.push(...lines);
        if (tail.length > ERROR_TAIL_LINES) tail.splice(0, tail.length - ERROR_TAIL_LINES);
        this.#tails.set(e.step.id, tail);
        return;
      }
      case 'step-cached':
        this.#finish(e.step, 'CACHED', undefined);
        return;
      case 'step-done':
        this.#finish(e.step, e.cached ? 'CACHED' : '', e.cached ? undefined : e.durationMs);
        return;
      case 'step-error': {
        if (this.#canceling) {
          this.#finish(e.step, 'CANCELED', undefined);
          return;
        }
        const tail = this.#tails.get(e.step.id) ?? [];
        this.#finish(e.step, 'ERROR', this.#now() - (this.#running.get(e.step.id)?.startedAt ?? this.#now()));
        this.#failed.push({ ref: e.step, tail });
        this.#persist([`    ${e.message}`]);
        return;
      }
      case 'export':
        this.#exporting ??= { startedAt: this.#now(), detail: '' };
        this.#exporting.detail =
          e.phase === 'layers'
            ? 'exporting layers'
            : e.phase === 'config'
              ? `writing image ${e.detail}`
              : e.phase === 'manifest'
                ? `exporting manifest ${e.detail}`
                : e.phase === 'output'
                  ? `exporting to ${e.detail}`
                  : `naming to ${e.detail}`;
        this.#spin();
        return;
      case 'build-done': {
        const took = this.#exporting ? this.#now() - this.#exporting.startedAt : 0;
        this.#persist([this.#row(' => exporting to image', seconds(took))]);
        this.#exporting = undefined;
        this.#image = { id: e.imageId, names: e.names };
        return;
      }
    }
  }

  cancel(): void {
    this.#canceling = true;
    this.#spinner.text = 'Canceling';
  }

  end(outcome: BuildOutcome): boolean {
    const elapsed = seconds(this.#now() - this.#startedAt);
    const counts = `${this.#done} step${this.#done === 1 ? '' : 's'}, ${this.#cached} cached`;
    if (!outcome.ok && outcome.canceled) {
      for (const r of [...this.#running.values()]) this.#finish(r.ref, 'CANCELED', undefined);
    }
    // The summary line persists the spinner's text and suffix: the running steps must not come with it.
    this.#spinner.suffixText = '';
    if (outcome.ok) {
      const image = this.#image;
      const id = image ? ` ${image.id.slice(0, 'sha256:'.length + 12)}` : '';
      const names = image && image.names.length > 0 ? `: ${image.names.join(', ')}` : '';
      this.#spinner.succeed(`Built${id} in ${elapsed} (${counts})${names}`);
    } else if (outcome.canceled) {
      this.#spinner.fail(`Canceled after ${elapsed} (${counts})`);
    } else {
      const first = this.#failed[0];
      this.#spinner.fail(`Build failed after ${elapsed}${first ? `: ${stepTitle(first.ref)}` : ''}`);
    }
    const lines = warningSummary(this.#warnings);
    if (!outcome.ok) {
      for (const f of this.#failed) lines.push(...errorBlock(f.ref, f.tail));
      if (outcome.canceled) lines.push('canceled');
    }
    if (lines.length > 0) this.#out.write(`${lines.join('\n')}\n`);
    return outcome.ok ? false : outcome.canceled;
  }

  /** The spinner's text after `Building`: elapsed time, counts, and the running steps with their last lines. */
  frameText(): string {
    const width = this.#width();
    const head = `${seconds(this.#now() - this.#startedAt)} (${this.#done}/${Math.max(this.#total, this.#finished.size + this.#running.size)})`;
    const lines = [head];
    for (const r of this.#running.values()) {
      lines.push(this.#row(` => ${stepTitle(r.ref)}`, seconds(this.#now() - r.startedAt)));
      for (const l of r.logs) lines.push(clip(` => => # ${l}`, width));
    }
    if (this.#exporting) {
      lines.push(this.#row(` => ${this.#exporting.detail}`, seconds(this.#now() - this.#exporting.startedAt)));
    }
    return lines.join('\n');
  }

  #spin(): void {
    if (!this.#spinner.isSpinning) this.#spinner.start();
  }

  #start(ref: StepRef): Running {
    let r = this.#running.get(ref.id);
    if (!r) {
      r = { ref, startedAt: this.#now(), logs: [] };
      this.#running.set(ref.id, r);
    }
    return r;
  }

  /** A step ended: it leaves the spinner's text and is printed above it for good. */
  #finish(ref: StepRef, status: 'CACHED' | 'CANCELED' | 'ERROR' | '', durationMs: number | undefined): void {
    if (this.#finished.has(ref.id)) return;
    this.#running.delete(ref.id);
    this.#finished.add(ref.id);
    if (status === 'CACHED') this.#cached++;
    if (status !== 'CANCELED') this.#done++;
    const left = ` => ${status ? `${status} ` : ''}${stepTitle(ref)}`;
    this.#persist([this.#row(left, durationMs === undefined ? '' : seconds(durationMs))]);
  }

  /** Lines above the spinner: ora's stream hook clears the spinner, lets them through and draws it again. */
  #persist(lines: string[]): void {
    this.#out.write(`${lines.join('\n')}\n`);
  }

  /** `left` and `right` on one line of the terminal's width, `left` clipped to fit. */
  #row(left: string, right: string): string {
    const width = this.#width();
    if (!right) return clip(left, width);
    const room = width - right.length - 1;
    const l = clip(left, room);
    return `${l}${' '.repeat(Math.max(1, room - l.length + 1))}${right}`;
  }

  #width(): number {
    // ora puts the spinner and a space before the first line; leave a column spare so nothing wraps.
    return Math.max(40, Math.min(this.#out.columns ?? 80, 160) - 1);
  }
}

/** A log line fit for the frame: what a carriage return left visible, without escape sequences or tabs. */
function cleanLine(line: string): string {
  const cr = line.lastIndexOf('\r');
  const visible = cr >= 0 ? line.slice(cr + 1) : line;
  let out = '';
  for (const ch of stripVTControlCharacters(visible).replace(/\t/g, '  ')) {
    const code = ch.charCodeAt(0);
    if (code >= 0x20 && code !== 0x7f) out += ch;
  }
  return out;
}

function clip(text: string, width: number): string {
  if (text.length <= width) return text;
  return `${text.slice(0, Math.max(0, width - 1))}…`;
}
