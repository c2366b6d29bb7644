import type { BuildEvent, StepRef } from '../../../builder/types.js';

/** A step as the solver numbers it: `[stage position/total] name` on line `line`. */
export function step(id: number, stage: string, position: number, total: number, name: string, line = id): StepRef {
  return {
    id,
    stage,
    position,
    total,
    name,
    file: '/ctx/Dockerfile',
    range: { start: { line, column: 1 }, end: { line, column: name.length } },
  };
}

export const FROM = step(1, 'base', 1, 2, 'FROM docker.io/library/busybox:latest');
export const RUN = step(2, 'base', 2, 2, 'RUN echo hi && echo err >&2', 3);
export const WORKDIR = step(3, 'stage-1', 1, 2, 'WORKDIR /app', 5);
export const FAIL = step(4, 'stage-1', 2, 2, 'RUN exit 3', 7);

const T0 = 1_700_000_000_000;

/**
 * A successful two-stage build: a cached FROM, a RUN with output, a cached WORKDIR, the export.
 * As the builder sends them, each step-log event is one line without its newline.
 */
export function successfulBuild(): BuildEvent[] {
  return [
    { type: 'build-start', buildId: 'b1', file: '/ctx/Dockerfile', steps: 4, time: T0 },
    { type: 'step-cached', step: FROM, time: T0 + 5 },
    { type: 'step-done', step: FROM, cached: true, durationMs: 0, time: T0 + 5 },
    { type: 'step-start', step: RUN, time: T0 + 10 },
    { type: 'step-log', step: RUN, stream: 'stderr', data: 'err', time: T0 + 355 },
    { type: 'step-log', step: RUN, stream: 'stdout', data: 'hi', time: T0 + 356 },
    { type: 'step-log', step: RUN, stream: 'stdout', data: '', time: T0 + 356 },
    { type: 'step-log', step: RUN, stream: 'stdout', data: 'bye', time: T0 + 657 },
    { type: 'step-done', step: RUN, cached: false, durationMs: 700, time: T0 + 710 },
    { type: 'step-cached', step: WORKDIR, time: T0 + 711 },
    { type: 'step-done', step: WORKDIR, cached: true, durationMs: 0, time: T0 + 711 },
    { type: 'export', phase: 'layers', detail: '2 layers', time: T0 + 800 },
    { type: 'export', phase: 'config', detail: 'sha256:abc', time: T0 + 900 },
    { type: 'export', phase: 'naming', detail: 'docker.io/library/x:latest', time: T0 + 905 },
    {
      type: 'build-done',
      imageId: 'sha256:abc',
      digest: 'sha256:def',
      names: ['docker.io/library/x:latest'],
      durationMs: 910,
      cachedSteps: 2,
      steps: 3,
      time: T0 + 910,
    },
  ];
}

/** A build whose last RUN fails with exit code 3 after printing a line. */
export function failedBuild(): BuildEvent[] {
  return [
    { type: 'build-start', buildId: 'b2', file: '/ctx/Dockerfile', steps: 2, time: T0 },
    { type: 'step-cached', step: WORKDIR, time: T0 + 1 },
    { type: 'step-done', step: WORKDIR, cached: true, durationMs: 0, time: T0 + 1 },
    { type: 'step-start', step: FAIL, time: T0 + 100 },
    { type: 'step-log', step: FAIL, stream: 'stdout', data: 'about to fail', time: T0 + 356 },
    {
      type: 'step-error',
      step: FAIL,
      code: 'TSB_BUILD_RUN_FAILED',
      message: 'process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
      exitCode: 3,
      time: T0 + 400,
    },
  ];
}

/** Collects what a renderer writes. */
export function sink(
  extra: { isTTY?: boolean; columns?: number } = {},
): { write(s: string): boolean; text(): string } & typeof extra {
  const chunks: string[] = [];
  return {
    ...extra,
    write(s: string) {
      chunks.push(s);
      return true;
    },
    text: () => chunks.join(''),
  };
}
