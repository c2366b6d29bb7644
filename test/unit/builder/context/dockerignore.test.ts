import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BuildContext,
  compareNamesForTests,
  DockerignoreError,
  loadDockerignore,
  PatternMatcher,
  parseDockerignore,
  readIgnoreLines,
} from './helpers.js';
import { IGNORE_CASES, makeTree } from './ignore-cases.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-ignore-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function visibleWith(ignore: string): Promise<string[]> {
  makeTree(dir, ignore);
  const { matcher } = await loadDockerignore({ context: dir, dockerfile: join(dir, 'Dockerfile') });
  const [root] = await new BuildContext(dir, { ignore: matcher }).select(['.']);
  return (root?.entries ?? []).map((e) => e.path).sort(compareNamesForTests);
}

describe('.dockerignore matching (COPY . sees what Docker sends)', () => {
  it('has at least 40 cases', () => {
    expect(IGNORE_CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(IGNORE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await visibleWith(c.ignore)).toEqual([...c.visible].sort(compareNamesForTests));
  });
});

describe('.dockerignore parsing', () => {
  it('reads lines as ignorefile.ReadAll does', () => {
    const text = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! \n';
    expect(readIgnoreLines(text)).toEqual([
      { pattern: 'test1', line: 1 },
      { pattern: 'test2', line: 2 },
      { pattern: 'a/file/here', line: 3 },
      { pattern: 'lastfile', line: 5 },
      { pattern: '!inverted/abs/path', line: 7 },
      { pattern: '!', line: 8 },
      { pattern: '!', line: 9 },
    ]);
  });

  it('trims spaces as Go does: U+0085 and NBSP are spaces, U+FEFF after the first line is not', () => {
    expect(readIgnoreLines('\u0085a\u00a0\nb\n\uFEFFc\n').map((l) => l.pattern)).toEqual(['a', 'b', '\uFEFFc']);
  });

  it('keeps a lone / (it matches nothing) and cleans ./ and ..', () => {
    expect(readIgnoreLines('/\n./a/./b\na/../../c\n').map((l) => l.pattern)).toEqual(['/', 'a/b', '../c']);
  });

  it('a lone ! is an error naming the file and line', () => {
    let err: unknown;
    try {
      parseDockerignore('a\n\n!\n', '/ctx/.dockerignore');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DockerignoreError);
    expect((err as DockerignoreError).code).toBe('TSB_DOCKERIGNORE');
    expect((err as DockerignoreError).line).toBe(3);
    expect((err as DockerignoreError).file).toBe('/ctx/.dockerignore');
    expect((err as DockerignoreError).message).toBe('/ctx/.dockerignore:3: illegal exclusion pattern: "!"');
    expect((err as DockerignoreError).ranges[0]?.start.line).toBe(3);
  });

  it('a malformed pattern is an error naming the file and line', () => {
    expect(() => parseDockerignore('ok\nfoo[\n', 'x.dockerignore')).toThrow(
      'x.dockerignore:2: syntax error in pattern "foo["',
    );
    expect(() => parseDockerignore('a\\', '.dockerignore')).toThrow('.dockerignore:1: syntax error in pattern "a\\\\"');
  });

  it('prefers <Dockerfile>.dockerignore next to the Dockerfile', async () => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, '.dockerignore'), 'a\n');
    writeFileSync(join(dir, 'sub', 'app.Dockerfile.dockerignore'), 'b\n');
    const specific = await loadDockerignore({ context: dir, dockerfile: join(dir, 'sub', 'app.Dockerfile') });
    expect(specific.file).toBe(join(dir, 'sub', 'app.Dockerfile.dockerignore'));
    expect(specific.lines.map((l) => l.pattern)).toEqual(['b']);
    const plain = await loadDockerignore({ context: dir, dockerfile: join(dir, 'Dockerfile') });
    expect(plain.file).toBe(join(dir, '.dockerignore'));
    const stdin = await loadDockerignore({ context: dir });
    expect(stdin.lines.map((l) => l.pattern)).toEqual(['a']);
  });

  it('no ignore file means nothing is ignored', async () => {
    const none = await loadDockerignore({ context: dir, dockerfile: join(dir, 'Dockerfile') });
    expect(none.file).toBeUndefined();
    expect(none.matcher.empty).toBe(true);
  });
});

describe('patternmatcher semantics', () => {
  const rows: Array<[string[], string, boolean]> = [
    [['**/foo'], 'foo', true],
    [['**/foo'], 'a/b/foo', true],
    [['**/foo'], 'barfoo', false],
    [['**foo'], 'barfoo', true],
    [['foo/**'], 'foo', false],
    [['foo/**'], 'foo/x/y', true],
    [['**/*.go'], 'a/b.go', true],
    [['*.go'], 'a/b.go', false],
    [['a/*'], 'a/b/c', true],
    [['docs', '!docs/README.md'], 'docs/README.md', false],
    [['docs', '!docs/README.md'], 'docs/other.md', true],
    [['*', '!*.md', 'x.md'], 'x.md', true],
    [['[a-c]x'], 'bx', true],
    [['a\\*b'], 'a*b', true],
    [['a\\*b'], 'axb', false],
    [['a.b'], 'axb', false],
    [['(x)'], '(x)', true],
  ];
  it.each(rows)('%j matches %j: %s', (patterns, path, expected) => {
    expect(new PatternMatcher(patterns).matches(path)).toBe(expected);
  });
});
