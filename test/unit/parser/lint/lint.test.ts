import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findEmptyContinuations, lintDockerfile, parseCheckDirective, RULES } from '../../../../parser/lint/index.js';
import { parseDockerfile } from '../../../../parser/parse-dockerfile.js';

const DIR = fileURLToPath(new URL('../../../../fixtures/lint/', import.meta.url));
const cases = readdirSync(DIR).sort();

interface Expected {
  rule: string;
  line: number;
  message: string;
}

describe('lint fixtures', () => {
  it('has a fixture for every rule', () => {
    for (const rule of Object.keys(RULES)) expect(cases).toContain(rule);
  });

  it.each(cases)('%s', (name) => {
    const text = readFileSync(join(DIR, name, 'Dockerfile'), 'utf8');
    const raw = JSON.parse(readFileSync(join(DIR, name, 'expected.json'), 'utf8')) as
      | Expected[]
      | { buildArgs: Record<string, string>; warnings: Expected[] };
    const expected = Array.isArray(raw) ? raw : raw.warnings;
    const buildArgs = Array.isArray(raw) ? {} : raw.buildArgs;
    const result = lintDockerfile(text, { filename: 'Dockerfile', buildArgs });
    expect(result.error).toBeUndefined();
    expect(result.warnings.map((w) => ({ rule: w.rule, line: w.range.start.line, message: w.message }))).toEqual(
      expected,
    );
    for (const w of result.warnings) expect(w.url).toBe(RULES[w.rule as keyof typeof RULES].url);
  });
});

describe('check directive', () => {
  it.each([
    ['skip=A,B', { skip: ['A', 'B'], skipAll: false, error: false }],
    ['skip=all', { skip: [], skipAll: true, error: false }],
    ['error=true', { skip: [], skipAll: false, error: true }],
    [' skip = A , B ;error=1', { skip: ['A', 'B'], skipAll: false, error: true }],
    ['', { skip: [], skipAll: false, error: false }],
  ])('parses %j', (value, expected) => {
    expect(parseCheckDirective(value)).toEqual(expected);
  });

  it.each([['skip'], ['nope=1'], ['error=maybe']])('rejects %j', (value) => {
    expect(() => parseCheckDirective(value)).toThrow(/check option/);
  });

  it('turns warnings into a failure with error=true', () => {
    const r = lintDockerfile('# check=error=true\nFROM scratch AS Bad\n');
    expect(r.failed).toBe(true);
    expect(r.warnings.map((w) => w.rule)).toEqual(['StageNameCasing']);
  });

  it('does not fail with error=true when there are no warnings', () => {
    expect(lintDockerfile('# check=error=true\nFROM scratch AS good\n').failed).toBe(false);
  });
});

describe('lint errors', () => {
  it('keeps the warnings before a syntax error and reports the error', () => {
    const r = lintDockerfile('FROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n');
    expect(r.warnings.map((w) => w.rule)).toEqual(['StageNameCasing', 'MaintainerDeprecated']);
    expect(r.error?.ranges[0]?.start.line).toBe(3);
  });

  it('reports a build graph error with its range', () => {
    const r = lintDockerfile('FROM busybox AS a\nCOPY --from=a /x /y\n');
    expect(r.error?.code).toBe('TSB_DOCKERFILE_CYCLE');
  });

  it('skips UndefinedVar in stages on an unknown base image, and checks them when the config is known', () => {
    const text = 'FROM golang\nENV P=$GOPATH/bin\n';
    expect(lintDockerfile(text).warnings).toEqual([]);
    const known = lintDockerfile(text, { baseImage: () => ({ Env: ['GOPATH=/go'] }) });
    expect(known.warnings).toEqual([]);
    const typo = lintDockerfile('FROM golang\nENV P=$GOPAHT/bin\n', { baseImage: () => ({ Env: ['GOPATH=/go'] }) });
    expect(typo.warnings.map((w) => w.message)).toEqual([
      "Usage of undefined variable '$GOPAHT' (did you mean $GOPATH?)",
    ]);
  });
});

describe('empty continuation lines', () => {
  it.each([
    ['FROM scratch\nCOPY a \\\n\nb\n', [4]],
    ['FROM scratch\nCOPY a \\\n# c\nb\n', []],
    ['FROM scratch\nCOPY a \\\n  \\\n\n  b\nRUN x \\\n\n\ny\n', [5, 9]],
    ['# escape=`\nFROM scratch\nCOPY a `\n\nb\n', [5]],
    ['FROM scratch\nRUN <<EOF\na \\\n\nb\nEOF\n', []],
  ])('%j', (text, lines) => {
    const { ast } = parseDockerfile(text, { filename: 'Dockerfile' });
    expect(findEmptyContinuations(text, ast).map((r) => r.start.line)).toEqual(lines);
  });
});
