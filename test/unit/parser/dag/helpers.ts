import {
  type BuildGraph,
  type BuildGraphOptions,
  baseImageRefs,
  type RunStep,
  type Step,
  toBuildGraph,
} from '../../../../parser/dag/index.js';
import { parseDockerfileOrThrow } from '../../../../parser/parse-dockerfile.js';

export const AMD64 = { os: 'linux', architecture: 'amd64' };
export const ARM64 = { os: 'linux', architecture: 'arm64' };

/** The graph of a Dockerfile text, for linux/amd64 on linux/amd64 unless told otherwise. */
export function graph(text: string, options: BuildGraphOptions = {}): BuildGraph {
  const ast = parseDockerfileOrThrow(text, { filename: 'Dockerfile' });
  return toBuildGraph(ast, { platform: AMD64, buildPlatform: AMD64, ...options });
}

export function refs(text: string, options: BuildGraphOptions = {}) {
  const ast = parseDockerfileOrThrow(text, { filename: 'Dockerfile' });
  return baseImageRefs(ast, { platform: AMD64, buildPlatform: AMD64, ...options });
}

/** The steps of the target stage. */
export function targetSteps(g: BuildGraph): Step[] {
  return g.stages.find((s) => s.index === g.target)!.steps;
}

/** The last RUN step of the target stage. */
export function lastRun(g: BuildGraph): RunStep {
  const runs = targetSteps(g).filter((s): s is RunStep => s.op === 'run');
  return runs[runs.length - 1]!;
}

/** The value of KEY in a `KEY=value` list, undefined when absent. */
export function envValue(env: string[], key: string): string | undefined {
  const e = env.find((x) => x.startsWith(`${key}=`));
  return e === undefined ? undefined : e.slice(key.length + 1);
}

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
export function thrown(fn: () => unknown): { code: string; message: string; ranges: { start: { line: number } }[] } {
  try {
    fn();
  } catch (err) {
    return err as never;
  }
  throw new Error('expected an error');
}
