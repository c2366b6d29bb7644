import { describe, expect, it } from 'vitest';
import {
  type CopyInstruction,
  DockerfileSyntaxError,
  type EnvInstruction,
  type Instruction,
  InstructionError,
  parseDockerfile,
  parseDockerfileOrThrow,
  type RunInstruction,
} from '../../../../parser/index.js';

const parse = (text: string) => parseDockerfile(text, { filename: 'Dockerfile' });
const errors = (text: string) => parse(text).diagnostics.filter((d) => d.severity === 'error');
const at = (line: number, column: number) => ({ line, column });
function nth<T extends Instruction = Instruction>(text: string, i: number): T {
  const r = parse(text);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.ast.instructions[i] as T;
}

describe('parser directives', () => {
  it('reads syntax, escape and check at the top, names in any case', () => {
    const r = parse('# syntax=docker/dockerfile:1\n# ESCAPE=`\n#Check = skip=all\nFROM a\n');
    expect(r.ast.directives.map((d) => [d.name, d.value])).toEqual([
      ['syntax', 'docker/dockerfile:1'],
      ['escape', '`'],
      ['check', 'skip=all'],
    ]);
    expect(r.ast.escape).toBe('`');
    expect(r.ast.directives[1]?.range).toEqual({ start: at(2, 1), end: at(2, 10) });
  });

  it('ignores directives after an instruction, a comment or a blank line', () => {
    for (const text of ['FROM a\n# escape=`\n', '# hello\n# escape=`\nFROM a\n', '\n# escape=`\nFROM a\n']) {
      const r = parse(text);
      expect(r.ast.directives, text).toEqual([]);
      expect(r.ast.escape).toBe('\\');
    }
  });

  it('an unknown directive is a comment and ends the directives', () => {
    const r = parse('# foo=bar\n# escape=`\nFROM a\n');
    expect(r.ast.directives).toEqual([]);
    expect(r.ast.instructions[0]?.comments).toEqual(['foo=bar', 'escape=`']);
  });

  it('a repeated directive and an invalid escape are errors', () => {
    expect(errors('# escape=`\n# escape=\\\nFROM a\n')[0]).toMatchObject({
      code: 'TSB_DOCKERFILE_DIRECTIVE',
      message: 'only one escape parser directive can be used',
      range: { start: at(2, 1) },
    });
    expect(errors('# escape=/\nFROM a\n')[0]?.message).toContain("invalid escape token '/'");
  });

  it('directive comment lines are not comments of the first instruction', () => {
    expect(nth('# syntax=x\n# about FROM\nFROM a\n', 0).comments).toEqual(['about FROM']);
  });
});

