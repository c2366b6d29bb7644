import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey } from '../../../builder/cache.js';
import { BuildContext, MemoryStatCache, parseDockerignore } from '../../../builder/context/index.js';
import { hiddenPaths, selectBindSource } from '../../../builder/ops/context-mount.js';
import { runInputs } from '../../../builder/ops/run-mounts.js';
import { parseDockerfileOrThrow, type RunStep, toBuildGraph } from '../../../parser/index.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };

let dir: string;
let ctxDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-run-mounts-'));
  ctxDir = join(dir, 'ctx');
  mkdirSync(ctxDir);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(ctxDir, p)), { recursive: true });
    writeFileSync(join(ctxDir, p), content);
  }
}

function context(ignore?: string): BuildContext {
  return new BuildContext(ctxDir, ignore === undefined ? {} : { ignore: parseDockerignore(ignore).matcher });
}

/** The last RUN of a one-stage Dockerfile. */
function runStep(line: string): RunStep {
  const ast = parseDockerfileOrThrow(`FROM scratch\n${line}\n`, { filename: 'Dockerfile' });
  const graph = toBuildGraph(ast, { platform: AMD64, buildPlatform: AMD64 });
  const steps = graph.stages.at(-1)?.steps ?? [];
  return steps.filter((s): s is RunStep => s.op === 'run').at(-1) as RunStep;
}

/** The RUN's cache key over a fresh view of the context (as a new build sees it). */
async function keyOf(line: string, ignore?: string): Promise<string> {
  const inputs = await runInputs(runStep(line), {
    stageKey: async (i) => `stage-${i}`,
    context: context(ignore),
    statCache: new MemoryStatCache(),
  });
  return cacheKey('parent', inputs);
}

describe('RUN --mount=type=bind cache key', () => {
  const bindSub = 'RUN --mount=type=bind,source=sub,target=/m ls /m';

  it('a change inside the mounted path changes the key', async () => {
    tree({ 'sub/a.txt': 'one', 'other.txt': 'x' });
    const before = await keyOf(bindSub);
    tree({ 'sub/a.txt': 'two' });
    expect(await keyOf(bindSub)).not.toBe(before);
  });

  it('a change elsewhere in the context keeps the key', async () => {
    tree({ 'sub/a.txt': 'one', 'other.txt': 'x' });
    const before = await keyOf(bindSub);
    tree({ 'other.txt': 'y', 'new.txt': 'z' });
    expect(await keyOf(bindSub)).toBe(before);
  });

  it('a file added inside the mounted directory changes the key', async () => {
    tree({ 'sub/a.txt': 'one' });
    const before = await keyOf(bindSub);
    tree({ 'sub/deep/b.txt': 'two' });
    expect(await keyOf(bindSub)).not.toBe(before);
  });

  it('a change to an ignored file inside the mounted path keeps the key', async () => {
    tree({ 'sub/a.txt': 'one', 'sub/x.log': 'log' });
    const before = await keyOf(bindSub, '**/*.log\n');
    tree({ 'sub/x.log': 'more log' });
    expect(await keyOf(bindSub, '**/*.log\n')).toBe(before);
  });

  it('the whole context (no source) is keyed by all of it', async () => {
    tree({ 'sub/a.txt': 'one', 'other.txt': 'x' });
    const line = 'RUN --mount=type=bind,target=/m ls /m';
    const before = await keyOf(line);
    tree({ 'other.txt': 'y' });
    expect(await keyOf(line)).not.toBe(before);
  });

  it('a single-file source is keyed by that file only', async () => {
    tree({ 'a.txt': 'one', 'b.txt': 'x' });
    const line = 'RUN --mount=type=bind,source=a.txt,target=/a.txt cat /a.txt';
    const before = await keyOf(line);
    tree({ 'b.txt': 'y' });
    expect(await keyOf(line)).toBe(before);
    tree({ 'a.txt': 'two' });
    expect(await keyOf(line)).not.toBe(before);
  });

  it('a readwrite bind is keyed by content too', async () => {
    tree({ 'sub/a.txt': 'one' });
    const line = 'RUN --mount=type=bind,source=sub,target=/m,rw ls /m';
    const before = await keyOf(line);
    tree({ 'sub/a.txt': 'two' });
    expect(await keyOf(line)).not.toBe(before);
  });

  it('a RUN without context binds has no content inputs', async () => {
    const inputs = await runInputs(runStep('RUN --mount=type=cache,target=/c true'), {
      stageKey: async () => 'x',
      context: context(),
      statCache: new MemoryStatCache(),
    });
    expect(inputs.content).toBeUndefined();
  });
});

