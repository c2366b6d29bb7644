import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The store root: `--root DIR`, else `$TSBUILD_ROOT`, else `/var/lib/tsbuild` for
 * root, else `$XDG_DATA_HOME/tsbuild` (`~/.local/share/tsbuild`). Always absolute: a
 * relative `--root` is taken from the working directory (overlay and the sandbox need
 * absolute paths).
 */
export function resolveRoot(root?: string): string {
  if (root) return resolve(root);
  const env = process.env.TSBUILD_ROOT;
  if (env) return resolve(env);
  if (process.getuid?.() === 0) return '/var/lib/tsbuild';
  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'tsbuild');
}
