import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveDest } from '../../../../parser/dag/index.js';

/** BuildKit's pathRelativeToWorkingDir, written with `posix` only (the graph takes a quicker path for clean paths). */
function reference(workdir: string, dest: string): string {
  let p = dest;
  if (p === '' || p === '.') p = './';
  const keepSlash = p.endsWith('/') || p.endsWith('/.');
  let out = posix.isAbsolute(p) ? posix.normalize(p) : posix.join('/', workdir, p);
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return keepSlash && out !== '/' ? `${out}/` : out;
}

const segment = fc.constantFrom('', '.', '..', '...', 'a', 'bc', '.x', 'x.', 'a b');
const path = fc.array(segment, { maxLength: 5 }).map((s) => s.join('/'));
const rooted = fc.tuple(fc.boolean(), path).map(([abs, p]) => (abs ? `/${p}` : p));

describe('resolveDest', () => {
  it('resolves COPY destinations against WORKDIR as posix.join and normalize do', () => {
    expect(resolveDest('/app', 'x')).toBe('/app/x');
    expect(resolveDest('/app', 'x/')).toBe('/app/x/');
    expect(resolveDest('/', '.')).toBe('/');
    expect(resolveDest('/app/', 'a/../b')).toBe('/app/b');
    expect(resolveDest('/a', '/b//c/.')).toBe('/b/c/');
  });

  it('matches the posix reference for any workdir and destination', () => {
    fc.assert(
      fc.property(rooted, rooted, (workdir, dest) => {
        expect(resolveDest(workdir, dest)).toBe(reference(workdir, dest));
      }),
      { numRuns: 2000 },
    );
  });
});
