import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../../cli/commands/_import-changes.js';

describe('import --change', () => {
  it('applies CMD, ENV (expanded), EXPOSE, LABEL, WORKDIR, USER, VOLUME and ONBUILD as Docker does', () => {
    const config = applyChanges([
      'CMD ["/bin/echo","hi"]',
      'ENV A=1 B="x y"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile ${VAR}
      'ENV C=$A-${B}',
      'EXPOSE 80 53/udp',
      'LABEL a=b "c d"=e',
      'WORKDIR /srv',
      'WORKDIR sub',
      'USER nobody',
      'VOLUME /data',
      'ONBUILD RUN echo hi',
    ]);
    expect(config).toEqual({
      Cmd: ['/bin/echo', 'hi'],
      Env: ['A=1', 'B=x y', 'C=1-x y'],
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Labels: { a: 'b', 'c d': 'e' },
      WorkingDir: '/srv/sub',
      User: 'nobody',
      Volumes: { '/data': {} },
      OnBuild: ['RUN echo hi'],
    });
  });

  it('takes the shell form of CMD and ENTRYPOINT through /bin/sh -c; ENTRYPOINT clears CMD', () => {
    expect(applyChanges(['CMD echo hi'])).toEqual({ Cmd: ['/bin/sh', '-c', 'echo hi'] });
    expect(applyChanges(['CMD x', 'ENTRYPOINT echo'])).toEqual({ Entrypoint: ['/bin/sh', '-c', 'echo'], Cmd: null });
  });

  it('refuses what Docker refuses, in its words', () => {
    expect(() => applyChanges(['RUN echo'])).toThrow('run is not a valid change command');
    expect(() => applyChanges(['STOPSIGNAL 9'])).toThrow('stopsignal is not a valid change command');
  });
});
