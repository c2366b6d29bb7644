import { describe, expect, it } from 'vitest';
import type { CopyStep, RunStep } from '../../../../parser/dag/index.js';
import { ARM64, envValue, graph, lastRun, refs, targetSteps, thrown } from './helpers.js';

const BB = 'FROM busybox\n';

describe('ARG scoping', () => {
  // `docker:` rows were built with DOCKER_BUILDKIT=1 /usr/bin/docker build (20.10) and the result compared.
  it.each([
    [
      'a global ARG is not visible in a stage without re-declaring it (docker)',
      'ARG G=g\nFROM busybox\nENV X=a$G\nRUN true',
      {},
      'X',
      'a',
    ],
    [
      'a re-declared global ARG takes the global value (docker)',
      'ARG G=g\nFROM busybox\nARG G\nRUN true',
      {},
      'G',
      'g',
    ],
    [
      'a build arg overrides a global default seen through re-declaration',
      'ARG G=g\nFROM busybox\nARG G\nRUN true',
      { G: 'b' },
      'G',
      'b',
    ],
    ['a build arg overrides a stage ARG default (docker)', 'FROM busybox\nARG A=1\nRUN true', { A: '2' }, 'A', '2'],
    [
      'an ARG default sees the build arg of an earlier ARG (docker)',
      'FROM busybox\nARG A=1\nARG C=$A-x\nRUN true',
      { A: '2' },
      'C',
      '2-x',
    ],
    ['an ARG without default or build arg is not in the env', 'FROM busybox\nARG D\nRUN true', {}, 'D', undefined],
    ['an ARG without default takes the build arg (docker)', 'FROM busybox\nARG D\nRUN true', { D: 'dd' }, 'D', 'dd'],
    ['ENV after ARG wins (docker)', 'FROM busybox\nARG Y=argy\nENV Y=envy\nRUN true', {}, 'Y', 'envy'],
    ['a stage ARG name is a word: quotes go (docker)', 'FROM busybox\nARG "Q"=1\nRUN true', {}, 'Q', '1'],
    ['a quoted stage ARG name takes its build arg (docker)', "FROM busybox\nARG 'Q'\nRUN true", { Q: 'b' }, 'Q', 'b'],
    ['ARG after ENV wins, in order (docker)', 'FROM busybox\nENV X=env\nARG X=arg\nRUN true', {}, 'X', 'arg'],
    [
      'ENV in one instruction sees the old values (docker)',
      'FROM busybox\nENV a=old\nENV a=x b=$a\nRUN true',
      {},
      'b',
      'old',
    ],
    ['ARG in one instruction sees the old values (docker)', 'FROM busybox\nARG a=x b=$a\nRUN true', {}, 'b', ''],
    [
      'a derived stage inherits the ARG values in its env (docker)',
      'FROM busybox AS one\nARG A=1\nFROM one\nRUN true',
      {},
      'A',
      '1',
    ],
    [
      'ENV refers to the base image env',
      'FROM busybox\nENV P=$PATH:/x\nRUN true',
      {},
      'P',
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/x',
    ],
  ])('%s', (_name, text, buildArgs, key, value) => {
    expect(envValue(lastRun(graph(text, { buildArgs })).env, key)).toBe(value);
  });

  it('global ARGs expand in FROM lines, with build args overriding defaults', () => {
    const text = 'ARG V=1.0\nARG IMG=busybox:$V\nFROM $IMG';
    expect(graph(text).stages[0]!.base).toMatchObject({ type: 'image', ref: 'busybox:1.0' });
    expect(graph(text, { buildArgs: { V: '2' } }).stages[0]!.base).toMatchObject({ ref: 'busybox:2' });
    expect(graph(text, { buildArgs: { IMG: 'alpine' } }).stages[0]!.base).toMatchObject({
      ref: 'alpine',
      normalized: 'docker.io/library/alpine:latest',
    });
  });
});

