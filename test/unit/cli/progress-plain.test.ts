import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../../builder/types.js';
import { humanSize, logLines, warningSummary } from '../../../cli/render/progress.js';
import { PlainRenderer } from '../../../cli/render/progress-plain.js';
import { TsbuildError } from '../../../errors.js';
import { FAIL, failedBuild, RUN, sink, step, successfulBuild } from './progress-events.js';

function render(events: BuildEvent[], outcome: Parameters<PlainRenderer['end']>[0] = { ok: true }) {
  const out = sink();
  const r = new PlainRenderer(out);
  for (const e of events) r.event(e);
  const reported = r.end(outcome);
  return { text: out.text(), reported };
}

describe('plain progress', () => {
  it('prints steps, timed log lines, CACHED, DONE and the export as BuildKit does', () => {
    expect(render(successfulBuild()).text).toBe(
      [
        '#1 [base 1/2] FROM docker.io/library/busybox:latest',
        '#1 CACHED',
        '',
        '#2 [base 2/2] RUN echo hi && echo err >&2',
        '#2 0.345 err',
        '#2 0.346 hi',
        '#2 0.346 ',
        '#2 0.647 bye',
        '#2 DONE 0.7s',
        '',
        '#3 [stage-1 1/2] WORKDIR /app',
        '#3 CACHED',
        '',
        '#4 exporting to image',
        '#4 exporting layers 2 layers 0.0s done',
        '#4 writing image sha256:abc done',
        '#4 naming to docker.io/library/x:latest done',
        '#4 DONE 0.1s',
        '',
      ].join('\n'),
    );
  });

  it('prints a failed RUN with ERROR and repeats its last output in the block after the build', () => {
    const error = new TsbuildError('TSB_BUILD_RUN_FAILED', 'failed');
    const { text, reported } = render(failedBuild(), { ok: false, error, canceled: false });
    expect(text).toBe(
      [
        '#3 [stage-1 1/2] WORKDIR /app',
        '#3 CACHED',
        '',
        '#4 [stage-1 2/2] RUN exit 3',
        '#4 0.256 about to fail',
        '#4 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
        '------',
        ' > [stage-1 2/2] RUN exit 3:',
        '0.256 about to fail',
        '------',
        '',
      ].join('\n'),
    );
    // The CLI prints the error itself (with its code frame).
    expect(reported).toBe(false);
  });

  it('repeats the header when output switches between steps running at once', () => {
    const a = step(1, 'a', 1, 1, 'RUN a');
    const b = step(2, 'b', 1, 1, 'RUN b');
    const events: BuildEvent[] = [
      { type: 'step-start', step: a, time: 0 },
      { type: 'step-start', step: b, time: 10 },
      { type: 'step-log', step: a, stream: 'stdout', data: 'from a', time: 1000 },
      { type: 'step-log', step: b, stream: 'stdout', data: 'from b', time: 1010 },
      { type: 'step-done', step: a, cached: false, durationMs: 1100, time: 1100 },
      { type: 'step-done', step: b, cached: false, durationMs: 1200, time: 1210 },
    ];
    expect(render(events).text).toBe(
      [
        '#1 [a 1/1] RUN a',
        '#1 ...',
        '',
        '#2 [b 1/1] RUN b',
        '#2 ...',
        '',
        '#1 [a 1/1] RUN a',
        '#1 1.000 from a',
        '#1 ...',
        '',
        '#2 [b 1/1] RUN b',
        '#2 1.000 from b',
        '#2 ...',
        '',
        '#1 [a 1/1] RUN a',
        '#1 DONE 1.1s',
        '',
        '#2 [b 1/1] RUN b',
        '#2 DONE 1.2s',
        '',
      ].join('\n'),
    );
  });

  it('labels the steps of a single unnamed stage [i/n] and prints every line of long output', () => {
    const s = step(1, '', 2, 2, 'RUN seq 1 500');
    const logs: BuildEvent[] = Array.from({ length: 500 }, (_, i) => ({
      type: 'step-log',
      step: s,
      stream: 'stdout',
      data: `${i + 1}`,
      time: 5,
    }));
    const text = render([
      { type: 'step-start', step: s, time: 0 },
      ...logs,
      { type: 'step-done', step: s, cached: false, durationMs: 5, time: 5 },
    ]).text;
    expect(text.split('\n')[0]).toBe('#1 [2/2] RUN seq 1 500');
    expect(text).toContain('#1 0.005 1\n');
    expect(text).toContain('#1 0.005 500\n');
    expect(text.split('\n').filter((l) => l.startsWith('#1 0.005 '))).toHaveLength(500);
  });

  it('splits log data that holds several lines, a last newline ending the last one', () => {
    const text = render([
      { type: 'step-start', step: RUN, time: 0 },
      { type: 'step-log', step: RUN, stream: 'stdout', data: 'one\r\ntwo\n', time: 100 },
      { type: 'step-log', step: RUN, stream: 'stdout', data: 'three', time: 200 },
    ]).text;
    expect(text).toContain('#2 0.100 one\n#2 0.100 two\n#2 0.200 three\n');
  });

  it('shows the reason of a cache miss with --debug-cache and times output from the step start', () => {
    const text = render([
      { type: 'cache-miss', step: RUN, reason: 'file /app/a.txt differs', time: 0 },
      { type: 'step-start', step: RUN, time: 50 },
      { type: 'step-log', step: RUN, stream: 'stdout', data: 'x', time: 150 },
    ]).text;
    expect(text).toBe(
      '#2 [base 2/2] RUN echo hi && echo err >&2\n#2 cache miss: file /app/a.txt differs\n#2 0.100 x\n',
    );
  });

  it('lists warnings after the build as BuildKit does', () => {
    const text = render([
      {
        type: 'warning',
        message: 'one or more build-args [FOO] were not consumed',
        code: 'TSB_BUILD_UNUSED_ARG',
        time: 0,
      },
      {
        type: 'warning',
        message: "Usage of undefined variable '$X'",
        code: 'UndefinedVar',
        range: { start: { line: 3, column: 1 }, end: { line: 3, column: 4 } },
        time: 0,
      },
    ]).text;
    expect(text).toBe(
      "\n 2 warnings found:\n - one or more build-args [FOO] were not consumed\n - UndefinedVar: Usage of undefined variable '$X' (line 3)\n",
    );
  });

  it('marks running steps CANCELED and ends with canceled on Ctrl-C', () => {
    const { text, reported } = render(
      [
        { type: 'step-start', step: FAIL, time: 0 },
        { type: 'step-log', step: FAIL, stream: 'stdout', data: 'working', time: 10 },
      ],
      { ok: false, error: new Error('aborted'), canceled: true },
    );
    expect(text).toBe('#4 [stage-1 2/2] RUN exit 3\n#4 0.010 working\n#4 CANCELED\ncanceled\n');
    expect(reported).toBe(true);
  });

  it('prints a step that fails after Ctrl-C as CANCELED, without an error block', () => {
    const out = sink();
    const r = new PlainRenderer(out);
    r.event({ type: 'step-start', step: FAIL, time: 0 });
    r.cancel();
    r.event({ type: 'step-error', step: FAIL, code: 'TSB_INTERNAL', message: 'This operation was aborted', time: 5 });
    r.end({ ok: false, error: new Error('aborted'), canceled: true });
    expect(out.text()).toBe('#4 [stage-1 2/2] RUN exit 3\n#4 CANCELED\ncanceled\n');
  });

  it('prints the context transfer as an internal vertex', () => {
    const text = render([{ type: 'context', files: 3, bytes: 1234, cachedFiles: 1, time: 0 }]).text;
    expect(text).toBe('#0 [internal] load build context\n#0 transferring context: 1.234kB done\n');
  });

  it('prints an -o export in the export vertex', () => {
    const text = render([
      { type: 'export', phase: 'layers', detail: '1 layers', time: 0 },
      { type: 'export', phase: 'output', detail: 'oci out.tar', time: 300 },
    ]).text;
    expect(text).toBe(
      '#1 exporting to image\n#1 exporting layers 1 layers 0.0s done\n#1 exporting to oci out.tar 0.3s done\n',
    );
  });

  it('names the image at the end even without export events', () => {
    const text = render([
      {
        type: 'build-done',
        imageId: 'sha256:1',
        digest: 'sha256:2',
        names: ['docker.io/library/a:latest', 'docker.io/library/b:1'],
        durationMs: 1,
        cachedSteps: 0,
        steps: 0,
        time: 0,
      },
    ]).text;
    expect(text).toBe(
      [
        '#1 exporting to image',
        '#1 writing image sha256:1 done',
        '#1 naming to docker.io/library/a:latest done',
        '#1 naming to docker.io/library/b:1 done',
        '#1 DONE 0.0s',
        '',
      ].join('\n'),
    );
  });
});

describe('progress helpers', () => {
  it('formats sizes as go-units HumanSize', () => {
    expect([0, 192, 1000, 1234, 2_500_000, 123_456_789].map(humanSize)).toEqual([
      '0B',
      '192B',
      '1kB',
      '1.234kB',
      '2.5MB',
      '123.5MB',
    ]);
  });

  it('splits log data into lines', () => {
    expect(logLines('a')).toEqual(['a']);
    expect(logLines('')).toEqual(['']);
    expect(logLines('a\r\nb\n')).toEqual(['a', 'b']);
    expect(logLines('a\n\n')).toEqual(['a', '']);
  });

  it('counts one warning in the singular', () => {
    expect(warningSummary([{ type: 'warning', message: 'm', time: 0 }])).toEqual([' 1 warning found:', ' - m']);
  });
});
