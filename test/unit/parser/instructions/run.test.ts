import { describe, expect, it } from 'vitest';
import { fault, one } from './helpers.js';

describe('RUN, CMD, ENTRYPOINT and SHELL', () => {
  it('RUN has the shell form as written and the exec form as a JSON array', () => {
    expect(one('run', 'RUN echo "$HOME" > /x').command).toEqual({
      form: 'shell',
      command: 'echo "$HOME" > /x',
      range: { start: { line: 2, column: 5 }, end: { line: 2, column: 21 } },
    });
    expect(one('run', 'RUN ["/bin/echo", "a b", "$HOME"]').command).toMatchObject({
      form: 'exec',
      args: ['/bin/echo', 'a b', '$HOME'],
    });
  });

  it('invalid JSON is the shell form; a JSON array of other things is an error', () => {
    expect(one('cmd', "CMD ['a']").command).toMatchObject({ form: 'shell', command: "['a']" });
    expect(fault('ENTRYPOINT ["a", null]')).toMatchObject({
      code: 'TSB_DOCKERFILE_JSON',
      message: 'when using JSON array syntax, arrays must be comprised of strings only',
    });
  });

  it('RUN --network and --security take their known values', () => {
    expect(one('run', 'RUN --network=none --security=insecure x')).toMatchObject({
      network: 'none',
      security: 'insecure',
    });
    expect(fault('RUN --security=root x').message).toBe('unsupported security mode "root"');
    expect(fault('RUN --network x').message).toBe('missing a value on flag: --network');
  });

  it('CMD and ENTRYPOINT may be empty', () => {
    expect(one('cmd', 'CMD').command).toMatchObject({ form: 'shell', command: '' });
    expect(one('entrypoint', 'ENTRYPOINT []').command).toMatchObject({ form: 'exec', args: [] });
  });

  it('SHELL requires a non-empty JSON array', () => {
    expect(one('shell', 'SHELL ["/bin/bash", "-c"]').args).toEqual(['/bin/bash', '-c']);
    expect(fault('SHELL []').message).toBe('SHELL requires at least one argument');
    expect(fault('SHELL bash -c').message).toBe('SHELL requires the arguments to be in JSON form');
  });
});
