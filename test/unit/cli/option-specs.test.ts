import { describe, expect, it } from 'vitest';
import { fastArgs, type OptionSpecs } from '../../../cli/option-specs.js';

const SPECS: OptionSpecs = {
  file: { type: 'string', alias: 'f', default: 'Dockerfile', describe: 'file' },
  json: { type: 'boolean', describe: 'json' },
  'build-arg': { type: 'string', array: true, describe: 'args' },
  jobs: { type: 'number', describe: 'jobs' },
  progress: { type: 'string', choices: ['plain', 'tty'], describe: 'progress' },
};

describe('fastArgs', () => {
  it('parses a plain command line as yargs would, with camel-case and alias keys', () => {
    const args = fastArgs(['parse', '-f', 'x/Dockerfile', '--json', '--build-arg', 'A=1', '--build-arg=B=2'], SPECS);
    expect(args).toMatchObject({
      _: ['parse'],
      file: 'x/Dockerfile',
      f: 'x/Dockerfile',
      json: true,
      'build-arg': ['A=1', 'B=2'],
      buildArg: ['A=1', 'B=2'],
    });
  });

  it('applies defaults, global options and numbers', () => {
    expect(fastArgs(['--root', '/r', 'lint', '--jobs', '3'], SPECS)).toMatchObject({
      root: '/r',
      file: 'Dockerfile',
      jobs: 3,
    });
  });

  it('maps positionals, the last one variadic', () => {
    expect(fastArgs(['save', 'a', 'b', 'c'], {}, ['first', 'rest..'])).toMatchObject({ first: 'a', rest: ['b', 'c'] });
  });

  it.each([
    ['help', ['parse', '--help']],
    ['an unknown option', ['parse', '--bogus']],
    ['a negated option', ['parse', '--no-json']],
    ['a value outside the choices', ['parse', '--progress', 'fancy']],
    ['a non-number', ['parse', '--jobs', 'many']],
    ['a missing value', ['parse', '-f']],
    ['too many positionals', ['parse', 'extra']],
  ])('declines %s so that yargs reports it', (_, argv) => {
    expect(fastArgs(argv, SPECS)).toBeUndefined();
  });
});
