// Bundles the CLI into dist/bin/ (one ES module per lazily loaded command, shared
// chunks): loading ~200 small modules costs more than compiling one bundle.
// dist/bin/ sits at the same depth as dist/<module>/, so the native addons' paths
// (relative to import.meta.url) resolve the same from the bundle.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

// The build ID: a digest of the compiled sources, so that caches keyed by it (the
// builder's graph cache) are never read by another version of tsbuild.
const hash = createHash('sha256');
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== join('dist', 'bin')) walk(p);
    } else if (e.name.endsWith('.js')) hash.update(p).update(readFileSync(p));
  }
};
walk('dist');

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
  define: { __TSBUILD_BUILD_ID__: JSON.stringify(hash.digest('hex').slice(0, 16)) },
  logLevel: 'warning',
});
