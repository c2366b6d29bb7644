import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * `.dockerignore` cases on one tree. `visible` is what `COPY . /dst` copies
 * (what `find /dst` lists), computed by hand from moby/patternmatcher and
 * fsutil's walk. `docker` records the check with
 * `DOCKER_BUILDKIT=1 /usr/bin/docker build` (Docker 20.10.24, BuildKit 0.8):
 * 'same', or the list that Docker 20.10 copies where its older matcher
 * differs from today's patternmatcher (which tsbuild follows).
 */
export interface IgnoreCase {
  name: string;
  ignore: string;
  visible: string[];
  docker: 'same' | { docker2010: string[] };
}

/** The tree every case runs on; directories end with `/`. The Dockerfile and .dockerignore are added. */
export const TREE = [
  'a.go',
  'b.txt',
  'README.md',
  '.hidden',
  'foo/bar',
  'foo/baz.go',
  'foo/sub/x.go',
  'foo/sub/keep',
  'bar/foo',
  'bar/y.txt',
  'deep/a/b/c.go',
  'deep/a/b/foo/z',
  'empty/',
];

export const DOCKERFILE = 'FROM tsbuild-busybox\nCOPY . /dst\nRUN cd /dst && find . | sort | sed "s/^/@@ /"\n';

export function makeTree(dir: string, ignore: string): void {
  for (const p of TREE) {
    const full = join(dir, p);
    if (p.endsWith('/')) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, `${p}\n`);
    }
  }
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(dir, '.dockerignore'), ignore);
}

const ALL = [
  '.dockerignore',
  '.hidden',
  'Dockerfile',
  'README.md',
  'a.go',
  'b.txt',
  'bar',
  'bar/foo',
  'bar/y.txt',
  'deep',
  'deep/a',
  'deep/a/b',
  'deep/a/b/c.go',
  'deep/a/b/foo',
  'deep/a/b/foo/z',
  'empty',
  'foo',
  'foo/bar',
  'foo/baz.go',
  'foo/sub',
  'foo/sub/keep',
  'foo/sub/x.go',
];

const FOO_ALL = ['foo', 'foo/bar', 'foo/baz.go', 'foo/sub', 'foo/sub/keep', 'foo/sub/x.go'];

function without(...gone: string[]): string[] {
  return ALL.filter((p) => !gone.includes(p));
}
function withoutTree(...roots: string[]): string[] {
  return ALL.filter((p) => !roots.some((r) => p === r || p.startsWith(`${r}/`)));
}

