import { execFileSync, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BuildContext,
  loadDockerignore,
  planCopy,
  resolveDestination,
  type SelectedSource,
  sourceName,
} from '../../../../builder/index.js';
import { requireDocker } from '../../../helpers/prereqs.js';
import { IGNORE_CASES, makeTree } from '../../../unit/builder/context/ignore-cases.js';

/**
 * Differential checks of the context layer against `DOCKER_BUILDKIT=1
 * /usr/bin/docker build` on tsbuild-busybox: what COPY selects, where it
 * lands, and which errors it raises.
 */

let dir: string;
beforeAll(() => {
  requireDocker();
  try {
    execFileSync('/usr/bin/docker', ['image', 'inspect', 'tsbuild-busybox'], { stdio: 'ignore' });
  } catch {
    throw new Error('the docker image tsbuild-busybox is missing: make it with bash fixtures/make-busybox.sh --docker');
  }
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-ctx-docker-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Builds `dir` with docker; returns the `@@ ` lines that the last RUN printed, or the error text. */
function dockerBuild(args: string[] = []): { ok: boolean; lines: string[]; output: string } {
  // The result goes to /dev/null as a tar, so the checks leave no images behind.
  const build = ['build', '--no-cache', '--progress=plain', '--output', 'type=tar,dest=/dev/null'];
  const r = spawnSync('/usr/bin/docker', [...build, ...args, dir], {
    env: { ...process.env, DOCKER_BUILDKIT: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${r.stdout}${r.stderr}`;
  const lines = output
    .split('\n')
    .map((l) => /^#\d+ [\d.]+ @@ ?(.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
  return { ok: r.status === 0, lines, output };
}

function write(rel: string, content: string): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), content);
}

describe('.dockerignore cases against docker', () => {
  it.each(IGNORE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    makeTree(dir, c.ignore);
    const built = dockerBuild();
    expect(built.ok, built.output).toBe(true);
    const fromDocker = built.lines.filter((l) => l !== '.').map((l) => l.replace(/^\.\//, ''));
    const expected = c.docker === 'same' ? c.visible : c.docker.docker2010;
    expect(fromDocker).toEqual([...expected].sort());

    const { matcher } = await loadDockerignore({ context: dir, dockerfile: join(dir, 'Dockerfile') });
    const [root] = await new BuildContext(dir, { ignore: matcher }).select(['.']);
    expect((root?.entries ?? []).map((e) => e.path).sort()).toEqual([...c.visible].sort());
  });
});

/** What `find DST` would list after our selection and placement: `D path`, `F path content`, `L path target`. */
function simulate(copies: Array<{ selected: SelectedSource[]; dest: string; workdir?: string }>): string[] {
  const tree = new Map<string, string>();
  const addParents = (p: string) => {
    for (let at = p.indexOf('/', 1); at > 0; at = p.indexOf('/', at + 1)) tree.set(p.slice(0, at), 'D');
  };
  for (const { selected, dest, workdir } of copies) {
    const d = resolveDestination(dest, workdir);
    const existing = tree.get(d.path);
    const plan = planCopy(
      selected.map((s) => ({ name: sourceName(s.path), isDir: s.root.type === 'dir', parents: s.parents })),
      d,
      { existing: existing === undefined ? undefined : existing === 'D' ? 'dir' : 'file' },
    );
    selected.forEach((s, i) => {
      const { target, contents } = plan[i] as { target: string; contents: boolean };
      addParents(target);
      const describe = (e: SelectedSource['root']) =>
        e.type === 'dir'
          ? 'D'
          : e.type === 'symlink'
            ? `L ${e.linkTarget}`
            : `F ${readFileSync(e.absPath, 'utf8').trim().split('\n')[0]}`;
      if (!contents) {
        tree.set(target, describe(s.root));
        return;
      }
      tree.set(target, 'D');
      for (const e of s.entries) tree.set(`${target}/${e.path}`, describe(e));
    });
  }
  return [...tree.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([p, v]) => (v === 'D' ? `D ${p}` : `${v[0]} ${p} ${v.slice(2)}`));
}

const LIST = (roots: string) =>
  `RUN for p in $(find ${roots} | sort); do if [ -L $p ]; then echo "@@ L $p $(readlink $p)"; elif [ -d $p ]; then echo "@@ D $p"; else echo "@@ F $p $(cat $p)"; fi; done\n`;

interface CopyCase {
  name: string;
  files: Record<string, string>;
  links?: Record<string, string>;
  ignore?: string;
  /** [sources..., dest] per COPY, with an optional WORKDIR before it. */
  copies: Array<{ args: string[]; workdir?: string }>;
  roots: string;
}

const COPY_CASES: CopyCase[] = [
  {
    name: 'a wildcard that matches nothing copies nothing and is no error',
    files: { a: 'A' },
    copies: [{ args: ['nomatch*', '/dst/'] }, { args: ['a', '/other/'] }],
    roots: '/other /dst',
  },
  {
    name: 'an empty wildcard next to a match',
    files: { a: 'A' },
    copies: [{ args: ['a', 'nomatch*', '/dst/'] }],
    roots: '/dst',
  },
  {
    name: '../a is cleaned to the context root',
    files: { a: 'A' },
    copies: [{ args: ['../a', '/dst/'] }],
    roots: '/dst',
  },
  {
    name: 'two files onto a path without a slash: the last one wins',
    files: { a: 'A', b: 'B' },
    copies: [{ args: ['a', 'b', '/dst'] }],
    roots: '/dst',
  },
  {
    name: 'a wildcard with several matches onto a path without a slash',
    files: { 'a.txt': 'A', 'b.txt': 'B' },
    copies: [{ args: ['*.txt', '/dst'] }],
    roots: '/dst',
  },
  {
    name: 'a directory copies its contents; two directories merge',
    files: { 'dir1/p': 'P', 'dir2/q': 'Q', 'dir2/sub/r': 'R' },
    copies: [{ args: ['dir1', 'dir2', '/dst'] }],
    roots: '/dst',
  },
  {
    name: 'symlink sources are followed, symlinks inside directories are kept',
    files: { a: 'A', 'dir/x': 'X' },
    links: { link: 'a', dirlink: 'dir', abslink: '/a', 'dir/up': '../a' },
    copies: [
      { args: ['link', '/d/'] },
      { args: ['dirlink', '/e/'] },
      { args: ['abslink', '/g'] },
      { args: ['l*', '/h/'] },
      { args: ['dir', '/i/'] },
    ],
    roots: '/d /e /g /h /i',
  },
  {
    name: 'a wildcard element in the middle of a path',
    files: { 'a/x': '1', 'b/x': '2', 'b/c/x': '3', 'x/y': '4' },
    copies: [{ args: ['*/x', '/dst/'] }],
    roots: '/dst',
  },
  {
    name: 'a re-included file inside an ignored directory can be copied by path',
    files: { 'foo/bar': 'B', 'foo/baz': 'Z' },
    ignore: 'foo\n!foo/bar\n',
    copies: [{ args: ['foo/bar', '/dst/'] }, { args: ['foo', '/all/'] }],
    roots: '/dst /all',
  },
  {
    name: 'relative destinations are joined to WORKDIR',
    files: { a: 'A', b: 'B' },
    copies: [
      { args: ['a', '.'], workdir: '/w' },
      { args: ['b', 'x'], workdir: '/w' },
      { args: ['a', 'sub/'], workdir: '/w' },
    ],
    roots: '/w',
  },
  {
    name: 'an ignored file is invisible to a wildcard',
    files: { 'a.txt': 'A', 'b.txt': 'B' },
    ignore: 'b.txt\n',
    copies: [{ args: ['*.txt', '/dst/'] }],
    roots: '/dst',
  },
  {
    name: 'a class never spans two path elements: a[^x]b does not select a/b',
    files: { 'a/b': 'AB', acb: 'C', axb: 'X' },
    copies: [{ args: ['a[^x]b', '/dst/'] }],
    roots: '/dst',
  },
  {
    name: 'a wildcard match that is a symlink to a directory copies its contents',
    files: { 'dir/x': 'X', 'dir/sub/y': 'Y' },
    links: { ldir: 'dir' },
    copies: [{ args: ['l*', '/dst/'] }],
    roots: '/dst',
  },
  {
    name: '* matches dot files; directories and files mix',
    files: { '.hidden': 'H', 'd1/x': 'X', d2: 'D2' },
    copies: [{ args: ['*', '/all/'] }, { args: ['d*', '/d/'] }],
    roots: '/all /d',
  },
  {
    name: 'an empty directory source, and a source with a trailing slash',
    files: { 'dir/x': 'X' },
    copies: [{ args: ['empty', '/e/'] }, { args: ['dir/', '/t'] }],
    roots: '/e /t',
  },
  {
    name: 'a class and a ? in a source',
    files: { a1: '1', a2: '2', b1: '3', a10: '4' },
    copies: [{ args: ['a?', '/q/'] }, { args: ['[ab]1', '/c/'] }],
    roots: '/q /c',
  },
];

describe('COPY source selection and placement against docker', () => {
  it.each(COPY_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    for (const [p, content] of Object.entries(c.files)) write(p, content);
    if (c.copies.some((copy) => copy.args.includes('empty'))) mkdirSync(join(dir, 'empty'));
    for (const [p, target] of Object.entries(c.links ?? {})) symlinkSync(target, join(dir, p));
    if (c.ignore !== undefined) writeFileSync(join(dir, '.dockerignore'), c.ignore);
    let dockerfile = 'FROM tsbuild-busybox\n';
    for (const copy of c.copies) {
      if (copy.workdir) dockerfile += `WORKDIR ${copy.workdir}\n`;
      dockerfile += `COPY ${copy.args.join(' ')}\n`;
    }
    dockerfile += `${LIST(c.roots)}`;
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    const built = dockerBuild();
    expect(built.ok, built.output).toBe(true);

    const { matcher } = await loadDockerignore({ context: dir, dockerfile: join(dir, 'Dockerfile') });
    const ctx = new BuildContext(dir, { ignore: matcher });
    const copies = [];
    for (const copy of c.copies) {
      copies.push({
        selected: await ctx.select(copy.args.slice(0, -1)),
        dest: copy.args[copy.args.length - 1] as string,
        workdir: copy.workdir,
      });
    }
    const roots = c.roots.split(' ');
    const under = (p: string) => roots.some((r) => p === r || p.startsWith(`${r}/`));
    const ours = simulate(copies).filter((l) => under(l.split(' ')[1] ?? ''));
    expect(ours).toEqual(built.lines);
  });

  it('a missing source fails in both, naming the path', async () => {
    write('a', 'A');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM tsbuild-busybox\nCOPY missing /dst/\n');
    const built = dockerBuild();
    expect(built.ok).toBe(false);
    expect(built.output).toContain('"/missing" not found');
    await expect(new BuildContext(dir).select(['missing'])).rejects.toThrow('"/missing": not found');
  });

  it('an ignored directory fails in both, as not found', async () => {
    write('foo/x', 'X');
    writeFileSync(join(dir, '.dockerignore'), 'foo\n');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM tsbuild-busybox\nCOPY foo /dst/\n');
    const built = dockerBuild();
    expect(built.ok).toBe(false);
    expect(built.output).toContain('"/foo" not found');
    const { matcher } = await loadDockerignore({ context: dir });
    await expect(new BuildContext(dir, { ignore: matcher }).select(['foo'])).rejects.toThrow('"/foo": not found');
  });

  it('a file then a directory onto one path fails in both', async () => {
    write('a', 'A');
    write('dir/x', 'X');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM tsbuild-busybox\nCOPY a dir /dst\n');
    const built = dockerBuild();
    expect(built.ok).toBe(false);
    expect(built.output).toContain('cannot copy to non-directory:');
    const selected = await new BuildContext(dir).select(['a', 'dir']);
    expect(() =>
      planCopy(
        selected.map((s) => ({ name: sourceName(s.path), isDir: s.root.type === 'dir' })),
        resolveDestination('/dst'),
      ),
    ).toThrow('cannot copy to non-directory: /dst');
  });

  it('hard links in the context stay hard links', async () => {
    write('h1', 'H');
    linkSync(join(dir, 'h1'), join(dir, 'h2'));
    writeFileSync(
      join(dir, 'Dockerfile'),
      'FROM tsbuild-busybox\nCOPY . /dst/\nRUN [ "$(stat -c %i /dst/h1)" = "$(stat -c %i /dst/h2)" ] && echo "@@ same inode"\n',
    );
    const built = dockerBuild();
    expect(built.lines).toEqual(['same inode']);
    const [root] = await new BuildContext(dir).select(['.']);
    expect(root?.entries.find((e) => e.path === 'h2')?.hardlinkOf).toBe('h1');
  });

  it('<Dockerfile>.dockerignore next to a -f Dockerfile wins over .dockerignore', async () => {
    for (const p of ['a', 'b', 'c']) write(p, p);
    write('.dockerignore', 'a\n');
    write(
      'sub/app.Dockerfile',
      'FROM tsbuild-busybox\nCOPY . /dst\nRUN cd /dst && find . -type f | sort | sed "s/^/@@ /"\n',
    );
    write('sub/app.Dockerfile.dockerignore', 'b\n');
    const built = dockerBuild(['-f', join(dir, 'sub/app.Dockerfile')]);
    expect(built.ok, built.output).toBe(true);
    const { matcher } = await loadDockerignore({ context: dir, dockerfile: join(dir, 'sub/app.Dockerfile') });
    const [root] = await new BuildContext(dir, { ignore: matcher }).select(['.']);
    const ours = (root?.entries ?? [])
      .filter((e) => e.type === 'file')
      .map((e) => `./${e.path}`)
      .sort();
    expect(ours).toEqual(built.lines);
    expect(ours).toContain('./a');
    expect(ours).not.toContain('./b');
  });
});
