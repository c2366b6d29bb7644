import { describe, expect, it } from 'vitest';
import { createProgressRenderer } from '../../../cli/render/progress.js';
import { JsonRenderer } from '../../../cli/render/progress-json.js';
import { PlainRenderer } from '../../../cli/render/progress-plain.js';
import { QuietRenderer } from '../../../cli/render/progress-quiet.js';
import { TsbuildError } from '../../../errors.js';
import { failedBuild, sink, successfulBuild } from './progress-events.js';

describe('json progress', () => {
  it('writes each event as one JSON line, exactly as build() emitted it', () => {
    const out = sink();
    const r = new JsonRenderer(out);
    const events = successfulBuild();
    for (const e of events) r.event(e);
    expect(r.end({ ok: true })).toBe(false);
    const lines = out.text().trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(events);
  });

  it('ends a failed build with a build-error line carrying the code and location', () => {
    const out = sink();
    const r = new JsonRenderer(out, () => 42);
    for (const e of failedBuild()) r.event(e);
    const range = { start: { line: 7, column: 1 }, end: { line: 7, column: 10 } };
    const error = new TsbuildError('TSB_BUILD_RUN_FAILED', 'exit code: 3', { file: 'Dockerfile', ranges: [range] });
    expect(r.end({ ok: false, error, canceled: false })).toBe(true);
    const last = JSON.parse(out.text().trimEnd().split('\n').at(-1) as string);
    expect(last).toEqual({
      type: 'build-error',
      canceled: false,
      code: 'TSB_BUILD_RUN_FAILED',
      message: 'exit code: 3',
      file: 'Dockerfile',
      ranges: [range],
      time: 42,
    });
  });

  it('reports a cancel as a build-error line with canceled set', () => {
    const out = sink();
    const r = new JsonRenderer(out, () => 1);
    r.end({ ok: false, error: new Error('x'), canceled: true });
    expect(JSON.parse(out.text())).toEqual({
      type: 'build-error',
      canceled: true,
      code: 'TSB_CANCELED',
      message: 'canceled',
      time: 1,
    });
  });
});

describe('quiet progress', () => {
  it('prints nothing for a successful build', () => {
    const out = sink();
    const r = new QuietRenderer(out);
    for (const e of successfulBuild()) r.event(e);
    r.end({ ok: true });
    expect(out.text()).toBe('');
  });

  it('prints the plain progress after a failed build, as docker build -q does', () => {
    const out = sink();
    const q = new QuietRenderer(out);
    const plainOut = sink();
    const p = new PlainRenderer(plainOut);
    const outcome = { ok: false as const, error: new Error('x'), canceled: false };
    for (const e of failedBuild()) {
      q.event(e);
      p.event(e);
    }
    q.end(outcome);
    p.end(outcome);
    expect(out.text()).toBe(plainOut.text());
    expect(out.text()).toContain('#4 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3');
  });
});

describe('createProgressRenderer', () => {
  it('picks plain for auto when the stream is not a terminal, and the named renderer otherwise', async () => {
    expect(await createProgressRenderer('auto', sink())).toBeInstanceOf(PlainRenderer);
    expect(await createProgressRenderer('plain', sink({ isTTY: true }))).toBeInstanceOf(PlainRenderer);
    expect(await createProgressRenderer('json', sink())).toBeInstanceOf(JsonRenderer);
    expect(await createProgressRenderer('quiet', sink())).toBeInstanceOf(QuietRenderer);
  });
});
