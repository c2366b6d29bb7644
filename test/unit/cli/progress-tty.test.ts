import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../../builder/types.js';
import { createTtyRenderer, TTY_LOG_LINES, type TtyRenderer } from '../../../cli/render/progress-tty.js';
import { FAIL, failedBuild, RUN, step, successfulBuild } from './progress-events.js';

/** A tiny terminal: what ora draws and clears ends up as the lines left on the screen. */
class FakeTerminal {
  readonly isTTY = true;
  readonly columns = 60;
  readonly rows = 40;
  screen: string[] = [''];
  row = 0;
  col = 0;

  write(chunk: string | Uint8Array): boolean {
    const text = stripVTControlCharacters(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    const parts = text.split('\n');
    parts.forEach((part, i) => {
      if (i > 0) {
        this.row++;
        this.col = 0;
        this.screen[this.row] ??= '';
      }
      const line = (this.screen[this.row] ?? '').padEnd(this.col);
      this.screen[this.row] = line.slice(0, this.col) + part + line.slice(this.col + part.length);
      this.col += part.length;
    });
    return true;
  }
  cursorTo(x: number): boolean {
    this.col = x;
    return true;
  }
  moveCursor(_dx: number, dy: number): boolean {
    this.row = Math.max(0, this.row + dy);
    return true;
  }
  clearLine(): boolean {
    this.screen[this.row] = '';
    return true;
  }
  on(): this {
    return this;
  }
  once(): this {
    return this;
  }
  removeListener(): this {
    return this;
  }
  lines(): string[] {
    const out = [...this.screen];
    while (out.length > 0 && out.at(-1) === '') out.pop();
    return out.map((l) => l.trimEnd());
  }
}

async function tty(now: () => number = () => 0): Promise<{ term: FakeTerminal; r: TtyRenderer }> {
  const term = new FakeTerminal();
  const r = await createTtyRenderer(term as unknown as NodeJS.WriteStream, { force: true, now });
  if (!r) throw new Error('no tty renderer');
  return { term, r };
}

describe('tty progress', () => {
  it('shows each running step with its stage, elapsed time and last log lines', async () => {
    let clock = 1000;
    const { r } = await tty(() => clock);
    r.event({ type: 'build-start', buildId: 'b', file: 'Dockerfile', steps: 4, time: 0 });
    r.event({ type: 'step-start', step: RUN, time: 0 });
    for (let i = 1; i <= 10; i++)
      r.event({ type: 'step-log', step: RUN, stream: 'stdout', data: `line ${i}`, time: 0 });
    const progress = '\u001b[31mred\u001b[0m 50%\r100%\tdone';
    r.event({ type: 'step-log', step: RUN, stream: 'stdout', data: progress, time: 0 });
    clock = 3500;
    const frame = r.frameText().split('\n');
    expect(frame[0]).toBe('2.5s (0/4)');
    expect(frame[1]).toMatch(/^ => \[base 2\/2\] RUN echo hi && echo err >&2 +2\.5s$/);
    expect(frame.slice(2)).toEqual([
      ...Array.from({ length: TTY_LOG_LINES - 1 }, (_, i) => ` => => # line ${i + 11 - TTY_LOG_LINES + 1}`),
      ' => => # 100%  done',
    ]);
    r.end({ ok: true });
  });

  it('leaves the finished steps, CACHED ones marked, and a one-line summary on the screen', async () => {
    const { term, r } = await tty();
    for (const e of successfulBuild()) r.event(e);
    r.end({ ok: true });
    const lines = term.lines();
    expect(lines[0]).toMatch(/^ => CACHED \[base 1\/2\] FROM docker\.io\/library\/busybox:latest$/);
    expect(lines[1]).toMatch(/^ => \[base 2\/2\] RUN echo hi && echo err >&2 +0\.7s$/);
    expect(lines[2]).toBe(' => CACHED [stage-1 1/2] WORKDIR /app');
    expect(lines[3]).toMatch(/^ => exporting to image +0\.0s$/);
    expect(lines[4]).toMatch(/Built sha256:abc in 0\.0s \(3 steps, 2 cached\): docker\.io\/library\/x:latest$/);
    expect(lines).toHaveLength(5);
    // The drawn lines fit the terminal (the last, printed once, may wrap).
    for (const l of lines.slice(0, 4)) expect(l.length).toBeLessThanOrEqual(term.columns);
  });

  it('ends a failed build with the step, its message and its last output', async () => {
    const { term, r } = await tty();
    for (const e of failedBuild()) r.event(e);
    r.end({ ok: false, error: new Error('x'), canceled: false });
    const lines = term.lines();
    expect(lines.slice(0, 3)).toEqual([
      ' => CACHED [stage-1 1/2] WORKDIR /app',
      expect.stringMatching(/^ => ERROR \[stage-1 2\/2\] RUN exit 3 +0\.0s$/),
      '    process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
    ]);
    expect(lines[3]).toMatch(/Build failed after 0\.0s: \[stage-1 2\/2\] RUN exit 3$/);
    expect(lines.slice(4)).toEqual(['------', ' > [stage-1 2/2] RUN exit 3:', 'about to fail', '------']);
  });

  it('says canceled when interrupted', async () => {
    const { term, r } = await tty();
    r.event({ type: 'step-start', step: FAIL, time: 0 });
    r.event({ type: 'step-start', step: RUN, time: 0 });
    r.cancel();
    r.event({ type: 'step-error', step: FAIL, code: 'TSB_INTERNAL', message: 'aborted', time: 0 });
    expect(r.end({ ok: false, error: new Error('x'), canceled: true })).toBe(true);
    const lines = term.lines();
    expect(lines.slice(0, 2)).toEqual([
      ' => CANCELED [stage-1 2/2] RUN exit 3',
      ' => CANCELED [base 2/2] RUN echo hi && echo err >&2',
    ]);
    expect(lines).toHaveLength(4);
    expect(lines.at(-2)).toMatch(/Canceled after 0\.0s \(0 steps, 0 cached\)$/);
    expect(lines.at(-1)).toBe('canceled');
  });

  it('clips long step names to the terminal width', async () => {
    const { term, r } = await tty();
    const long = step(9, '', 1, 1, `RUN ${'x'.repeat(200)}`);
    const events: BuildEvent[] = [
      { type: 'step-start', step: long, time: 0 },
      { type: 'step-done', step: long, cached: false, durationMs: 1234, time: 0 },
    ];
    for (const e of events) r.event(e);
    r.end({ ok: true });
    expect(term.lines()[1]).toMatch(/Built in 0\.0s \(1 step, 0 cached\)$/);
    const first = term.lines()[0] as string;
    expect(first.length).toBeLessThanOrEqual(term.columns);
    expect(first).toMatch(/x… +1\.2s$/);
  });
});
