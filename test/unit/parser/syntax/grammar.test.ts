import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../../../parser/parse-dockerfile.js';
import { buildLexer } from '../../../../parser/syntax/index.js';

describe('grammar and lexers', () => {
  it("the lexers of both escape characters pass Chevrotain's definition checks", () => {
    for (const esc of ['\\', '`'] as const) {
      const lexer = buildLexer(esc, { validate: true });
      expect(lexer.lexerDefinitionErrors).toEqual([]);
    }
  });

  it('the grammar groups the tokens into comments and instructions', () => {
    const { ast, diagnostics } = parseDockerfile('# a\nFROM x\n\\\n RUN <<A b \\\n c\nbody\nA\n');
    expect(diagnostics).toEqual([]);
    expect(ast.instructions.map((i) => i.kind)).toEqual(['from', 'run']);
    expect(ast.instructions[1]?.original).toBe(' RUN <<A b  c');
    expect(ast.instructions[1]?.kind === 'run' && ast.instructions[1].heredocs[0]?.content).toBe('body\n');
  });

  it('lexes instruction text, continuations and line ends without errors', () => {
    const lexer = buildLexer('\\');
    const { tokens, errors } = lexer.tokenize('FROM a\nRUN b \\\n  # c\n\n  d\n');
    expect(errors).toEqual([]);
    expect(tokens.map((t) => t.tokenType.name)).toEqual([
      'InstructionTextBackslash',
      'LineEnd',
      'InstructionTextBackslash',
      'ContinuationBackslash',
      'ArgTextBackslash',
      'LineEnd',
    ]);
    expect(tokens[3]?.payload).toEqual({ emptyLines: [2] });
  });

  it('a heredoc body is one token after the line end of its instruction', () => {
    const { tokens } = buildLexer('\\').tokenize('RUN <<A <<B\na\nA\nb\nB\nCMD x\n');
    const body = tokens.find((t) => t.tokenType.name === 'HeredocBody');
    expect(body?.image).toBe('a\nA\nb\nB\n');
    expect(body?.startLine).toBe(2);
    expect(tokens[tokens.length - 2]?.image).toBe('CMD x');
    expect(tokens[tokens.length - 2]?.startLine).toBe(6);
  });
});