describe('RUN --mount=type=bind source selection', () => {
  it('a missing source fails as BuildKit does', async () => {
    tree({ 'a.txt': 'one' });
    await expect(keyOf('RUN --mount=type=bind,source=nope,target=/m true')).rejects.toMatchObject({
      code: 'TSB_BUILD_MOUNT_SOURCE',
      message: 'failed to compute cache key: "/nope" not found in the build context',
    });
  });

  it('an ignored source is missing', async () => {
    tree({ 'secret/key': 'k', 'a.txt': 'one' });
    await expect(keyOf('RUN --mount=type=bind,source=secret,target=/m true', 'secret\n')).rejects.toMatchObject({
      code: 'TSB_BUILD_MOUNT_SOURCE',
    });
  });

  it('the source is a literal path: wildcard characters are not patterns', async () => {
    tree({ 'a*.txt': 'star', 'ab.txt': 'b' });
    const selected = await selectBindSource(context(), '/a*.txt');
    expect(selected.root.absPath).toBe(join(ctxDir, 'a*.txt'));
  });

  it('a symlink source is followed inside the context', async () => {
    tree({ 'real/a.txt': 'one' });
    symlinkSync('/real', join(ctxDir, 'link'));
    const selected = await selectBindSource(context(), '/link');
    expect(selected.root.type).toBe('dir');
    expect(selected.root.absPath).toBe(join(ctxDir, 'real'));
  });
});

describe('hiddenPaths', () => {
  it('lists the ignored entries at the top of each ignored subtree', async () => {
    tree({
      'a.txt': 'a',
      'x.log': 'x',
      'sub/s.txt': 's',
      'sub/y.log': 'y',
      'sub/deep/keep.log': 'k',
      'sub/deep/z.log': 'z',
      'node_modules/m/index.js': 'm',
      Dockerfile: 'FROM scratch',
    });
    const ctx = context('**/*.log\n!sub/deep/keep.log\nnode_modules\nDockerfile\n');
    const root = await selectBindSource(ctx, '/');
    expect(hiddenPaths(ctx, root).sort()).toEqual(
      ['Dockerfile', 'node_modules', 'sub/deep/z.log', 'sub/y.log', 'x.log'].sort(),
    );
    const sub = await selectBindSource(ctx, '/sub');
    expect(hiddenPaths(ctx, sub).sort()).toEqual(['deep/z.log', 'y.log']);
  });

  it('an ignored directory that holds an exception stays, without its other entries', async () => {
    tree({ 'dir/keep.txt': 'k', 'dir/drop.txt': 'd', 'dir/inner/drop2.txt': 'd' });
    const ctx = context('dir\n!dir/keep.txt\n');
    const root = await selectBindSource(ctx, '/');
    expect(hiddenPaths(ctx, root).sort()).toEqual(['dir/drop.txt', 'dir/inner']);
  });

  it('nothing is hidden without a .dockerignore or for a file', async () => {
    tree({ 'a.txt': 'a', 'sub/b.txt': 'b' });
    const plain = context();
    expect(hiddenPaths(plain, await selectBindSource(plain, '/'))).toEqual([]);
    const ignoring = context('sub/b.txt\n');
    expect(hiddenPaths(ignoring, await selectBindSource(ignoring, '/a.txt'))).toEqual([]);
  });
});
