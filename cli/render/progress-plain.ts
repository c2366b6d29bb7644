import type { BuildEvent, StepRef } from '../../builder/types.js';
import {
  type BuildOutcome,
  humanSize,
  logLines,
  type ProgressRenderer,
  type ProgressStream,
  seconds,
  stepTitle,
  warningSummary,
} from './progress.js';

/** How many of a failed step's last log lines the error block repeats (BuildKit shows 10). */
export const ERROR_TAIL_LINES = 10;

type Warning = Extract<BuildEvent, { type: 'warning' }>;

interface StepState {
  ref: StepRef;
  /** The builder's time of step-start (or of the first event seen for the step). */
  start: number;
  /** The last log lines, `0.123 text`, for the error block. */
  tail: string[];
  finished: boolean;
  error?: string;
}

/** The `exporting to image` vertex: numbered after the last step. */
interface ExportState {
  id: number;
  start: number;
  /** Time of the previous export event, for each phase's duration. */
  last: number;
  /** `writing image` was printed (from the config phase). */
  image: boolean;
  names: Set<string>;
}

/** Pseudo-vertex number for `[internal] load build context` (the builder numbers steps from 1). */
const CONTEXT_VERTEX = 0;

/**
 * BuildKit's plain progress (`--progress=plain`): each step as `#N [stage i/n] RUN …`,
 * its output in full as `#N 0.123 line` (seconds since the step started), then
 * `#N CACHED`, `#N DONE 0.4s` or `#N ERROR: …`. When output switches between steps
 * running at the same time, the header is repeated (and the step left is marked `#N ...`).
 * The export ends with `writing image sha256:… done` and a `naming to … done` line per name.
 */
export class PlainRenderer implements ProgressRenderer {
  readonly #out: ProgressStream;
  readonly #steps = new Map<number, StepState>();
  readonly #warnings: Warning[] = [];
  /** The vertex whose lines were printed last. */
  #current: number | undefined;
  #printedAny = false;
  #canceling = false;
  #maxId = 0;
  #export: ExportState | undefined;

  constructor(out: ProgressStream) {
    this.#out = out;
  }

  event(e: BuildEvent): void {
    switch (e.type) {
      case 'build-start':
        return;
      case 'warning':
        this.#warnings.push(e);
        return;
      case 'context':
        this.#switchTo(CONTEXT_VERTEX, '[internal] load build context');
        this.#line(CONTEXT_VERTEX, `transferring context: ${humanSize(e.bytes)} done`);
        this.#current = undefined;
        return;
      case 'step-start':
        // Log lines count from here (a cache-miss event may have come first).
        this.#step(e.step, e.time).start = e.time;
        this.#switchTo(e.step.id, stepTitle(e.step));
        return;
      case 'step-log': {
        this.#logLines(this.#step(e.step, e.time), logLines(e.data), e.time);
        return;
      }
      case 'step-cached': {
        const s = this.#step(e.step, e.time);
        if (s.finished) return;
        this.#switchTo(s.ref.id, stepTitle(s.ref));
        this.#line(s.ref.id, 'CACHED');
        s.finished = true;
        return;
      }
      case 'cache-miss': {
        const s = this.#step(e.step, e.time);
        this.#switchTo(s.ref.id, stepTitle(s.ref));
        this.#line(s.ref.id, `cache miss: ${e.reason}`);
        return;
      }
      case 'step-done': {
        const s = this.#step(e.step, e.time);
        if (s.finished) return;
        this.#switchTo(s.ref.id, stepTitle(s.ref));
        this.#line(s.ref.id, e.cached ? 'CACHED' : `DONE ${seconds(e.durationMs)}`);
        s.finished = true;
        return;
      }
      case 'step-error': {
        const s = this.#step(e.step, e.time);
        this.#switchTo(s.ref.id, stepTitle(s.ref));
        s.finished = true;
        if (this.#canceling) {
          this.#line(s.ref.id, 'CANCELED');
          return;
        }
        this.#line(s.ref.id, `ERROR: ${e.message}`);
        s.error = e.message;
        return;
      }
      case 'export':
        this.#exportLine(e);
        return;
      case 'build-done': {
        const x = this.#startExport(e.time);
        if (!x.image) this.#line(x.id, `writing image ${e.imageId} done`);
        for (const name of e.names) if (!x.names.has(name)) this.#line(x.id, `naming to ${name} done`);
        this.#line(x.id, `DONE ${seconds(e.time - x.start)}`);
        this.#current = undefined;
        return;
      }
    }
  }

