import { describe, expect, it } from 'vitest';
import { DestinationError, planCopy, resolveDestination, sourceName } from './helpers.js';

describe('COPY destination rules', () => {
  const rows: Array<[string, string, string, boolean]> = [
    // dest, workdir, path, isDir
    ['/app', '/', '/app', false],
    ['/app/', '/', '/app', true],
    ['/app/.', '/', '/app', true],
    ['app', '/srv', '/srv/app', false],
    ['app/', '/srv', '/srv/app', true],
    ['.', '/srv', '/srv', true],
    ['', '/srv', '/srv', true],
    ['./', '/srv', '/srv', true],
    ['..', '/srv/x', '/srv', false],
    ['../y/', '/srv/x', '/srv/y', true],
    ['/', '/srv', '/', true],
    ['//a//b/', '/', '/a/b', true],
    ['x', 'rel', '/rel/x', false],
  ];
  it.each(rows)('COPY src %j with WORKDIR %j goes to %j (directory: %s)', (dest, workdir, path, isDir) => {
    expect(resolveDestination(dest, workdir)).toEqual({ path, isDir });
  });

  it('a file into a directory destination keeps its name', () => {
    expect(planCopy([{ name: 'a.txt', isDir: false }], resolveDestination('/app/'))).toEqual([
      { target: '/app/a.txt', contents: false },
    ]);
  });

  it('a file onto a path without a slash is written at that path', () => {
    expect(planCopy([{ name: 'a.txt', isDir: false }], resolveDestination('/app/b.txt'))).toEqual([
      { target: '/app/b.txt', contents: false },
    ]);
  });

  it('a file onto an existing directory goes inside it', () => {
    expect(planCopy([{ name: 'a', isDir: false }], resolveDestination('/app'), { existing: 'dir' })).toEqual([
      { target: '/app/a', contents: false },
    ]);
  });

  it('a directory copies its contents into the destination', () => {
    expect(planCopy([{ name: 'src', isDir: true }], resolveDestination('/app'))).toEqual([
      { target: '/app', contents: true },
    ]);
  });

  it('several sources without a slash: BuildKit copies them one after another', () => {
    expect(
      planCopy(
        [
          { name: 'a', isDir: false },
          { name: 'b', isDir: false },
        ],
        resolveDestination('/dst'),
      ),
    ).toEqual([
      { target: '/dst', contents: false },
      { target: '/dst', contents: false },
    ]);
    expect(
      planCopy(
        [
          { name: 'd', isDir: true },
          { name: 'a', isDir: false },
        ],
        resolveDestination('/dst'),
      ),
    ).toEqual([
      { target: '/dst', contents: true },
      { target: '/dst/a', contents: false },
    ]);
  });

  it('a directory after a file onto the same path is an error, as in BuildKit', () => {
    expect(() =>
      planCopy(
        [
          { name: 'a', isDir: false },
          { name: 'd', isDir: true },
        ],
        resolveDestination('/dst'),
      ),
    ).toThrow('cannot copy to non-directory: /dst');
    expect(() => planCopy([{ name: 'd', isDir: true }], resolveDestination('/f'), { existing: 'file' })).toThrow(
      DestinationError,
    );
  });

  it('the classic builder rule is available for several sources', () => {
    const two = [
      { name: 'a', isDir: false },
      { name: 'b', isDir: false },
    ];
    expect(() =>
      planCopy(two, resolveDestination('/dst'), { strictMultipleSources: true, instruction: 'ADD' }),
    ).toThrow('when using ADD with more than one source file, the destination must be a directory and end with a /');
    expect(planCopy(two, resolveDestination('/dst/'), { strictMultipleSources: true })).toHaveLength(2);
  });

  it('--parents puts the source tree under the destination directory', () => {
    expect(planCopy([{ name: '.', isDir: true, parents: true }], resolveDestination('/app/'))).toEqual([
      { target: '/app', contents: true },
    ]);
  });

  it('a source is named by the last element of its matched path', () => {
    expect(sourceName('a/b/c.txt')).toBe('c.txt');
    expect(sourceName('c.txt')).toBe('c.txt');
    expect(sourceName('a/b/')).toBe('b');
    expect(sourceName('.')).toBe('.');
  });
});
