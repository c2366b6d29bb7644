import type { BuildEvent } from '../../builder/types.js';
import { TsbuildError } from '../../errors.js';
import type { BuildOutcome, ProgressRenderer, ProgressStream } from './progress.js';

/**
 * The line the json renderer ends a failed build with: not a `BuildEvent`
 * (the builder rejects instead of emitting it), but shaped like one so that
 * a reader of `--progress=json` sees the whole outcome as JSON lines.
 */
export interface BuildErrorLine {
  type: 'build-error';
  canceled: boolean;
  code: string;
  message: string;
  file?: string;
  ranges?: TsbuildError['ranges'];
  time: number;
}

/** `--progress=json`: each `BuildEvent` as one line of JSON, exactly as `build()` emits it. */
export class JsonRenderer implements ProgressRenderer {
  readonly #out: ProgressStream;
  readonly #now: () => number;

  constructor(out: ProgressStream, now: () => number = Date.now) {
    this.#out = out;
    this.#now = now;
  }

  event(event: BuildEvent): void {
    this.#out.write(`${JSON.stringify(event)}\n`);
  }

  /** The events say it all: a canceled build ends with a `build-error` line whose `canceled` is set. */
  cancel(): void {}

  end(outcome: BuildOutcome): boolean {
    if (outcome.ok) return false;
    const err = outcome.error;
    const line: BuildErrorLine = {
      type: 'build-error',
      canceled: outcome.canceled,
      code: outcome.canceled ? 'TSB_CANCELED' : err instanceof TsbuildError ? err.code : 'TSB_INTERNAL',
      message: outcome.canceled ? 'canceled' : err instanceof Error ? err.message : String(err),
      time: this.#now(),
    };
    if (!outcome.canceled && err instanceof TsbuildError) {
      if (err.file !== undefined) line.file = err.file;
      if (err.ranges.length > 0) line.ranges = err.ranges;
    }
    this.#out.write(`${JSON.stringify(line)}\n`);
    return true;
  }
}
