/**
 * The CLI's entry point, dist/bin/main.cjs: runs the CLI bundle (dist/bin/cli.cjs,
 * one CommonJS file) with a V8 code cache, one per command.
 *
 * Most of a short command's time is Node starting and compiling JavaScript. An ES
 * module entry costs Node's ESM loader (~8 ms here) and each chunk a round trip;
 * one CommonJS script compiled from a code cache costs neither. The cache is
 * written when a command first runs (or when V8 rejects it: another Node, other
 * flags) and holds the functions that command compiled, so each command's cache
 * is as small as its own path. Its name carries the bundle's build ID (a digest
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

function readCache(name: string): Buffer | undefined {
  for (const dir of cacheDirs()) {
    try {
      return readFileSync(join(dir, name));
    } catch {}
  }
  return undefined;
}

/** Writes the cache atomically into the first directory that takes it, and drops other builds' caches there. */
function writeCache(name: string, data: Buffer): void {
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
    for (const f of readdirSync(dir)) if (!f.includes(build)) rmSync(join(dir, f), { force: true });
    return;
  }
}

const name = `${commandOf(process.argv.slice(2))}-${__TSBUILD_BUILD_ID__}-${process.version}-${process.arch}.bin`;
const cachedData = readCache(name);
const script = new vm.Script(
  `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`,
  { filename: bundle, ...(cachedData ? { cachedData } : {}) },
);
if (cachedData === undefined || script.cachedDataRejected) {
  // At exit the cache also holds the functions compiled while the command ran.
  process.once('exit', () => writeCache(name, script.createCachedData()));
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