describe('line continuations', () => {
  it('joins continued lines, dropping comment lines, as BuildKit does', () => {
    const run = nth<RunInstruction>('FROM a\nRUN a \\\n# skipped\n    # skipped too \\\n  b \\   \n  c\n', 1);
    expect(run.original).toBe('RUN a   b   c');
    expect(run.command).toMatchObject({ form: 'shell', command: 'a   b   c' });
    expect(run.range).toEqual({ start: at(2, 1), end: at(6, 3) });
  });

  it('allows blank lines inside a continuation and warns with NoEmptyContinuation', () => {
    const r = parse('FROM a\nRUN a \\\n\n  \n  b\n');
    expect(r.ast.instructions[1]?.original).toBe('RUN a   b');
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'TSB_DOCKERFILE_EMPTY_CONTINUATION',
        rule: 'NoEmptyContinuation',
        range: { start: at(3, 1), end: at(3, 1) },
      }),
    ]);
  });

  it('an escaped escape character at the end of a line is not a continuation', () => {
    const r = parse('FROM a\nRUN echo \\\\\nCMD b\n');
    expect(r.ast.instructions.map((i) => i.original)).toEqual(['FROM a', 'RUN echo \\\\', 'CMD b']);
  });

  it('joins words split by a continuation without adding a space', () => {
    const env = nth<EnvInstruction>('FROM a\nENV A=b\\\nc D=e\n', 1);
    expect(env.pairs.map((p) => [p.key, p.value])).toEqual([
      ['A', 'bc'],
      ['D', 'e'],
    ]);
    expect(env.pairs[0]?.range).toEqual({ start: at(2, 5), end: at(3, 1) });
    expect(env.pairs[1]?.range).toEqual({ start: at(3, 3), end: at(3, 5) });
  });

  it('uses the backtick with escape=` and leaves backslashes alone', () => {
    const r = parse('# escape=`\nFROM a\nRUN dir c:\\ `\n  /b\nCOPY x c:\\\n');
    expect(r.diagnostics).toEqual([]);
    expect(r.ast.instructions.map((i) => i.original)).toEqual(['FROM a', 'RUN dir c:\\   /b', 'COPY x c:\\']);
  });

  it('a continuation at the end of the file ends the instruction', () => {
    expect(nth('FROM a\nRUN b \\', 1).original).toBe('RUN b ');
  });

  it('a line holding only the escape character continues onto the next line', () => {
    const r = parse('FROM a\n\\\nRUN b\n');
    expect(r.ast.instructions[1]).toMatchObject({ kind: 'run', original: 'RUN b', range: { start: at(3, 1) } });
  });

  it('a line holding only the escape character with nothing after it is an empty instruction (BuildKit fails)', () => {
    for (const text of ['FROM a\n   \\\n', 'FROM a\n\\\n# comment\n\n', 'FROM a\n\\']) {
      expect(parse(text).diagnostics).toEqual([
        {
          severity: 'error',
          code: 'TSB_DOCKERFILE_UNKNOWN_INSTRUCTION',
          message: 'unknown instruction: "" (a line continuation with no instruction after it)',
          range: { start: at(2, text.startsWith('FROM a\n   ') ? 4 : 1), end: expect.anything() },
        },
      ]);
    }
  });
});

describe('line endings and encoding', () => {
  it('accepts CRLF line endings and a UTF-8 BOM with the same AST as LF', () => {
    const lf = '# syntax=x\nFROM a\nRUN b \\\n  c\nENV A=1\n';
    const crlf = `\uFEFF${lf.replaceAll('\n', '\r\n')}`;
    expect(parse(crlf)).toEqual(parse(lf));
  });

  it('keeps the line endings of a CRLF heredoc body, as BuildKit does', () => {
    const run = nth<RunInstruction>('FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n', 1);
    expect(run.heredocs[0]?.content).toBe('x\r\n');
  });

  it("reads a lone surrogate escape in the exec form as U+FFFD, as Go's JSON decoder does", () => {
    const run = nth<RunInstruction>('FROM a\nRUN ["a\\ud800", "\\udc00b", "\\ud83d\\ude00"]\n', 1);
    expect(run.command).toMatchObject({ form: 'exec', args: ['a\uFFFD', '\uFFFDb', '😀'] });
  });
});

describe('instructions', () => {
  it('keywords are case-insensitive and keep their spelling', () => {
    const r = parse('from a\nRuN b\ncopy x y\n');
    expect(r.ast.instructions.map((i) => [i.kind, i.keyword])).toEqual([
      ['from', 'from'],
      ['run', 'RuN'],
      ['copy', 'copy'],
    ]);
  });

  it('collects the comment lines directly above an instruction', () => {
    const r = parse('# one\n\n# two\n# three\nFROM a\nRUN b # not a comment\n  # four\nRUN c\n');
    expect(r.ast.instructions.map((i) => i.comments)).toEqual([['two', 'three'], [], ['four']]);
    expect(r.ast.instructions[1]?.original).toBe('RUN b # not a comment');
  });

  it('an unknown instruction is an error with its range and a suggestion', () => {
    expect(errors('FROM a\n  RUNN b\n')[0]).toEqual({
      severity: 'error',
      code: 'TSB_DOCKERFILE_UNKNOWN_INSTRUCTION',
      message: 'unknown instruction: RUNN (did you mean RUN?)',
      range: { start: at(2, 3), end: at(2, 6) },
    });
  });

  it('reports every faulty instruction and keeps the others in the AST', () => {
    const r = parse('FROM a\nCOPY x\nRUN ok\nFOO\nENV k\nCMD done\n');
    expect(r.diagnostics.map((d) => d.range.start.line)).toEqual([2, 4, 5]);
    expect(r.ast.instructions.map((i) => i.kind)).toEqual(['from', 'run', 'cmd']);
  });

  it('a file with no instructions is an error', () => {
    expect(errors('# only a comment\n')[0]?.code).toBe('TSB_DOCKERFILE_EMPTY');
    expect(errors('')[0]?.code).toBe('TSB_DOCKERFILE_EMPTY');
  });
});

