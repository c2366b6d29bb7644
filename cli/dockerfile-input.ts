import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { rememberSource } from './sources.js';

/** Reads the Dockerfile named by `-f` (`-` is stdin) and remembers it for code frames. */
export function readDockerfile(file: string): { name: string; text: string } {
  const name = file === '-' ? '<stdin>' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new UsageError(`cannot read Dockerfile ${name}: ${why}`, { flag: '--file', cause: err });
  }
  rememberSource(name, text);
  return { name, text };
}

/** `--build-arg KEY=value` flags as a record; a flag without `=` is a usage error naming it. */
export function parseBuildArgs(flags: readonly string[] | undefined): Record<string, string> {
  const buildArgs: Record<string, string> = {};
  for (const kv of flags ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid --build-arg "${kv}": expected KEY=value`, { flag: '--build-arg' });
    buildArgs[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return buildArgs;
}
