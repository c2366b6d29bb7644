// Bundles the CLI into dist/bin/ (one ES module per lazily loaded command, shared
// chunks): loading ~200 small modules costs more than compiling one bundle.
// dist/bin/ sits at the same depth as dist/<module>/, so the native addons' paths
// (relative to import.meta.url) resolve the same from the bundle.
import { build } from 'esbuild';

await build({
  entryPoints: { main: 'dist/cli/main.js' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bin',
  chunkNames: '[name]-[hash]',
  // Native addons and packages loaded by path stay in node_modules.
  external: ['better-sqlite3', 'chevrotain', 'ora'],
  banner: {
    js: "import { createRequire as __tsbuildRequire } from 'node:module'; const require = __tsbuildRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
