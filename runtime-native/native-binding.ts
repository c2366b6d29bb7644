import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '../load-addon.js';
import { RuntimeError } from './errors.js';
import type { NativeAddon } from './native.js';

export interface LoadedNative {
  addon: NativeAddon;
  /** The sealed memfd holding tsbuild-init. */
  helperFd: number;
}

let loaded: LoadedNative | undefined;

/** The directories searched for the built addon and helper, from source and from dist/. */
function candidateDirs(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const dirs: string[] = [];
  if (process.env.TSBUILD_NATIVE_DIR) dirs.push(process.env.TSBUILD_NATIVE_DIR);
  for (const base of [here, join(here, '..', '..', 'runtime-native')]) {
    dirs.push(join(base, 'build', 'Release'), join(base, 'build', 'Debug'));
  }
  return dirs;
}

/** Loads the addon and seals the helper, once. This is the only importer of the .node file. */
export function loadNative(): LoadedNative {
  if (loaded) return loaded;
  const dirs = candidateDirs();
  const dir = dirs.find((d) => existsSync(join(d, 'tsbuild_native.node')) && existsSync(join(d, 'tsbuild-init')));
  if (!dir) {
    throw new RuntimeError(
      'TSB_RUNTIME_NATIVE',
      `the native runtime is not built (looked in ${dirs.join(', ')}): run npm run install or node-gyp rebuild --directory runtime-native`,
    );
  }
  const addon = loadAddon<NativeAddon>(join(dir, 'tsbuild_native.node'));
  const helperFd = addon.sealHelper(join(dir, 'tsbuild-init'));
  loaded = { addon, helperFd };
  return loaded;
}
