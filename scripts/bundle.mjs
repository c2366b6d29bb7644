// Bundles the CLI into dist/bin/: cli.cjs (every module and dependency in one
// CommonJS script, lazily initialised modules for lazy imports) and main.cjs (the
// entry point, cli/loader.cts: runs cli.cjs from a V8 code cache). Loading ~200
// ES modules, or a dozen chunks through Node's ESM loader, costs more than
// compiling one script, and a code cache takes most of the compile away.
// dist/bin/ sits at the same depth as dist/<module>/, so the native addons' paths
// (relative to the bundle) resolve the same from it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

// The build ID: a digest of the compiled sources, so that caches keyed by it (the
// builder's graph cache, the code caches) are never read by another version of tsbuild.
const hash = createHash('sha256');
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== join('dist', 'bin')) walk(p);
    } else if (e.name.endsWith('.js') || e.name.endsWith('.cjs')) hash.update(p).update(readFileSync(p));
  }
};
walk('dist');
const buildId = hash.digest('hex').slice(0, 16);
const { commands } = await import('../dist/cli/commands/index.js');

// parser/syntax/chevrotain.js picks Chevrotain's single-file build with a top-level
// await (for the unbundled dist/); the bundle names that file statically.
const chevrotain = join(dirname(createRequire(import.meta.url).resolve('chevrotain')), '..', 'chevrotain.min.mjs');
const staticChevrotain = {
  name: 'static-chevrotain',
  setup(b) {
    b.onLoad({ filter: /[/\\]parser[/\\]syntax[/\\]chevrotain\.js$/ }, () => ({
      contents: `export { createToken, Lexer } from ${JSON.stringify(chevrotain)};`,
      loader: 'js',
    }));
  },
};

// Node's heavier builtins load on first use, not when a module that imports them is
// initialised: a cached build or a container start never touches most of them
// (node:crypto alone is ~4 ms of Node 20's start-up, child_process with net ~4 ms).
// Each becomes a module of getters over the real one, named at bundle time.
const LAZY_BUILTINS = [
  'child_process',
  'crypto',
  'fs/promises',
  'http',
  'https',
  'net',
  'readline',
  'stream/promises',
  'tls',
  'worker_threads',
  'zlib',
];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|').replaceAll('/', '\\/')})$`);
    b.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const names = Object.keys(createRequire(import.meta.url)(`node:${args.path}`)).filter((n) => n !== 'default');
      return {
        loader: 'js',
        contents: [
          'let real;',
          `const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));`,
          `for (const name of ${JSON.stringify(names)})`,
          '  Object.defineProperty(module.exports, name, { enumerable: true, get: () => load()[name] });',
          "Object.defineProperty(module.exports, 'default', { get: load });",
        ].join('\n'),
      };
    });
  },
};

await build({
  entryPoints: { cli: 'dist/cli/main.js' },
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bin',
  // better-sqlite3 is given its addon's path (metadata/db.ts); `bindings` is its fallback search.
  external: ['bindings'],
  plugins: [staticChevrotain, lazyBuiltins],
  // Plain ASCII (the loader reads it as latin1, Node's fastest decode) without comments or indentation.
  charset: 'ascii',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  banner: { js: "var __tsbuildUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__tsbuildUrl', __TSBUILD_BUILD_ID__: JSON.stringify(buildId) },
  logLevel: 'warning',
});

// The loader compiles the bundle as a script with no dynamic import() support: every
// module must be bundled (Node's builtins as static imports).
if (/\bimport\(/.test(readFileSync('dist/bin/cli.cjs', 'latin1'))) {
  throw new Error('dist/bin/cli.cjs has a dynamic import() left: import Node builtins statically');
}

await build({
  entryPoints: { main: 'dist/cli/loader.cjs' },
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bin',
  banner: { js: '#!/usr/bin/env node' },
  define: {
    __TSBUILD_BUILD_ID__: JSON.stringify(buildId),
    __TSBUILD_COMMANDS__: JSON.stringify(commands.map((c) => c.name)),
  },
  logLevel: 'warning',
});
