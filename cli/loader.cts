/**
 * The CLI's entry point, dist/bin/main.cjs: runs the CLI bundle (dist/bin/cli.cjs,
 * one CommonJS file) with a V8 code cache, one per command.
 *
 * Most of a short command's time is Node starting and compiling JavaScript. An ES
 * module entry costs Node's ESM loader (~8 ms here) and each chunk a round trip;
 * one CommonJS script compiled from a code cache costs neither. A command's
 * cache holds the functions it compiled (each command's is as small as its own
 * paths): it is written at the exit of the command's first GENERATIONS runs,
 * each time with what this run compiled on top of what the cache held (one run
 * may stop early, as a failed build, and the next take the whole path), and
 * again when V8 rejects it (another Node, other flags). Its name carries the
 * generation, the bundle's build ID (a digest
 * of its sources: V8 itself checks only the source's length), Node's version
 * and the architecture. It lives next to the bundle, else in the user's cache
 * directory; never in a shared temporary directory, whose files another user
 * could plant. A cache that cannot be read or written only costs the compile.
 */
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');

const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = fs;
const { join } = path;

declare const __TSBUILD_BUILD_ID__: string;
declare const __TSBUILD_COMMANDS__: string[];

const bundle = join(__dirname, 'cli.cjs');

/** The command a command line runs (build when the first word is none), as cli/main.ts reads it. */
function commandOf(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--root') i++;
    else if (a !== '--debug' && !a.startsWith('--root=')) return __TSBUILD_COMMANDS__.includes(a) ? a : 'build';
  }
  return 'help';
}

function cacheDirs(): string[] {
  const user = process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, '.cache') : undefined);
  return [join(__dirname, 'v8-cache'), ...(user ? [join(user, 'tsbuild', 'v8-cache')] : [])];
}

/** Runs whose exit writes the cache again (writing costs ~5 ms, so it stops). */
const GENERATIONS = 3;

const cacheName = (generation: number) =>
  `${commandOf(process.argv.slice(2))}-${__TSBUILD_BUILD_ID__}-${process.version}-${process.arch}.g${generation}.bin`;

/** The newest generation of this command's cache, if any. */
function readCache(): { data: Buffer; generation: number } | undefined {
  for (const dir of cacheDirs()) {
    for (let generation = GENERATIONS; generation > 0; generation--) {
      try {
        return { data: readFileSync(join(dir, cacheName(generation))), generation };
      } catch {}
    }
  }
  return undefined;
}

/** Writes the cache atomically into the first directory that takes it, and drops other builds' caches and older generations there. */
function writeCache(generation: number, data: Buffer): void {
  const name = cacheName(generation);
  for (const dir of cacheDirs()) {
    const tmp = join(dir, `.${name}.${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      writeFileSync(tmp, data, { mode: 0o644 });
      renameSync(tmp, join(dir, name));
    } catch {
      rmSync(tmp, { force: true });
      continue;
    }
    const build = `-${__TSBUILD_BUILD_ID__}-`;
    const older = new Set(Array.from({ length: GENERATIONS }, (_, i) => cacheName(i + 1)));
    older.delete(name);
    for (const f of readdirSync(dir)) {
      if (!f.includes(build) || older.has(f)) rmSync(join(dir, f), { force: true });
    }
    return;
  }
}

const cached = readCache();
const script = new vm.Script(
  `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`,
  { filename: bundle, ...(cached ? { cachedData: cached.data } : {}) },
);
const generation = cached === undefined || script.cachedDataRejected ? 1 : cached.generation + 1;
if (generation <= GENERATIONS) {
  // At exit the cache also holds the functions compiled while the command ran.
  process.once('exit', () => writeCache(generation, script.createCachedData()));
}
const cli = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void).call(
  cli.exports,
  cli.exports,
  require,
  cli,
  bundle,
  __dirname,
);