describe('predefined args', () => {
  it('platform args must be declared to be used in a stage (docker)', () => {
    const g = graph(
      `${BB}ARG TARGETPLATFORM\nARG BUILDARCH\nENV T=$TARGETPLATFORM A=$TARGETARCH B=$BUILDARCH\nRUN true`,
    );
    const env = lastRun(g).env;
    expect([envValue(env, 'T'), envValue(env, 'A'), envValue(env, 'B')]).toEqual(['linux/amd64', '', 'amd64']);
  });

  it('platform args follow the target and build platforms', () => {
    const g = graph(`FROM --platform=$BUILDPLATFORM busybox AS b\nARG TARGETARCH\nRUN true`, {
      platform: ARM64,
    });
    expect(g.stages[0]!.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(envValue(lastRun(g).env, 'TARGETARCH')).toBe('arm64');
  });

  it('platform args are available in FROM lines without declaration', () => {
    const g = graph('FROM busybox:$TARGETARCH', { platform: ARM64 });
    expect(g.stages[0]!.base).toMatchObject({ ref: 'busybox:arm64', platform: ARM64 });
  });

  it('proxy build args reach RUN without declaration and stay out of env and history (docker)', () => {
    const g = graph(`${BB}RUN true`, { buildArgs: { http_proxy: 'http://p:1' } });
    const run = lastRun(g);
    expect(run.proxyEnv).toEqual(['HTTP_PROXY=http://p:1', 'http_proxy=http://p:1']);
    expect(envValue(run.env, 'http_proxy')).toBeUndefined();
    expect(run.history?.createdBy).toBe('RUN /bin/sh -c true # buildkit');
    expect(g.buildArgs).toEqual({ used: ['http_proxy'], unused: [] });
  });

  it('build args no ARG declares are reported as not consumed', () => {
    const g = graph(`ARG G\n${BB}ARG A\nRUN true`, {
      buildArgs: { A: '1', G: '2', NOPE: '3', BUILDKIT_INLINE_CACHE: '1' },
    });
    expect(g.buildArgs).toEqual({ used: ['A', 'BUILDKIT_INLINE_CACHE', 'G'], unused: ['NOPE'] });
    expect(g.warnings).toMatchObject([
      { severity: 'warning', code: 'TSB_BUILD_ARG_UNUSED', message: 'one or more build-args [NOPE] were not consumed' },
    ]);
  });
});

describe('history created_by (confirmed with docker history --no-trunc)', () => {
  it('writes each instruction as current BuildKit does', () => {
    const text = [
      'FROM busybox',
      'ARG A=1',
      'ARG B',
      'ENV E1=x E2="y z"',
      'LABEL l1=v1 "l 2"="v 2"',
      'WORKDIR /w',
      'WORKDIR sub',
      'USER 1000:1000',
      'EXPOSE 80 53/udp 8000-8002',
      'VOLUME /v1 /v2',
      'STOPSIGNAL SIGTERM',
      'SHELL ["/bin/sh", "-ec"]',
      'HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD echo ok',
      'CMD echo hello',
      'ENTRYPOINT ["/bin/echo", "x"]',
      'MAINTAINER me <me@x>',
      'COPY --chown=1:1 --chmod=600 a.txt a.txt /dst/',
      'ADD a.txt /b.txt',
      'RUN ["echo", "exec", "$A"]',
      'RUN echo shell $A',
      'WORKDIR /',
      'HEALTHCHECK NONE',
    ].join('\n');
    const steps = targetSteps(graph(text, { buildArgs: { B: 'bb' } }));
    expect(steps.map((s) => [s.history?.createdBy, s.history?.emptyLayer])).toEqual([
      ['ARG A=1', true],
      ['ARG B', true],
      ['ENV E1=x E2=y z', true],
      ['LABEL l1=v1 l 2=v 2', true],
      ['WORKDIR /w', false],
      ['WORKDIR /w/sub', false],
      ['USER 1000:1000', true],
      ['EXPOSE map[53/udp:{} 80/tcp:{} 8000/tcp:{} 8001/tcp:{} 8002/tcp:{}]', true],
      ['VOLUME [/v1 /v2]', true],
      ['STOPSIGNAL SIGTERM', true],
      ['SHELL [/bin/sh -ec]', true],
      ['HEALTHCHECK &{["CMD-SHELL" "echo ok"] "30s" "5s" "0s" "0s" \'\\x02\'}', true],
      ['CMD ["/bin/sh" "-ec" "echo hello"]', true],
      ['ENTRYPOINT ["/bin/echo" "x"]', true],
      ['MAINTAINER me <me@x>', true],
      ['COPY --chown=1:1 --chmod=600 a.txt a.txt /dst/ # buildkit', false],
      ['ADD a.txt /b.txt # buildkit', false],
      ['RUN |2 A=1 B=bb echo exec $A # buildkit', false],
      ['RUN |2 A=1 B=bb /bin/sh -ec echo shell $A # buildkit', false],
      ['WORKDIR /', true],
      ['HEALTHCHECK &{["NONE"] "0s" "0s" "0s" "0s" \'\\x00\'}', true],
    ]);
  });

  it('lists only the stage own ARGs in RUN, with the values the process sees (docker)', () => {
    const text = 'ARG G2=g2\nFROM busybox AS one\nARG A=1\nFROM one\nARG G2\nARG TARGETPLATFORM\nRUN echo';
    expect(lastRun(graph(text)).history?.createdBy).toBe(
      'RUN |2 G2=g2 TARGETPLATFORM=linux/amd64 /bin/sh -c echo # buildkit',
    );
  });

  it('shows a declared ARG without value as empty', () => {
    expect(lastRun(graph(`${BB}ARG X\nRUN echo`)).history?.createdBy).toBe('RUN |1 X= /bin/sh -c echo # buildkit');
  });
});

describe('image config', () => {
  it('applies every step to the base config', () => {
    const base = { Env: ['PATH=/bin', 'A=base'], Cmd: ['sh'], WorkingDir: '/srv', User: 'app', Labels: { x: '1' } };
    const g = graph(`${BB}ENV A=mine\nLABEL y=2\nEXPOSE 80/TCP\nWORKDIR rel\nENTRYPOINT ["/e"]\nVOLUME ["/data"]`, {
      baseImage: () => base,
    });
    expect(g.stages[0]!.config).toEqual({
      Env: ['PATH=/bin', 'A=mine'],
      Cmd: null,
      WorkingDir: '/srv/rel',
      User: 'app',
      Labels: { x: '1', y: '2' },
      ExposedPorts: { '80/tcp': {} },
      Entrypoint: ['/e'],
      Volumes: { '/data': {} },
    });
  });

  it('keeps CMD when ENTRYPOINT follows a CMD of the same stage (docker)', () => {
    const g = graph(`${BB}CMD ["c"]\nENTRYPOINT ["/e"]`, { baseImage: () => ({ Cmd: ['sh'] }) });
    expect(g.stages[0]!.config).toMatchObject({ Cmd: ['c'], Entrypoint: ['/e'], ArgsEscaped: true });
  });

  it("keeps the base image's author until a MAINTAINER, through stages, outside the config (docker)", () => {
    const baseImage = () => ({ Cmd: ['sh'], author: 'base-author' });
    const g = graph('FROM busybox AS a\nENV A=1\nFROM a AS b\nFROM b\nMAINTAINER me', { baseImage, target: 'b' });
    expect(g.stages.map((s) => s.author)).toEqual(['base-author', 'base-author']);
    expect(g.stages[0]!.config).not.toHaveProperty('author');
    expect(graph(`${BB}MAINTAINER me`, { baseImage }).stages[0]!.author).toBe('me');
  });

  it('reads SOURCE_DATE_EPOCH from the build arg, else a global ARG, as a time the config writes', () => {
    expect(graph(BB).epoch).toBeUndefined();
    expect(graph(BB, { buildArgs: { SOURCE_DATE_EPOCH: '0' } }).epoch).toBe('1970-01-01T00:00:00Z');
    expect(graph(`ARG SOURCE_DATE_EPOCH=1577836800\n${BB}`).epoch).toBe('2020-01-01T00:00:00Z');
    expect(graph(`ARG SOURCE_DATE_EPOCH\n${BB}`).epoch).toBeUndefined();
    const err = thrown(() => graph(BB, { buildArgs: { SOURCE_DATE_EPOCH: 'yesterday' } }));
    expect(err.code).toBe('TSB_BUILD_ARG_INVALID');
    expect(err.message).toContain('invalid SOURCE_DATE_EPOCH: yesterday');
  });

  it('starts scratch with WorkingDir / and the default PATH (docker)', () => {
    expect(graph('FROM scratch\nENV A=1').stages[0]!.config.WorkingDir).toBe('/');
    expect(graph('FROM scratch\nENV A=1').stages[0]!.config.Env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'A=1',
    ]);
  });

  it('runs shell forms through SHELL, exec forms as written', () => {
    const g = graph(`${BB}SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN echo $HOME | wc\nRUN ["ls", "$HOME"]`);
    const runs = targetSteps(g).filter((s): s is RunStep => s.op === 'run');
    expect(runs.map((r) => r.args)).toEqual([
      ['/bin/bash', '-o', 'pipefail', '-c', 'echo $HOME | wc'],
      ['ls', '$HOME'],
    ]);
  });

  it('resolves USER, WORKDIR and mounts for RUN', () => {
    const g = graph(
      `${BB}ARG C=/root/.cache\nWORKDIR /app\nUSER 1000\nRUN --mount=type=cache,target=$C --mount=type=bind,source=src,target=s --mount=type=secret,id=tok --network=none true`,
    );
    const run = lastRun(g);
    expect([run.user, run.workdir, run.network]).toEqual(['1000', '/app', 'none']);
    expect(run.mounts).toEqual([
      {
        type: 'cache',
        target: '/root/.cache',
        id: '/root/.cache',
        sharing: 'shared',
        source: '/',
        mode: 0o755,
        uid: 0,
        gid: 0,
        readonly: false,
      },
      { type: 'bind', target: '/app/s', source: '/src', readwrite: false },
      { type: 'secret', id: 'tok', target: '/run/secrets/tok', required: false, mode: 0o400, uid: 0, gid: 0 },
    ]);
  });

  it('runs a single heredoc with a #! line as a script file', () => {
    const g = graph(`${BB}RUN <<EOF\n#!/bin/sh\necho hi\nEOF`);
    const run = lastRun(g);
    expect(run.files).toEqual([{ path: '/dev/pipes/EOF', content: '#!/bin/sh\necho hi\n', mode: 0o755 }]);
    expect(run.args).toEqual(['/bin/sh', '-c', '/dev/pipes/EOF']);
  });

  it('passes other heredocs to the shell', () => {
    expect(lastRun(graph(`${BB}RUN <<EOF\necho hi\nEOF`)).args).toEqual(['/bin/sh', '-c', 'echo hi\n']);
    expect(lastRun(graph(`${BB}RUN cat <<EOF > /x\nhi\nEOF`)).args).toEqual([
      '/bin/sh',
      '-c',
      'cat <<EOF > /x\nhi\nEOF',
    ]);
  });

  it('expands COPY sources, destination and flags, and resolves the destination against WORKDIR', () => {
    const g = graph(`${BB}ARG S=src U=app\nWORKDIR /w\nCOPY --chown=$U --chmod=0640 $S/a \${S}/b dir/\nCOPY x .`);
    const copies = targetSteps(g).filter((s): s is CopyStep => s.op === 'copy');
    expect(copies[0]).toMatchObject({
      sources: [
        { type: 'path', path: 'src/a' },
        { type: 'path', path: 'src/b' },
      ],
      dest: 'dir/',
      destPath: '/w/dir/',
      chown: 'app',
      chmod: { raw: '0640', mode: 0o640 },
    });
    expect(copies[1]).toMatchObject({ destPath: '/w/' });
  });
});

