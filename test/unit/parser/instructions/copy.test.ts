import { describe, expect, it } from 'vitest';
import { fault, one } from './helpers.js';

describe('COPY and ADD', () => {
  it('splits sources and destination on whitespace in the shell form', () => {
    const copy = one('copy', 'COPY a "b c" /dst/');
    expect(copy.form).toBe('shell');
    expect(copy.sources.map((s) => s.value)).toEqual(['a', '"b', 'c"']);
    expect(copy.dest).toEqual({
      value: '/dst/',
      range: { start: { line: 2, column: 14 }, end: { line: 2, column: 18 } },
    });
  });

  it('takes a JSON array in the exec form', () => {
    const add = one('add', 'ADD ["a b", "c", "/d e/"]');
    expect(add.form).toBe('exec');
    expect(add.sources.map((s) => s.value)).toEqual(['a b', 'c']);
    expect(add.dest.value).toBe('/d e/');
    expect(add.dest.range.start).toEqual({ line: 2, column: 18 });
  });

  it('ADD flags', () => {
    expect(one('add', 'ADD --checksum=sha256:abc --keep-git-dir --unpack=true x /y')).toMatchObject({
      checksum: 'sha256:abc',
      keepGitDir: true,
      unpack: true,
      link: false,
      exclude: [],
    });
  });

  it('needs a destination, which cannot be a heredoc', () => {
    expect(fault('ADD x').message).toContain('ADD requires at least two arguments');
    expect(fault('COPY ["x"]').message).toContain('COPY requires at least two arguments');
    expect(fault('COPY x <<EOF\nbody\nEOF').message).toBe('COPY cannot accept a heredoc as a destination');
  });
});

describe('FROM, ONBUILD and single-argument instructions', () => {
  it('FROM image [AS name] keeps the AS keyword as written', () => {
    const from = one('from', 'FROM img:1 as Build');
    expect(from.asKeyword?.value).toBe('as');
    expect(from.stageName?.value).toBe('Build');
    expect(fault('FROM a AS b c').message).toBe('FROM requires either one or three arguments');
    expect(fault('FROM a FOR b').message).toBe('FROM requires either one or three arguments');
    expect(fault('FROM a AS b/c').code).toBe('TSB_DOCKERFILE_STAGE_NAME');
  });

  it('ONBUILD wraps one typed instruction and keeps its trigger text', () => {
    const on = one('onbuild', 'ONBUILD   COPY --from=x a b');
    expect(on.expression).toBe('COPY --from=x a b');
    expect(on.instruction).toMatchObject({ kind: 'copy', from: 'x', original: 'COPY --from=x a b' });
    expect(on.instruction.range.start).toEqual({ line: 2, column: 11 });
    expect(fault('ONBUILD BOGUS x').code).toBe('TSB_DOCKERFILE_UNKNOWN_INSTRUCTION');
    expect(fault('ONBUILD COPY x').message).toContain('COPY requires at least two arguments');
  });

  it('USER, WORKDIR, STOPSIGNAL and MAINTAINER take the rest of the line', () => {
    expect(one('user', 'USER app:staff').user.value).toBe('app:staff');
    expect(one('workdir', 'WORKDIR /a b').path.value).toBe('/a b');
    expect(one('stopsignal', 'STOPSIGNAL SIGKILL').signal.value).toBe('SIGKILL');
    expect(one('maintainer', 'MAINTAINER A <a@b>').name).toBe('A <a@b>');
    expect(fault('WORKDIR').message).toBe('WORKDIR requires exactly one argument');
  });

  it('EXPOSE and VOLUME keep their words', () => {
    expect(one('expose', 'EXPOSE 80 53/udp').ports.map((p) => p.value)).toEqual(['80', '53/udp']);
    expect(one('volume', 'VOLUME /a /b')).toMatchObject({ form: 'shell', paths: [{ value: '/a' }, { value: '/b' }] });
    expect(one('volume', 'VOLUME ["/a"]')).toMatchObject({ form: 'exec', paths: [{ value: '/a' }] });
    expect(fault('VOLUME').message).toBe('VOLUME requires at least one argument');
  });
});
