import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type BuildEvent, type BuildOptions, build } from '../../../builder/index.js';
import { importRootfs, openImageStore } from '../../../image/index.js';
import { busyboxFixture, requireRoot } from '../../helpers/prereqs.js';

/** A temp dir under /var/tmp with a store root in it, busybox imported as `tsbuild-busybox:latest`. */
export async function makeBuilderStore(prefix: string): Promise<{ dir: string; root: string }> {
  requireRoot();
  const dir = mkdtempSync(`/var/tmp/${prefix}`);
  const root = join(dir, 'root');
  const { tar } = busyboxFixture();
  await importRootfs(openImageStore(root), { kind: 'file', path: tar }, { reference: 'tsbuild-busybox:latest' });
  return { dir, root };
}

/** A context directory under `parent` with these files (names may hold directories; a `Dockerfile` among them). */
export function makeContext(parent: string, files: Record<string, string>): string {
  const ctx = mkdtempSync(join(parent, 'ctx-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(ctx, name)), { recursive: true });
    writeFileSync(join(ctx, name), content);
  }
  return ctx;
}

type StepDone = Extract<BuildEvent, { type: 'step-done' }>;

/** Runs `build()` and collects its events: every step's end, and the RUN output. */
export async function buildCollecting(options: BuildOptions) {
  const events: BuildEvent[] = [];
  const result = await build(options, (e) => events.push(e));
  const done = events.filter((e): e is StepDone => e.type === 'step-done');
  const logs = events
    .filter((e): e is Extract<BuildEvent, { type: 'step-log' }> => e.type === 'step-log')
    .map((e) => e.data);
  return { result, events, done, logs, cached: (name: string) => done.find((d) => d.step.name === name)?.cached };
}

/** Mount points under `prefix`, or under this process's build mount dirs, that are still mounted. */
export function leftoverMounts(prefix: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(prefix) || m.startsWith(`/run/tsbuild/build/${process.pid}.`));
}
