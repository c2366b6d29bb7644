import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Chevrotain, loaded from its single-file bundle when it is there. The
 * package's entry point is hundreds of small ES modules (its lodash-es
 * dependency) and takes ~0.4 s to load; the bundle loads in ~10 ms, which
 * keeps `tsbuild parse` well under its start-up budget.
 */
async function load(): Promise<typeof import('chevrotain')> {
  try {
    const entry = createRequire(import.meta.url).resolve('chevrotain');
    return (await import(
      pathToFileURL(join(dirname(entry), '..', 'chevrotain.min.mjs')).href
    )) as typeof import('chevrotain');
  } catch {
    return import('chevrotain');
  }
}

const chevrotain = await load();

export const { createToken, Lexer } = chevrotain;
export type { IToken, TokenType } from 'chevrotain';
export type Lexer = import('chevrotain').Lexer;
