import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildOptions } from '../../../builder/index.js';
import { tsbuild } from '../../helpers/cli.js';
import { buildCollecting, makeBuilderStore, makeContext } from './support.js';

/**
 * Which steps a rebuild finds CACHED after one change, as docker build
 * (dockerd 20.10.24, BuildKit 0.8) showed them for the same Dockerfile, context
 * and change (`DOCKER_BUILDKIT=1 docker build --progress=plain`). Where docker
 * 20.10 lacks the feature (RUN --network, --no-cache-filter), the expectation is
 * current BuildKit's. Every case starts with `RUN echo <nonce>` so that it
 * shares no cache with the others.
 */

let dir: string;
let root: string;

beforeAll(async () => {
  ({ dir, root } = await makeBuilderStore('tsb-cache-parity-'));
  process.env.TSB_PARITY_SECRET_1 = 'one';
  process.env.TSB_PARITY_SECRET_2 = 'two';
});

afterAll(() => {
  delete process.env.TSB_PARITY_SECRET_1;
  delete process.env.TSB_PARITY_SECRET_2;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Case {
  name: string;
  /** The Dockerfile; `@N@` is replaced by the case's nonce. */
  dockerfile: string[];
  files?: Record<string, string>;
  setup?: (ctx: string) => void;
  change?: (ctx: string) => void;
  first?: Partial<BuildOptions>;
  second?: Partial<BuildOptions>;
  /** Step name (with `@N@`) → CACHED in the second build; every step of the second build is listed. */
  cached: Record<string, boolean>;
}

const B = ['FROM tsbuild-busybox:latest', 'RUN echo @N@'];
const copies = [...B, 'COPY a.txt /a.txt', 'COPY *.txt /g/', 'COPY . /all/', 'RUN echo done'];
const copyFiles = { 'a.txt': 'one\n', 'b.txt': 'two\n', 'd/x': 'x\n' };
const simple = (...lines: string[]) => [...B, ...lines];
const edit = (from: string | RegExp, to: string) => (ctx: string) => {
  const file = join(ctx, 'Dockerfile');
  writeFileSync(file, readFileSync(file, 'utf8').replace(from, to));
};
const write = (name: string, content: string) => (ctx: string) => {
  mkdirSync(join(ctx, name, '..'), { recursive: true });
  writeFileSync(join(ctx, name), content);
};
const allCopies = (a: boolean, g: boolean, all: boolean, done: boolean) => ({
  'RUN echo @N@': true,
  'COPY a.txt /a.txt': a,
  'COPY *.txt /g/': g,
  'COPY . /all/': all,
  'RUN echo done': done,
});
const copyRun = (copy: boolean, run: boolean, copyName = 'COPY a.txt /a', runName = 'RUN echo done') => ({
  'RUN echo @N@': true,
  [copyName]: copy,
  [runName]: run,
});
const fromStage = (second: string) => [
  'FROM tsbuild-busybox:latest AS u',
  'RUN mkdir /d && echo @N@ > /d/f',
  `RUN ${second}`,
  'FROM tsbuild-busybox:latest',
  'RUN echo @N@',
  'COPY --from=u /d /d',
  'RUN echo done',
];

const bindFromStage = (second: string) => [
  ...fromStage(second).slice(0, 5),
  'RUN --mount=type=bind,from=u,source=/d,target=/m cat /m/f',
  'RUN --mount=type=bind,from=u,source=/d,target=/m,rw cat /m/f',
  'RUN echo done',
];

const cases: Case[] = [
  // The context.
  {
    name: "a context file's content",
    dockerfile: copies,
    files: copyFiles,
    change: write('a.txt', 'changed\n'),
    cached: allCopies(false, false, false, false),
  },
  {
    name: "a context file's mode (chmod +x)",
    dockerfile: copies,
    files: copyFiles,
    change: (ctx) => chmodSync(join(ctx, 'a.txt'), 0o755),
    cached: allCopies(false, false, false, false),
  },
  {
    name: "a context file's mtime only (touch)",
    dockerfile: copies,
    files: copyFiles,
    change: (ctx) => utimesSync(join(ctx, 'a.txt'), new Date(), new Date(Date.now() + 5000)),
    cached: allCopies(true, true, true, true),
  },
  {
    name: "a context file's owner (chown): the context is sent as 0:0",
    dockerfile: copies,
    files: copyFiles,
    change: (ctx) => chownSync(join(ctx, 'a.txt'), 1234, 1234),
    cached: allCopies(true, true, true, true),
  },
  {
    name: "a new file that a COPY's glob matches",
    dockerfile: copies,
    files: copyFiles,
    change: write('c.txt', 'c\n'),
    cached: allCopies(true, false, false, false),
  },
  {
    name: 'a new file that no glob but COPY . matches',
    dockerfile: copies,
    files: copyFiles,
    change: write('c.dat', 'c\n'),
    cached: allCopies(true, true, false, false),
  },
  {
    name: 'a file excluded by .dockerignore',
    dockerfile: copies,
    files: { ...copyFiles, '.dockerignore': 'ign*\n', 'ign.txt': 'i\n' },
    change: write('ign.txt', 'changed\n'),
    cached: allCopies(true, true, true, true),
  },
  {
    name: '.dockerignore itself (it is in the context)',
    dockerfile: copies,
    files: { ...copyFiles, '.dockerignore': 'ign*\n' },
    change: write('.dockerignore', 'ign*\nzzz\n'),
    cached: allCopies(true, true, false, false),
  },
  {
    name: "a symlink's target",
    dockerfile: copies,
    files: copyFiles,
    setup: (ctx) => symlinkSync('a.txt', join(ctx, 'l.txt')),
    change: (ctx) => {
      rmSync(join(ctx, 'l.txt'));
      symlinkSync('b.txt', join(ctx, 'l.txt'));
    },
    cached: allCopies(true, false, false, false),
  },
  {
    name: 'an empty directory added',
    dockerfile: copies,
    files: copyFiles,
    change: (ctx) => mkdirSync(join(ctx, 'd', 'e')),
    cached: allCopies(true, true, false, false),
  },
  {
    // Docker 20.10 stays CACHED here and keeps the old mode in the image (its context transfer misses a
    // mode-only change of a directory); BuildKit's content hash has the directory's header, so it misses.
    name: "a subdirectory's mode (chmod 700)",
    dockerfile: copies,
    files: copyFiles,
    change: (ctx) => chmodSync(join(ctx, 'd'), 0o700),
    cached: allCopies(true, true, false, false),
  },
  {
    name: "a subdirectory's mtime only (touch)",
    dockerfile: copies,
    files: copyFiles,
    change: (ctx) => utimesSync(join(ctx, 'd'), new Date(), new Date(Date.now() + 5000)),
    cached: allCopies(true, true, true, true),
  },
  {
    name: 'a hard link to a file that COPY . copies',
    dockerfile: copies,
    files: copyFiles,
    change: (ctx) => linkSync(join(ctx, 'a.txt'), join(ctx, 'h.txt')),
    cached: allCopies(true, false, false, false),
  },
  {
    name: 'a setuid bit',
    dockerfile: copies,
    files: copyFiles,
    change: (ctx) => chmodSync(join(ctx, 'a.txt'), 0o4644),
    cached: allCopies(false, false, false, false),
  },
  {
    name: 'COPY --chown value',
    dockerfile: simple('COPY --chown=1:1 a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('--chown=1:1', '--chown=2:2'),
    cached: copyRun(false, false, 'COPY --chown=2:2 a.txt /a'),
  },
  {
    name: 'COPY --chmod value',
    dockerfile: simple('COPY --chmod=644 a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('--chmod=644', '--chmod=755'),
    cached: copyRun(false, false, 'COPY --chmod=755 a.txt /a'),
  },
  {
    // moby/buildkit#3821: current BuildKit also keys the source's mode under --chmod.
    name: "the source's mode under COPY --chmod",
    dockerfile: simple('COPY --chmod=644 a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: (ctx) => chmodSync(join(ctx, 'a.txt'), 0o755),
    cached: copyRun(false, false, 'COPY --chmod=644 a.txt /a'),
  },
  {
    name: 'the content of a local tar that ADD unpacks',
    dockerfile: simple('ADD t.tar /t/', 'RUN echo done'),
    setup: (ctx) => writeFileSync(join(ctx, 't.tar'), tarOf('f', 'one\n')),
    change: (ctx) => writeFileSync(join(ctx, 't.tar'), tarOf('f', 'two\n')),
    cached: copyRun(false, false, 'ADD t.tar /t/'),
  },
  // The Dockerfile.
  {
    name: 'a comment added',
    dockerfile: simple('COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('COPY a.txt /a', '# a comment\nCOPY a.txt /a'),
    cached: copyRun(true, true),
  },
  {
    name: "whitespace in a RUN's command (the shell string changes)",
    dockerfile: simple('COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('RUN echo done', 'RUN  echo   done'),
    cached: copyRun(true, false, 'COPY a.txt /a', 'RUN  echo   done'),
  },
  {
    name: "whitespace between a COPY's arguments",
    dockerfile: simple('COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('COPY a.txt /a', 'COPY  a.txt   /a'),
    cached: copyRun(true, true, 'COPY  a.txt   /a'),
  },
  {
    name: 'RUN written in lower case with extra spaces around its command',
    dockerfile: simple('COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('RUN echo done', 'run   echo done  '),
    cached: copyRun(true, true, 'COPY a.txt /a', 'RUN   echo done'),
  },
  {
    name: 'a RUN in exec form with the same argv as its shell form',
    dockerfile: simple('COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('RUN echo done', 'RUN ["/bin/sh","-c","echo done"]'),
    cached: copyRun(true, true, 'COPY a.txt /a', 'RUN ["/bin/sh","-c","echo done"]'),
  },
  {
    name: 'a COPY source written ./a.txt or /a.txt (LLB cleans source paths)',
    dockerfile: simple('COPY a.txt /a', 'COPY /a.txt /b', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('COPY a.txt /a', 'COPY ./a.txt /a'),
    cached: { ...copyRun(true, true, 'COPY ./a.txt /a'), 'COPY /a.txt /b': true },
  },
  {
    name: 'a COPY directory source written with a trailing slash',
    dockerfile: simple('COPY d /d', 'RUN echo done'),
    files: { 'd/x': 'x\n' },
    change: edit('COPY d /d', 'COPY d/ /d'),
    cached: copyRun(true, true, 'COPY d/ /d'),
  },
  {
    name: 'a COPY destination written as a directory or as the file in it',
    dockerfile: simple('COPY a.txt /d/', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('COPY a.txt /d/', 'COPY a.txt /d/a.txt'),
    cached: copyRun(false, false, 'COPY a.txt /d/a.txt'),
  },
  {
    // BuildKit keeps an absolute WORKDIR as written: the RUN's working directory is /w/.
    name: 'an absolute WORKDIR written with a trailing slash',
    dockerfile: simple('WORKDIR /w', 'COPY a.txt /a', 'COPY a.txt b', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('WORKDIR /w', 'WORKDIR /w/'),
    cached: {
      'RUN echo @N@': true,
      'WORKDIR /w/': true,
      'COPY a.txt /a': true,
      'COPY a.txt b': true,
      'RUN echo done': false,
    },
  },
  {
    name: 'ENV written as ENV X 1 instead of ENV X=1',
    dockerfile: simple('ENV X=1', 'RUN echo done'),
    change: edit('ENV X=1', 'ENV X 1'),
    cached: { 'RUN echo @N@': true, 'RUN echo done': true },
  },
  {
    name: 'USER 0 written as USER root (the user string is keyed)',
    dockerfile: simple('USER 0', 'RUN echo done'),
    change: edit('USER 0', 'USER root'),
    cached: { 'RUN echo @N@': true, 'RUN echo done': false },
  },
  {
    name: 'CMD',
    dockerfile: simple('COPY a.txt /a', 'RUN echo done', 'CMD ["a"]'),
    files: { 'a.txt': 'one\n' },
    change: edit('"a"', '"b"'),
    cached: copyRun(true, true),
  },
  {
    name: 'an empty --build-arg for a declared ARG (it is set, to the empty string)',
    dockerfile: simple('ARG V', 'RUN echo done'),
    first: { buildArgs: { V: '' } },
    cached: { 'RUN echo @N@': true, 'RUN echo done': false },
  },
  {
    name: 'a comment in a Dockerfile that COPY . copies (it is in the context)',
    dockerfile: simple('COPY . /all', 'RUN echo done'),
    change: edit('COPY . /all', '# a comment\nCOPY . /all'),
    cached: copyRun(false, false, 'COPY . /all'),
  },
  {
    // Docker 20.10 has no heredocs without a labs frontend: current BuildKit keys the heredoc's text.
    name: "a COPY heredoc's text",
    dockerfile: simple('COPY <<EOT /h', 'hello', 'EOT', 'RUN echo done'),
    change: edit('hello', 'world'),
    cached: copyRun(false, false, 'COPY <<EOT /h'),
  },
  {
    name: "a secret's value (secrets are never keyed)",
    dockerfile: simple('RUN --mount=type=secret,id=s cat /run/secrets/s', 'RUN echo after'),
    files: { 's.txt': 'one\n', '.dockerignore': 's.txt\n' },
    first: { secrets: [{ id: 's', env: 'TSB_PARITY_SECRET_1' }] },
    second: { secrets: [{ id: 's', env: 'TSB_PARITY_SECRET_2' }] },
    cached: { 'RUN echo @N@': true, 'RUN --mount=type=secret,id=s cat /run/secrets/s': true, 'RUN echo after': true },
  },
  {
    name: 'ENV before a RUN',
    dockerfile: simple('ENV X=1', 'COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('X=1', 'X=2'),
    cached: copyRun(true, false),
  },
  {
    name: 'ENV after the last RUN',
    dockerfile: simple('COPY a.txt /a', 'RUN echo done', 'ENV X=1'),
    files: { 'a.txt': 'one\n' },
    change: edit('X=1', 'X=2'),
    cached: copyRun(true, true),
  },
  {
    name: 'LABEL',
    dockerfile: simple('LABEL a=1', 'COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('a=1', 'a=2'),
    cached: copyRun(true, true),
  },
  {
    name: 'EXPOSE',
    dockerfile: simple('EXPOSE 80', 'COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('EXPOSE 80', 'EXPOSE 81'),
    cached: copyRun(true, true),
  },
  {
    name: 'WORKDIR',
    dockerfile: simple('WORKDIR /w', 'COPY a.txt a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('/w', '/v'),
    cached: { 'RUN echo @N@': true, 'WORKDIR /v': false, 'COPY a.txt a': false, 'RUN echo done': false },
  },
  {
    name: 'USER',
    dockerfile: simple('USER 1', 'COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('USER 1', 'USER 2'),
    cached: copyRun(true, false),
  },
  {
    name: 'SHELL',
    dockerfile: simple('SHELL ["/bin/sh","-c"]', 'COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    change: edit('"-c"', '"-ec"'),
    cached: copyRun(true, false),
  },
  {
    // Every ARG in scope is in the RUN's environment, used or not.
    name: 'an ARG default value',
    dockerfile: simple('ARG V=1', 'COPY a.txt /a', 'RUN echo done', 'RUN echo $V'),
    files: { 'a.txt': 'one\n' },
    change: edit('V=1', 'V=2'),
    cached: { ...copyRun(true, false), 'RUN echo $V': false },
  },
  {
    name: 'a --build-arg of a declared ARG',
    dockerfile: simple('ARG V', 'ARG W', 'COPY a.txt /a', 'RUN echo done', 'RUN echo $V'),
    files: { 'a.txt': 'one\n' },
    first: { buildArgs: { W: '1' } },
    second: { buildArgs: { W: '2' } },
    cached: { ...copyRun(true, false), 'RUN echo $V': false },
  },
  {
    name: 'a --build-arg of an undeclared ARG',
    dockerfile: simple('COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    first: { buildArgs: { W: '1' } },
    second: { buildArgs: { W: '2' } },
    cached: copyRun(true, true),
  },
  {
    name: 'HTTP_PROXY (a proxy build arg never invalidates)',
    dockerfile: simple('COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    first: { buildArgs: { HTTP_PROXY: 'http://a:1' } },
    second: { buildArgs: { HTTP_PROXY: 'http://b:2' } },
    cached: copyRun(true, true),
  },
  {
    name: 'HTTP_PROXY declared with ARG',
    dockerfile: simple('ARG HTTP_PROXY', 'COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    first: { buildArgs: { HTTP_PROXY: 'http://a:1' } },
    second: { buildArgs: { HTTP_PROXY: 'http://b:2' } },
    cached: copyRun(true, false),
  },
  {
    name: 'an unused stage',
    dockerfile: [
      'FROM tsbuild-busybox:latest AS u',
      'RUN echo u1',
      'FROM tsbuild-busybox:latest',
      'RUN echo @N@',
      'COPY a.txt /a',
      'RUN echo done',
    ],
    files: { 'a.txt': 'one\n' },
    change: edit('echo u1', 'echo u2'),
    cached: copyRun(true, true),
  },
  {
    name: 'a stage used by COPY --from that leaves the copied files alike',
    dockerfile: fromStage('echo u1 > /g'),
    change: edit('echo u1', 'echo u2'),
    cached: {
      'RUN mkdir /d && echo @N@ > /d/f': true,
      'RUN echo u2 > /g': false,
      'RUN echo @N@': true,
      'COPY --from=u /d /d': true,
      'RUN echo done': true,
    },
  },
  {
    name: 'a stage used by COPY --from that changes the copied files',
    dockerfile: fromStage('echo u1 > /d/g'),
    change: edit('echo u1', 'echo u2'),
    cached: {
      'RUN mkdir /d && echo @N@ > /d/f': true,
      'RUN echo u2 > /d/g': false,
      'RUN echo @N@': true,
      'COPY --from=u /d /d': false,
      'RUN echo done': false,
    },
  },
  {
    name: 'a stage used by RUN --mount=type=bind,from that leaves the mounted source alike',
    dockerfile: bindFromStage('echo u1 > /g'),
    change: edit('echo u1', 'echo u2'),
    cached: {
      'RUN mkdir /d && echo @N@ > /d/f': true,
      'RUN echo u2 > /g': false,
      'RUN echo @N@': true,
      'RUN --mount=type=bind,from=u,source=/d,target=/m cat /m/f': true,
      'RUN --mount=type=bind,from=u,source=/d,target=/m,rw cat /m/f': true,
      'RUN echo done': true,
    },
  },
  {
    name: 'a stage used by RUN --mount=type=bind,from that changes the mounted source',
    dockerfile: bindFromStage('echo u1 > /d/g'),
    change: edit('echo u1', 'echo u2'),
    cached: {
      'RUN mkdir /d && echo @N@ > /d/f': true,
      'RUN echo u2 > /d/g': false,
      'RUN echo @N@': true,
      'RUN --mount=type=bind,from=u,source=/d,target=/m cat /m/f': false,
      'RUN --mount=type=bind,from=u,source=/d,target=/m,rw cat /m/f': false,
      'RUN echo done': false,
    },
  },
  {
    name: 'RUN --mount=type=cache id',
    dockerfile: simple('RUN --mount=type=cache,id=c1,target=/c echo done', 'RUN echo after'),
    change: edit('id=c1', 'id=c2'),
    cached: {
      'RUN echo @N@': true,
      'RUN --mount=type=cache,id=c2,target=/c echo done': false,
      'RUN echo after': false,
    },
  },
  {
    name: 'RUN --mount=type=bind source',
    dockerfile: simple('RUN --mount=type=bind,source=a.txt,target=/m cat /m', 'RUN echo after'),
    files: { 'a.txt': 'one\n', 'b.txt': 'two\n' },
    change: edit('source=a.txt', 'source=b.txt'),
    cached: {
      'RUN echo @N@': true,
      'RUN --mount=type=bind,source=b.txt,target=/m cat /m': false,
      'RUN echo after': false,
    },
  },
  {
    name: 'a context file that no RUN --mount=type=bind selects',
    dockerfile: simple('RUN --mount=type=bind,source=a.txt,target=/m cat /m', 'RUN echo after'),
    files: { 'a.txt': 'one\n' },
    change: write('z.txt', 'z\n'),
    cached: {
      'RUN echo @N@': true,
      'RUN --mount=type=bind,source=a.txt,target=/m cat /m': true,
      'RUN echo after': true,
    },
  },
  {
    name: 'the content of a RUN --mount=type=bind source',
    dockerfile: simple('RUN --mount=type=bind,source=a.txt,target=/m cat /m', 'RUN echo after'),
    files: { 'a.txt': 'one\n' },
    change: write('a.txt', 'z\n'),
    cached: {
      'RUN echo @N@': true,
      'RUN --mount=type=bind,source=a.txt,target=/m cat /m': false,
      'RUN echo after': false,
    },
  },
  {
    // Docker 20.10 has no RUN --network without a labs frontend: current BuildKit keys the network mode.
    name: 'RUN --network',
    dockerfile: simple('RUN --network=default echo done', 'RUN echo after'),
    change: edit('--network=default', '--network=none'),
    cached: { 'RUN echo @N@': true, 'RUN --network=none echo done': false, 'RUN echo after': false },
  },
  {
    // Docker 20.10 has no --no-cache-filter: current BuildKit reruns the stage's steps; what follows them
    // keeps its definition key, so COPY --from stays cached.
    name: '--no-cache-filter of a stage that another copies from',
    dockerfile: [
      'FROM tsbuild-busybox:latest AS a',
      'RUN echo @N@a',
      'FROM tsbuild-busybox:latest',
      'RUN echo @N@',
      'COPY --from=a /etc/passwd /p',
      'RUN echo done',
    ],
    second: { noCacheFilter: ['a'] },
    cached: {
      'RUN echo @N@a': false,
      'RUN echo @N@': true,
      'COPY --from=a /etc/passwd /p': true,
      'RUN echo done': true,
    },
  },
  {
    name: '--target switched to a later stage',
    dockerfile: [
      'FROM tsbuild-busybox:latest AS a',
      'RUN echo @N@a',
      'FROM a AS b',
      'RUN echo @N@b',
      'FROM b AS c',
      'RUN echo c',
    ],
    first: { target: 'b' },
    second: { target: 'c' },
    cached: { 'RUN echo @N@a': true, 'RUN echo @N@b': true, 'RUN echo c': false },
  },
  // The base image.
  {
    name: 'the same image under another tag',
    dockerfile: simple('COPY a.txt /a', 'RUN echo done'),
    files: { 'a.txt': 'one\n' },
    setup: () => tag('tsbuild-busybox:latest', 'tsbuild-busybox:parity'),
    change: edit('tsbuild-busybox:latest', 'tsbuild-busybox:parity'),
    cached: copyRun(true, true),
  },
];

function tag(from: string, to: string): void {
  const r = tsbuild(['--root', root, 'tag', from, to]);
  expect(r.stderr).toBe('');
}

/** A one-file ustar archive. */
function tarOf(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\x0000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}

async function rebuild(c: Case) {
  const nonce = randomBytes(6).toString('hex');
  const files = { ...(c.files ?? {}), Dockerfile: `${c.dockerfile.join('\n').replaceAll('@N@', nonce)}\n` };
  const ctx = makeContext(dir, files);
  try {
    c.setup?.(ctx);
    await buildCollecting({ root, context: ctx, ...c.first });
    c.change?.(ctx);
    const again = await buildCollecting({ root, context: ctx, debugCache: true, ...c.second });
    const got = Object.fromEntries(
      again.done.filter((d) => !d.step.name.startsWith('FROM ')).map((d) => [d.step.name, d.cached]),
    );
    const want = Object.fromEntries(Object.entries(c.cached).map(([k, v]) => [k.replaceAll('@N@', nonce), v]));
    return { got, want, again };
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

describe('a rebuild hits and misses the cache where docker build does, after a change of', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { got, want } = await rebuild(c);
      expect(got).toEqual(want);
    });
  }

  it('a different image under the same name misses from the first step, and --debug-cache names the base', async () => {
    const base = makeContext(dir, { Dockerfile: 'FROM tsbuild-busybox:latest\nRUN echo one > /base\n' });
    try {
      await buildCollecting({ root, context: base, tags: ['parity-base:x'] });
      const nonce = randomBytes(6).toString('hex');
      const ctx = makeContext(dir, {
        Dockerfile: `FROM parity-base:x\nRUN echo ${nonce}\nCOPY a.txt /a\nRUN echo done\n`,
        'a.txt': 'one\n',
      });
      await buildCollecting({ root, context: ctx });
      writeFileSync(join(base, 'Dockerfile'), 'FROM tsbuild-busybox:latest\nRUN echo two > /base\n');
      await buildCollecting({ root, context: base, tags: ['parity-base:x'] });
      const again = await buildCollecting({ root, context: ctx, debugCache: true });
      expect(again.done.filter((d) => !d.step.name.startsWith('FROM ')).map((d) => d.cached)).toEqual([
        false,
        false,
        false,
      ]);
      const first = again.events.find((e) => e.type === 'cache-miss');
      expect(first?.type === 'cache-miss' && first.reason).toMatch(
        /^no cached result on base image sha256:[0-9a-f]{64} \(the base image is new or changed\)$/,
      );
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('RUN --mount=type=bind,from=IMAGE runs again when the name comes to mean another image', async () => {
    const base = makeContext(dir, { Dockerfile: 'FROM tsbuild-busybox:latest\nRUN echo one > /base\n' });
    try {
      await buildCollecting({ root, context: base, tags: ['parity-mount:x'] });
      const nonce = randomBytes(6).toString('hex');
      const ctx = makeContext(dir, {
        Dockerfile: `FROM tsbuild-busybox:latest\nRUN echo ${nonce}\nRUN --mount=type=bind,from=parity-mount:x,target=/m cat /m/base > /seen\n`,
      });
      await buildCollecting({ root, context: ctx });
      writeFileSync(join(base, 'Dockerfile'), 'FROM tsbuild-busybox:latest\nRUN echo two > /base\n');
      await buildCollecting({ root, context: base, tags: ['parity-mount:x'] });
      const again = await buildCollecting({ root, context: ctx });
      expect(again.done.filter((d) => !d.step.name.startsWith('FROM ')).map((d) => d.cached)).toEqual([true, false]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('--debug-cache names the first input that differs', () => {
  const reason = async (c: Case) => {
    const { again } = await rebuild(c);
    return again.events.flatMap((e) => (e.type === 'cache-miss' ? [e.reason] : []));
  };

  it('a RUN after an ENV change names env, and the step after it the previous step', async () => {
    const reasons = await reason({
      name: 'env',
      dockerfile: simple('ENV X=1', 'RUN echo done', 'RUN echo after'),
      change: edit('X=1', 'X=2'),
      cached: {},
    });
    expect(reasons[0]).toMatch(/^env differs: was \[.*"X=1"\], now \[.*"X=2"\]$/);
    expect(reasons[1]).toBe('no cached result after the previous step (it or an earlier step changed)');
  });

  it('a COPY --from whose files changed names their content in the stage', async () => {
    const reasons = await reason({
      name: 'from',
      dockerfile: fromStage('echo u1 > /d/g'),
      change: edit('echo u1', 'echo u2'),
      cached: {},
    });
    expect(reasons[0]).toBe(
      'args differs: was ["/bin/sh","-c","echo u1 > /d/g"], now ["/bin/sh","-c","echo u2 > /d/g"]',
    );
    expect(reasons[1]).toMatch(/^content of from:0:d differs: was sha256:[0-9a-f]{64}, now sha256:[0-9a-f]{64}$/);
  });

  it('a USER change names user, a cache mount id names mounts', async () => {
    const user = await reason({
      name: 'user',
      dockerfile: simple('USER 1', 'RUN echo done'),
      change: edit('USER 1', 'USER 2'),
      cached: {},
    });
    expect(user[0]).toBe('user differs: was "1", now "2"');
    const mount = await reason({
      name: 'mount',
      dockerfile: simple('RUN --mount=type=cache,id=c1,target=/c echo done'),
      change: edit('id=c1', 'id=c2'),
      cached: {},
    });
    expect(mount[0]).toMatch(/^mounts differs: was \[.*"id":"c1".*\], now \[.*"id":"c2".*\]$/);
  });

  it('an instruction of another kind on the same parent says so', async () => {
    const reasons = await reason({
      name: 'kind',
      dockerfile: simple('RUN echo done'),
      files: { 'a.txt': 'one\n' },
      change: edit('RUN echo done', 'COPY a.txt /a'),
      cached: {},
    });
    expect(reasons[0]).toBe('the instruction differs: was RUN, now COPY');
  });
});
