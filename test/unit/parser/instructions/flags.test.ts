import { describe, expect, it } from 'vitest';
import { INSTRUCTION_FLAGS } from '../../../../parser/instructions/index.js';
import { fault, one } from './helpers.js';

describe('instruction flags', () => {
  it('accepts the flags BuildKit defines for each instruction', () => {
    expect(Object.keys(INSTRUCTION_FLAGS.copy).sort()).toEqual([
      'chmod',
      'chown',
      'exclude',
      'from',
      'link',
      'parents',
    ]);
    expect(Object.keys(INSTRUCTION_FLAGS.add).sort()).toEqual([
      'checksum',
      'chmod',
      'chown',
      'exclude',
      'keep-git-dir',
      'link',
      'unpack',
    ]);
    expect(Object.keys(INSTRUCTION_FLAGS.run).sort()).toEqual(['mount', 'network', 'security']);
    expect(Object.keys(INSTRUCTION_FLAGS.from)).toEqual(['platform']);
  });

  it('names the flag and the line of an unknown flag', () => {
    expect(fault('WORKDIR --mode=0700 /x')).toMatchObject({
      code: 'TSB_DOCKERFILE_UNKNOWN_FLAG',
      message: 'unknown flag --mode for WORKDIR on line 2',
      range: { start: { line: 2, column: 9 }, end: { line: 2, column: 19 } },
    });
    expect(fault('FROM --platfrom=linux/amd64 a').message).toBe(
      'unknown flag --platfrom for FROM on line 2 (did you mean --platform?)',
    );
  });

  it('ARG, STOPSIGNAL and HEALTHCHECK NONE ignore their flags, as BuildKit (it never parses them)', () => {
    expect(one('arg', 'ARG --foo=1 X=2').pairs).toMatchObject([{ key: 'X', value: '2' }]);
    expect(one('stopsignal', 'STOPSIGNAL --bar SIGTERM').signal).toMatchObject({ value: 'SIGTERM' });
    expect(one('healthcheck', 'HEALTHCHECK --bogus NONE').test).toEqual({ type: 'none' });
    expect(fault('MAINTAINER --x me').code).toBe('TSB_DOCKERFILE_UNKNOWN_FLAG');
  });

  it('an unknown flag named like an Object property is still unknown', () => {
    expect(fault('COPY --constructor=x a b').code).toBe('TSB_DOCKERFILE_UNKNOWN_FLAG');
    expect(fault('RUN --toString=1 true').code).toBe('TSB_DOCKERFILE_UNKNOWN_FLAG');
    expect(fault('FROM --__proto__=x a').code).toBe('TSB_DOCKERFILE_UNKNOWN_FLAG');
  });

  it('boolean flags: bare, =true and =false in any case', () => {
    expect(one('copy', 'COPY --link a b').link).toBe(true);
    expect(one('copy', 'COPY --link=FALSE a b').link).toBe(false);
    expect(one('copy', 'COPY --parents=True a b').parents).toBe(true);
    expect(one('add', 'ADD --unpack=false a b').unpack).toBe(false);
    expect(one('add', 'ADD a b')).not.toHaveProperty('unpack');
    expect(fault('COPY --link= a b').message).toBe('missing a value on flag: --link');
  });

  it('--exclude may repeat; other flags may not', () => {
    expect(one('copy', 'COPY --exclude=*.md --exclude=docs . /x').exclude).toEqual(['*.md', 'docs']);
    expect(fault('ADD --chmod=1 --chmod=2 a b').message).toBe('duplicate flag specified: --chmod');
  });

  it('keeps every flag as written in order, with its range', () => {
    const copy = one('copy', 'COPY --from=$STAGE --chown=1:1 --link a b');
    expect(copy.flags).toEqual([
      { name: 'from', value: '$STAGE', range: { start: { line: 2, column: 6 }, end: { line: 2, column: 18 } } },
      { name: 'chown', value: '1:1', range: { start: { line: 2, column: 20 }, end: { line: 2, column: 30 } } },
      { name: 'link', value: null, range: { start: { line: 2, column: 32 }, end: { line: 2, column: 37 } } },
    ]);
    expect(copy).toMatchObject({ from: '$STAGE', chown: '1:1', link: true });
  });

  it('FROM --platform', () => {
    expect(one('from', 'FROM --platform=$BUILDPLATFORM golang AS b')).toMatchObject({
      platform: '$BUILDPLATFORM',
      image: { value: 'golang' },
      stageName: { value: 'b' },
    });
  });
});