describe('stages and targets', () => {
  const multi = [
    'FROM busybox AS base',
    'RUN true',
    'FROM base AS build',
    'RUN make',
    'FROM busybox AS unused',
    'RUN true',
    'FROM scratch AS final',
    'COPY --from=build /out /out',
    'COPY --from=0 /etc/passwd /etc/passwd',
    'COPY --from=alpine:3 /bin/sh /sh',
  ].join('\n');

  it('prunes the stages the target does not need', () => {
    const g = graph(multi);
    expect(g.target).toBe(3);
    expect(g.stages.map((s) => s.index)).toEqual([0, 1, 3]);
    expect(g.pruned).toEqual([{ index: 2, name: 'unused' }]);
    expect(g.stages[2]!.dependencies).toEqual([0, 1]);
  });

  it('resolves COPY --from by name, by index, and as an image', () => {
    const copies = targetSteps(graph(multi)).filter((s): s is CopyStep => s.op === 'copy');
    expect(copies.map((c) => c.from)).toEqual([
      { type: 'stage', stage: 1 },
      { type: 'stage', stage: 0 },
      {
        type: 'image',
        ref: 'alpine:3',
        normalized: 'docker.io/library/alpine:3',
        platform: { os: 'linux', architecture: 'amd64' },
      },
    ]);
  });

  it('finds the target by name case-insensitively, not by index', () => {
    expect(graph(multi, { target: 'BUILD' }).stages.map((s) => s.index)).toEqual([0, 1]);
    const err = thrown(() => graph(multi, { target: '2' }));
    expect(err.code).toBe('TSB_DOCKERFILE_UNKNOWN_TARGET');
    expect(err.message).toBe('target stage "2" could not be found');
  });

  it('takes FROM <stage> as the stage and its state', () => {
    const g = graph('FROM busybox AS a\nENV X=1\nWORKDIR /a\nFROM a\nRUN true');
    expect(g.stages[1]!.base).toEqual({ type: 'stage', stage: 0 });
    expect([envValue(lastRun(g).env, 'X'), lastRun(g).workdir]).toEqual(['1', '/a']);
  });

  it('treats a later stage name in FROM as an image', () => {
    expect(graph('FROM b AS a\nFROM busybox AS b', { target: 'a' }).stages[0]!.base).toMatchObject({
      type: 'image',
      ref: 'b',
    });
  });

  it('records RUN --mount from= as a dependency', () => {
    const g = graph('FROM busybox AS tools\nFROM busybox\nRUN --mount=from=tools,target=/t true');
    expect(g.stages.map((s) => s.index)).toEqual([0, 1]);
    expect(lastRun(g).mounts[0]).toMatchObject({ type: 'bind', from: { type: 'stage', stage: 0 } });
  });

  it('lists the base images the target needs', () => {
    expect(refs(multi).map((r) => [r.ref, r.use, r.range.start.line])).toEqual([
      ['busybox', 'base', 1],
      ['alpine:3', 'copy', 10],
    ]);
  });
});

