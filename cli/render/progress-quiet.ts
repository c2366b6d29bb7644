import type { BuildEvent } from '../../builder/types.js';
import type { BuildOutcome, ProgressRenderer, ProgressStream } from './progress.js';
import { PlainRenderer } from './progress-plain.js';

/** How much progress `-q` keeps for printing after a failure. */
export const QUIET_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * `-q` / `--progress=quiet`: nothing while the build runs (the CLI prints the
 * image ID on stdout). If the build fails, the plain progress is printed after
 * all, as `docker build -q` does, so that the failed step's output is not lost.
 */
export class QuietRenderer implements ProgressRenderer {
  readonly #out: ProgressStream;
  readonly #buffer: string[] = [];
  #buffered = 0;
  #dropped = 0;
  readonly #plain = new PlainRenderer({ write: (chunk: string) => this.#keep(chunk) });

  constructor(out: ProgressStream) {
    this.#out = out;
  }

  event(event: BuildEvent): void {
    this.#plain.event(event);
  }

  cancel(): void {
    this.#plain.cancel();
  }

  end(outcome: BuildOutcome): boolean {
    const reported = this.#plain.end(outcome);
    if (!outcome.ok) {
      if (this.#dropped > 0) this.#out.write(`[${this.#dropped} bytes of earlier progress not kept]\n`);
      this.#out.write(this.#buffer.join(''));
    }
    this.#buffer.length = 0;
    return reported;
  }

  /** Keeps the last QUIET_BUFFER_BYTES of progress: a step that prints gigabytes must not fill memory. */
  #keep(chunk: string): void {
    this.#buffer.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered > QUIET_BUFFER_BYTES && this.#buffer.length > 1) {
      const first = this.#buffer.shift() ?? '';
      this.#buffered -= first.length;
      this.#dropped += first.length;
    }
  }
}