describe('heredocs', () => {
  it('reads <<EOF, <<-EOF, quoted delimiters and fd prefixes', () => {
    const text = 'FROM a\nRUN <<A 3<<-"B" <<\'C\'\na $x\nA\n\t\tb\n\tB\nc\nC\nCMD x\n';
    const r = parse(text);
    expect(r.diagnostics).toEqual([]);
    const run = r.ast.instructions[1] as RunInstruction;
    expect(run.heredocs.map(({ range, ...h }) => h)).toEqual([
      { name: 'A', content: 'a $x\n', expand: true, chomp: false },
      { name: 'B', content: 'b\n', expand: false, chomp: true, fd: 3 },
      { name: 'C', content: 'c\n', expand: false, chomp: false },
    ]);
    expect(run.heredocs[1]?.range).toEqual({ start: at(2, 9), end: at(6, 2) });
    expect(run.range.end).toEqual(at(8, 1));
    expect(r.ast.instructions[2]?.range.start).toEqual(at(9, 1));
  });

  it('the terminator must be the whole line', () => {
    const run = nth<RunInstruction>('FROM a\nRUN <<EOF\n EOF\nEOF \nEOF\n', 1);
    expect(run.heredocs[0]?.content).toBe(' EOF\nEOF \n');
  });

  it('COPY and ADD take heredoc sources in the order of their markers', () => {
    const copy = nth<CopyInstruction>('FROM a\nCOPY <<B x <<A /dst/\nb\nB\na\nA\n', 1);
    expect(copy.sources.map((s) => s.value)).toEqual(['<<B', 'x', '<<A']);
    expect(copy.heredocs.map((h) => [h.name, h.content])).toEqual([
      ['B', 'b\n'],
      ['A', 'a\n'],
    ]);
  });

  it('is not a heredoc in the exec form, in other instructions, or in the middle of a word', () => {
    const r = parse('FROM a\nRUN ["<<EOF"]\nENV A=<<EOF\nRUN cat<<EOF\nCMD <<EOF\n');
    expect(r.diagnostics).toEqual([]);
    expect(r.ast.instructions.map((i) => i.kind)).toEqual(['from', 'run', 'env', 'run', 'cmd']);
  });

  it('a missing terminator is an error at the marker', () => {
    expect(errors('FROM a\nRUN x <<EOF\nbody\n')[0]).toMatchObject({
      code: 'TSB_DOCKERFILE_HEREDOC',
      range: { start: at(2, 7), end: at(2, 11) },
    });
  });
});

describe('parseDockerfileOrThrow', () => {
  it('returns the AST of a valid Dockerfile', () => {
    expect(parseDockerfileOrThrow('FROM a\n', { filename: 'x/Dockerfile' }).filename).toBe('x/Dockerfile');
  });

  it('throws DockerfileSyntaxError or InstructionError with the file, range and all errors', () => {
    expect(() => parseDockerfileOrThrow('FRM a\n')).toThrow(DockerfileSyntaxError);
    try {
      parseDockerfileOrThrow('FROM a\nCOPY --nope a b\nCOPY x\n', { filename: 'Dockerfile.dev' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InstructionError);
      const e = err as InstructionError & { diagnostics: unknown[] };
      expect(e.file).toBe('Dockerfile.dev');
      expect(e.ranges).toEqual([{ start: at(2, 6), end: at(2, 11) }]);
      expect(e.diagnostics).toHaveLength(2);
    }
  });
});