describe('ONBUILD', () => {
  it('inserts the base image triggers right after FROM', () => {
    const g = graph('FROM busybox AS src\nFROM base\nRUN mine', {
      baseImage: (ref) => (ref === 'base' ? { OnBuild: ['RUN echo trigger', 'COPY --from=src /a /a'] } : undefined),
    });
    const steps = targetSteps(g);
    expect(steps.map((s) => [s.op, s.onbuild ?? false, s.range.start.line])).toEqual([
      ['run', true, 2],
      ['copy', true, 2],
      ['run', false, 3],
    ]);
    expect(g.stages.map((s) => s.index)).toEqual([0, 1]);
    expect(g.stages[1]!.config.OnBuild).toBeNull();
  });

  it('runs the ONBUILD instructions of a base stage in the derived stage (docker)', () => {
    const g = graph('FROM busybox AS one\nONBUILD RUN echo onbuild\nFROM one\nRUN mine');
    expect(g.stages[0]!.config.OnBuild).toEqual(['RUN echo onbuild']);
    expect(targetSteps(g).map((s) => s.name)).toEqual(['RUN echo onbuild', 'RUN mine']);
    expect(g.stages[1]!.config.OnBuild).toBeNull();
  });
});

describe('errors', () => {
  it.each([
    [
      'a self-reference is a cycle (docker)',
      'FROM busybox AS a\nCOPY --from=a /x /y',
      'TSB_DOCKERFILE_CYCLE',
      'circular dependency detected on stage: a',
      2,
    ],
    [
      'a cycle through two stages',
      'FROM busybox AS a\nCOPY --from=b /x /y\nFROM busybox AS b\nCOPY --from=a /x /y',
      'TSB_DOCKERFILE_CYCLE',
      'circular dependency detected on stage: a',
      2,
    ],
    [
      'a forward COPY --from',
      'FROM busybox AS a\nCOPY --from=b /x /y\nFROM busybox AS b\nFROM a',
      'TSB_DOCKERFILE_STAGE_ORDER',
      'cannot copy from stage "b", it needs to be defined before current stage "a"',
      2,
    ],
    [
      'an index past the last stage (docker)',
      'FROM busybox AS a\nCOPY --from=5 /x /y',
      'TSB_DOCKERFILE_UNKNOWN_STAGE',
      'invalid stage index 5',
      2,
    ],
    [
      'a variable in --from',
      'FROM busybox\nARG S=a\nCOPY --from=$S /x /y',
      'TSB_DOCKERFILE_FROM_VARIABLE',
      'variable expansion is not supported for --from',
      3,
    ],
    [
      'a required variable that is unset',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile text
      'FROM busybox\nWORKDIR ${DIR:?needs a dir}',
      'TSB_DOCKERFILE_EXPANSION_REQUIRED',
      'DIR: needs a dir',
      2,
    ],
    ['a blank base name', 'ARG B\nFROM $B', 'TSB_DOCKERFILE_BLANK_BASE', 'base name ($B) should not be blank', 2],
    ['an invalid base reference', 'FROM Busybox', 'TSB_DOCKERFILE_BAD_BASE', 'failed to parse stage name "Busybox"', 1],
    [
      'a stage name in other case as the base (docker looks it up as written)',
      'FROM busybox AS a\nFROM A',
      'TSB_DOCKERFILE_BAD_BASE',
      'failed to parse stage name "A": invalid reference format: repository name must be lowercase',
      2,
    ],
    ['an invalid EXPOSE', 'FROM busybox\nEXPOSE 80/xyz', 'TSB_DOCKERFILE_EXPOSE', 'invalid proto: xyz', 2],
    [
      'a bad --chmod',
      'FROM busybox\nCOPY --chmod=999 a /b',
      'TSB_DOCKERFILE_CHMOD',
      "invalid chmod parameter: '999'",
      2,
    ],
    ['a bad STOPSIGNAL', 'FROM busybox\nSTOPSIGNAL SIGNOPE', 'TSB_DOCKERFILE_SIGNAL', 'invalid signal: SIGNOPE', 2],
    [
      'an instruction before FROM',
      'RUN true\nFROM busybox',
      'TSB_DOCKERFILE_NO_STAGE',
      'no build stage in current context',
      1,
    ],
  ])('%s', (_name, text, code, message, line) => {
    const err = thrown(() => graph(text));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
    expect(err.ranges[0]!.start.line).toBe(line);
    expect((err as unknown as { file: string }).file).toBe('Dockerfile');
  });

  it('an unknown target names the target and suggests a stage', () => {
    const err = thrown(() => graph('FROM busybox AS build\nFROM busybox', { target: 'biuld' }));
    expect(err.code).toBe('TSB_DOCKERFILE_UNKNOWN_TARGET');
    expect(err.message).toBe('target stage "biuld" could not be found (did you mean build?)');
    expect(err.ranges[0]!.start.line).toBe(2);
  });
});

describe('determinism', () => {
  it('gives the same JSON for the same input', () => {
    const text = 'ARG V=1\nFROM busybox:$V AS a\nENV A=1\nRUN x\nFROM a\nCOPY --from=a / /';
    expect(JSON.stringify(graph(text))).toBe(JSON.stringify(graph(text)));
    expect(JSON.parse(JSON.stringify(graph(text)))).toEqual(graph(text));
  });
});