export const IGNORE_CASES: IgnoreCase[] = [
  { name: 'an empty file ignores nothing', ignore: '', visible: ALL, docker: 'same' },
  { name: 'a directory name ignores its whole tree', ignore: 'foo\n', visible: withoutTree('foo'), docker: 'same' },
  { name: 'a trailing slash is cleaned away', ignore: 'foo/\n', visible: withoutTree('foo'), docker: 'same' },
  { name: 'a leading slash is relative to the context', ignore: '/foo\n', visible: withoutTree('foo'), docker: 'same' },
  { name: 'a leading ./ is cleaned away', ignore: './foo\n', visible: withoutTree('foo'), docker: 'same' },
  { name: '*.go matches only at the root', ignore: '*.go\n', visible: without('a.go'), docker: 'same' },
  {
    name: '**/*.go matches at any depth',
    ignore: '**/*.go\n',
    visible: without('a.go', 'foo/baz.go', 'foo/sub/x.go', 'deep/a/b/c.go'),
    docker: 'same',
  },
  { name: '*/*.go matches one level down', ignore: '*/*.go\n', visible: without('foo/baz.go'), docker: 'same' },
  {
    name: 'foo/** ignores the contents but keeps the directory',
    ignore: 'foo/**\n',
    visible: withoutTree('foo').concat('foo').sort(),
    docker: 'same',
  },
  {
    name: '**/foo ignores foo at any depth',
    ignore: '**/foo\n',
    visible: withoutTree('foo', 'bar/foo', 'deep/a/b/foo'),
    docker: 'same',
  },
  {
    name: '! re-includes a file inside an ignored directory',
    ignore: 'foo\n!foo/bar\n',
    visible: withoutTree('foo').concat('foo', 'foo/bar').sort(),
    docker: 'same',
  },
  {
    name: '! re-includes a nested file and its parents',
    ignore: 'foo\n!foo/sub/keep\n',
    visible: withoutTree('foo').concat('foo', 'foo/sub', 'foo/sub/keep').sort(),
    docker: 'same',
  },
  {
    name: 'a wildcard exception reaches into an ignored directory',
    ignore: 'foo\n!*/bar\n',
    visible: withoutTree('foo').concat('foo', 'foo/bar').sort(),
    docker: { docker2010: withoutTree('foo') },
  },
  { name: '* then !README.md keeps only README.md', ignore: '*\n!README.md\n', visible: ['README.md'], docker: 'same' },
  { name: '* then !foo keeps the foo tree', ignore: '*\n!foo\n', visible: FOO_ALL, docker: 'same' },
  { name: '** ignores everything', ignore: '**\n', visible: [], docker: 'same' },
  { name: 'an exception alone changes nothing', ignore: '!foo\n', visible: ALL, docker: 'same' },
  {
    name: 'the last matching line wins',
    ignore: 'foo\n!foo\nfoo/bar\n',
    visible: without('foo/bar'),
    docker: 'same',
  },
  { name: 'a # line is a comment', ignore: '# foo\na.go\n', visible: without('a.go'), docker: 'same' },
  { name: 'spaces around a pattern are trimmed', ignore: '  foo  \n', visible: withoutTree('foo'), docker: 'same' },
  { name: 'a # after spaces is a pattern, not a comment', ignore: '  #foo\n', visible: ALL, docker: 'same' },
  { name: '*.txt does not match nested files', ignore: '*.txt\n', visible: without('b.txt'), docker: 'same' },
  { name: 'dir/*.txt matches in that directory', ignore: 'bar/*.txt\n', visible: without('bar/y.txt'), docker: 'same' },
  {
    name: 'dir/**/*.go matches below dir at any depth',
    ignore: 'deep/**/*.go\n',
    visible: without('deep/a/b/c.go'),
    docker: 'same',
  },
  { name: 'a * element matches one directory', ignore: 'deep/*/b\n', visible: withoutTree('deep/a/b'), docker: 'same' },
  { name: '? matches one character', ignore: '?.go\n', visible: without('a.go'), docker: 'same' },
  { name: 'a class matches one of its characters', ignore: '[ab].go\n', visible: without('a.go'), docker: 'same' },
  { name: 'a negated class excludes its characters', ignore: '[^a].go\n', visible: ALL, docker: 'same' },
  { name: 'a dotfile by name', ignore: '.hidden\n', visible: without('.hidden'), docker: 'same' },
  {
    name: '.* matches dotfiles, .dockerignore too',
    ignore: '.*\n',
    visible: without('.hidden', '.dockerignore'),
    docker: 'same',
  },
  {
    name: 'the Dockerfile and .dockerignore can be ignored',
    ignore: 'Dockerfile\n.dockerignore\n',
    visible: without('Dockerfile', '.dockerignore'),
    docker: 'same',
  },
  { name: 'an empty directory can be ignored', ignore: 'empty\n', visible: without('empty'), docker: 'same' },
  { name: 'a nested directory', ignore: 'foo/sub\n', visible: withoutTree('foo/sub'), docker: 'same' },
  {
    name: 'a nested directory with an exception inside',
    ignore: 'foo/sub/\n!foo/sub/keep\n',
    visible: without('foo/sub/x.go'),
    docker: 'same',
  },
  {
    name: 'a ** exception reaches into an ignored directory',
    ignore: '**/sub\n!**/keep\n',
    visible: without('foo/sub/x.go'),
    docker: { docker2010: withoutTree('foo/sub') },
  },
  {
    name: 'dir/* ignores the contents but keeps the directory',
    ignore: 'foo/*\n',
    visible: withoutTree('foo').concat('foo').sort(),
    docker: 'same',
  },
  { name: 'a prefix wildcard', ignore: 'foo*\n', visible: withoutTree('foo'), docker: 'same' },
  { name: '*/name matches one level down only', ignore: '*/foo\n', visible: without('bar/foo'), docker: 'same' },
  {
    name: 'an exception deep inside an ignored tree keeps every parent',
    ignore: 'deep\n!deep/a/b/foo\n',
    visible: withoutTree('deep').concat('deep', 'deep/a', 'deep/a/b', 'deep/a/b/foo', 'deep/a/b/foo/z').sort(),
    docker: 'same',
  },
  {
    name: 'ignore, re-include, ignore again: the last wins',
    ignore: 'README.md\n!README.md\nREADME.md\n',
    visible: without('README.md'),
    docker: 'same',
  },
  { name: 'CRLF line ends', ignore: 'a.go\r\nb.txt\r\n', visible: without('a.go', 'b.txt'), docker: 'same' },
  { name: 'a UTF-8 BOM before the first line', ignore: '\uFEFFa.go\n', visible: without('a.go'), docker: 'same' },
  {
    name: '**.go matches any path that ends in .go',
    ignore: '**.go\n',
    visible: without('a.go', 'foo/baz.go', 'foo/sub/x.go', 'deep/a/b/c.go'),
    docker: { docker2010: ALL },
  },
  { name: '.. in a pattern is cleaned', ignore: 'foo/../bar\n', visible: withoutTree('bar'), docker: 'same' },
  { name: 'a trailing slash on a file name', ignore: 'foo/bar/\n', visible: without('foo/bar'), docker: 'same' },
  {
    name: 'a directory whose only exception is ignored again disappears',
    ignore: 'bar\n!bar/foo\nbar/foo\n',
    visible: withoutTree('bar'),
    // Docker 20.10's fsutil sends an ignored directory it walked into even when nothing in it is re-included.
    docker: { docker2010: withoutTree('bar').concat('bar').sort() },
  },
  {
    name: 'a pattern skipped for the parent is not re-checked against it (patternmatcher)',
    ignore: 'foo\n!foo/bar\nfoo\n',
    visible: withoutTree('foo').concat('foo', 'foo/bar').sort(),
    docker: { docker2010: withoutTree('foo').concat('foo').sort() },
  },
  {
    name: 'an exception for a path that is not ignored',
    ignore: '*.txt\n!bar/y.txt\n',
    visible: without('b.txt'),
    docker: 'same',
  },
  {
    name: 'two exceptions under one ignored directory',
    ignore: 'foo\n!foo/bar\n!foo/sub/x.go\n',
    visible: withoutTree('foo').concat('foo', 'foo/bar', 'foo/sub', 'foo/sub/x.go').sort(),
    docker: 'same',
  },
  { name: 'an escaped wildcard is literal', ignore: 'a\\*.go\n', visible: ALL, docker: 'same' },
];
