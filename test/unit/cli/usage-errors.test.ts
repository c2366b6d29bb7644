import { describe, expect, it } from 'vitest';
import { arity, dockerUsage } from '../../../cli/usage-errors.js';

describe('usage errors in Docker’s words', () => {
  it('arity reads the yargs command string', () => {
    expect(arity('tag <source> <target>')).toEqual({ min: 2, max: 2 });
    expect(arity('rmi <images..>')).toEqual({ min: 1, max: Number.POSITIVE_INFINITY });
    expect(arity('images [repository]')).toEqual({ min: 0, max: 1 });
  });

  it('an unknown flag exits 125 and names the flag as cobra does', () => {
    expect(dockerUsage('Unknown argument: bogus', 'images', 'images [repository]', ['--bogus'])).toEqual({
      message: "unknown flag: --bogus\nSee 'tsbuild images --help'.",
      exitCode: 125,
    });
    expect(dockerUsage('Unknown argument: z', 'images', 'images [repository]', ['-z']).message).toBe(
      "unknown shorthand flag: 'z' in -z\nSee 'tsbuild images --help'.",
    );
    expect(dockerUsage('Not enough arguments following: format', 'images', 'images', ['--format'])).toEqual({
      message: "flag needs an argument: --format\nSee 'tsbuild images --help'.",
      exitCode: 125,
    });
  });

  it('a wrong number of arguments exits 1 with the count the command takes', () => {
    expect(
      dockerUsage('Not enough non-option arguments: got 0, need at least 2', 'tag', 'tag <source> <target>', []),
    ).toEqual({
      message: `"tsbuild tag" requires exactly 2 arguments.\nSee 'tsbuild tag --help'.`,
      exitCode: 1,
    });
    expect(dockerUsage('Unknown argument: c', 'tag', 'tag <source> <target>', ['a', 'b', 'c']).message).toMatch(
      /^"tsbuild tag" requires exactly 2 arguments\./,
    );
    expect(dockerUsage('Unknown argument: b', 'images', 'images [repository]', ['a', 'b']).message).toMatch(
      /^"tsbuild images" requires at most 1 argument\./,
    );
    expect(
      dockerUsage('Not enough non-option arguments: got 0, need at least 1', 'rmi', 'rmi <images..>', []).message,
    ).toMatch(/^"tsbuild rmi" requires at least 1 argument\./);
  });
});
