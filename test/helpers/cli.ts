import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/bin/main.cjs', import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`dist/bin/main.cjs`: the loader of the CLI bundle, which package.json's bin, bin/tsbuild, starts) to completion. */
export function tsbuild(
  args: string[],
  options: { cwd?: string; input?: string; env?: Record<string, string>; timeout?: number } = {},
): CliResult {
  const r = spawnSync(process.execPath, ['--', CLI, ...args], {
    cwd: options.cwd,
    input: options.input,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
