/**
 * Loads a native addon (a `.node` file) by path, once per process: what
 * `require()` does for one, without `createRequire` and node:module's loaders.
 * The cache is shared by every copy of this module in the process (the CLI
 * bundle and dist/ may both be loaded, as in tests), so a file is opened once.
 */
const ADDONS = Symbol.for('tsbuild.addons');

export function loadAddon<T>(file: string): T {
  const g = globalThis as { [ADDONS]?: Map<string, unknown> };
  g[ADDONS] ??= new Map();
  const cache = g[ADDONS];
  if (!cache.has(file)) {
    const module = { exports: {} };
    process.dlopen(module, file);
    cache.set(file, module.exports);
  }
  return cache.get(file) as T;
}
