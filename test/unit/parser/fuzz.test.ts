import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DockerfileError, parseDockerfile, parseDockerfileOrThrow, type SourceRange } from '../../../parser/index.js';

const root = fileURLToPath(new URL('../../../fixtures/dockerfiles/', import.meta.url));
const seeds = readdirSync(root)
  .filter((name) => existsSync(join(root, name, 'Dockerfile')))
  .map((name) => readFileSync(join(root, name, 'Dockerfile'), 'utf8'));

/** Fragments that stress the lexer: escapes, quotes, heredoc markers, brackets, flags, directives, line ends. */
const FRAGMENTS = [
  '\\',
  '\\\n',
  '`',
  '`\n',
  '"',
  "'",
  '<<',
  '<<EOF',
  '<<-EOF',
  '<<"EOF"',
  "<<'X'",
  'EOF\n',
  '\tEOF\n',
  '3<<',
  '[',
  ']',
  '["a", "b"]',
  '{',
  '}',
  '${',
  '$',
  '--',
  '--mount=',
  '--mount=type=cache,target=/x',
  '--mount=type=secret,',
  '--link',
  '--chmod=',
  '--interval=',
  '=',
  ',',
  '#',
  '# escape=`\n',
  '# syntax=x\n',
  '\n',
  '\r\n',
  '\r',
  ' ',
  '\t',
  '\uFEFF',
  '\u00a0',
  'é',
  '😀',
  'RUN ',
  'COPY ',
  'ADD ',
  'FROM ',
  'ONBUILD ',
  'HEALTHCHECK ',
  'ENV ',
  'ARG ',
  'SHELL ',
  'CMD ',
  'NONE',
  ' AS ',
];

const fragment = fc.constantFrom(...FRAGMENTS);

type Mutation =
  | { op: 'delete'; at: number; length: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'cut-line'; line: number }
  | { op: 'swap-lines'; a: number; b: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fragment, fc.string({ maxLength: 4 })),
  }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('cut-line' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), a: fc.nat(), b: fc.nat() }),
);

function apply(text: string, m: Mutation): string {
  const at = text.length === 0 ? 0 : ('at' in m ? m.at : 0) % (text.length + 1);
  switch (m.op) {
    case 'delete':
      return text.slice(0, at) + text.slice(at + m.length);
    case 'insert':
      return text.slice(0, at) + m.text + text.slice(at);
    case 'duplicate':
      return text.slice(0, at) + text.slice(at, at + m.length) + text.slice(at);
    case 'cut-line': {
      const lines = text.split('\n');
      lines.splice(m.line % lines.length, 1);
      return lines.join('\n');
    }
    case 'swap-lines': {
      const lines = text.split('\n');
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
  }
}

const mutated = fc
  .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 12 }))
  .map(([seed, ms]) => ms.reduce(apply, seed));

const tokenSoup = fc
  .array(fc.oneof({ weight: 4, arbitrary: fragment }, fc.string({ maxLength: 6 })), { maxLength: 60 })
  .map((parts) => parts.join(''));

/** Every `range` in a value (the AST or a diagnostic). */
function ranges(value: unknown, out: SourceRange[] = []): SourceRange[] {
  if (Array.isArray(value)) {
    for (const v of value) ranges(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'range') out.push(v as SourceRange);
      else ranges(v, out);
    }
  }
  return out;
}

function expectInside(text: string, r: SourceRange): void {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (const p of [r.start, r.end]) {
    expect(p.line).toBeGreaterThanOrEqual(1);
    expect(p.line).toBeLessThanOrEqual(lines.length);
    expect(p.column).toBeGreaterThanOrEqual(1);
    expect(p.column).toBeLessThanOrEqual((lines[p.line - 1]?.length ?? 0) + 1);
  }
  expect(r.end.line > r.start.line || (r.end.line === r.start.line && r.end.column >= r.start.column)).toBe(true);
}

function check(text: string): void {
  const result = parseDockerfile(text, { filename: 'Dockerfile' });
  for (const d of result.diagnostics) {
    expect(d.code).toMatch(/^TSB_DOCKERFILE_[A-Z_]+$/);
    expect(d.code).not.toBe('TSB_DOCKERFILE_INTERNAL');
  }
  for (const r of ranges(result)) expectInside(text, r);
  try {
    parseDockerfileOrThrow(text, { filename: 'Dockerfile' });
    expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(false);
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileError);
    const e = err as DockerfileError;
    expect(e.code).toMatch(/^TSB_DOCKERFILE_/);
    expect(e.file).toBe('Dockerfile');
    expect(e.ranges.length).toBeGreaterThan(0);
    expectInside(text, e.ranges[0]!);
  }
}

describe('fuzzing the parser', () => {
  it('mutated golden Dockerfiles give only typed errors with ranges inside the text', () => {
    fc.assert(fc.property(mutated, check), { numRuns: 250 });
  });

  it('random token soup gives only typed errors with ranges inside the text', () => {
    fc.assert(fc.property(tokenSoup, check), { numRuns: 400 });
  });

  it('arbitrary strings never make parseDockerfile throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(() => parseDockerfile(text, { filename: 'Dockerfile' })).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