  cancel(): void {
    this.#canceling = true;
  }

  end(outcome: BuildOutcome): boolean {
    if (!outcome.ok && outcome.canceled) {
      for (const s of this.#steps.values()) {
        if (s.finished) continue;
        this.#switchTo(s.ref.id, stepTitle(s.ref));
        this.#line(s.ref.id, 'CANCELED');
      }
    }
    const summary = warningSummary(this.#warnings);
    if (summary.length > 0) this.#write(['', ...summary]);
    if (!outcome.ok) {
      for (const s of this.#steps.values()) {
        if (s.error !== undefined) this.#write(errorBlock(s.ref, s.tail));
      }
      if (outcome.canceled) this.#write(['canceled']);
    }
    return outcome.ok ? false : outcome.canceled;
  }

  #step(ref: StepRef, time: number): StepState {
    let s = this.#steps.get(ref.id);
    if (!s) {
      s = { ref, start: time, tail: [], finished: false };
      this.#steps.set(ref.id, s);
      this.#maxId = Math.max(this.#maxId, ref.id);
    }
    return s;
  }

  #logLines(s: StepState, lines: string[], time: number): void {
    this.#switchTo(s.ref.id, stepTitle(s.ref));
    const at = ((time - s.start) / 1000).toFixed(3);
    const prefix = `#${s.ref.id} ${at} `;
    this.#write(lines.map((l) => prefix + l));
    for (const l of lines) s.tail.push(`${at} ${l}`);
    if (s.tail.length > ERROR_TAIL_LINES) s.tail.splice(0, s.tail.length - ERROR_TAIL_LINES);
  }

  /**
   * Makes `id` the vertex being printed: a blank line and its header, unless its
   * lines are the last ones printed. A running step left behind is marked `#N ...`.
   */
  #switchTo(id: number, title: string): void {
    if (this.#current === id) return;
    const prev = this.#current === undefined ? undefined : this.#steps.get(this.#current);
    const lines: string[] = [];
    if (prev && !prev.finished) lines.push(`#${prev.ref.id} ...`);
    if (this.#printedAny) lines.push('');
    lines.push(`#${id} ${title}`);
    this.#write(lines);
    this.#current = id;
  }

  #line(id: number, text: string): void {
    this.#write([`#${id} ${text}`]);
  }

  #write(lines: string[]): void {
    if (lines.length === 0) return;
    this.#printedAny = true;
    this.#out.write(`${lines.join('\n')}\n`);
  }

  #startExport(time: number): ExportState {
    if (!this.#export) {
      const id = this.#maxId + 1;
      this.#export = { id, start: time, last: time, image: false, names: new Set() };
      this.#steps.delete(id);
    }
    this.#switchTo(this.#export.id, 'exporting to image');
    return this.#export;
  }

  #exportLine(e: Extract<BuildEvent, { type: 'export' }>): void {
    const x = this.#startExport(e.time);
    const took = seconds(e.time - x.last);
    x.last = e.time;
    switch (e.phase) {
      case 'layers':
        this.#line(x.id, `exporting layers ${e.detail ? `${e.detail} ` : ''}${took} done`);
        return;
      case 'config':
        x.image = true;
        this.#line(x.id, `writing image ${e.detail} done`);
        return;
      case 'manifest':
        this.#line(x.id, `exporting manifest ${e.detail} done`);
        return;
      case 'output':
        this.#line(x.id, `exporting to ${e.detail} ${took} done`);
        return;
      case 'naming':
        x.names.add(e.detail);
        this.#line(x.id, `naming to ${e.detail} done`);
        return;
    }
  }
}

/** BuildKit's block for a failed step: its title and its last log lines between `------` rules. */
export function errorBlock(step: StepRef, tail: readonly string[]): string[] {
  return ['------', ` > ${stepTitle(step)}:`, ...tail, '------'];
}
