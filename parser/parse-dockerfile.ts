import type { Diagnostic, Dockerfile, ParseResult } from './ast.js';
import { readDirectives } from './directives.js';
import { type DockerfileError, DockerfileSyntaxError, InstructionError } from './errors.js';
import { instructionKind, parseInstruction, unknownInstruction } from './instructions/index.js';
import { lexerFor, toAst } from './syntax/index.js';

export interface ParseDockerfileOptions {
  /** The name used in messages and in the AST (`Dockerfile` by default). */
  filename?: string;
}

/** Diagnostic codes that are instruction faults (`InstructionError`); the others are syntax errors. */
const INSTRUCTION_CODES = new Set([
  'TSB_DOCKERFILE_ARGUMENTS',
  'TSB_DOCKERFILE_UNKNOWN_FLAG',
  'TSB_DOCKERFILE_FLAG',
  'TSB_DOCKERFILE_JSON',
  'TSB_DOCKERFILE_KEY_VALUE',
  'TSB_DOCKERFILE_MOUNT',
  'TSB_DOCKERFILE_HEALTHCHECK',
  'TSB_DOCKERFILE_ONBUILD',
  'TSB_DOCKERFILE_STAGE_NAME',
]);

/**
 * Parses a Dockerfile into its AST. Never throws: every problem is an error
 * diagnostic with a `TSB_DOCKERFILE_…` code and a source range, and the AST
 * holds every instruction that could be parsed. Warnings (blank lines inside a
 * continuation) are diagnostics too. Words stay raw: nothing is expanded.
 */
export function parseDockerfile(text: string, options: ParseDockerfileOptions = {}): ParseResult {
  const filename = options.filename ?? 'Dockerfile';
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const directives = readDirectives(body);
  const ast: Dockerfile = { filename, directives: directives.directives, escape: directives.escape, instructions: [] };
  const diagnostics: Diagnostic[] = [...directives.diagnostics];
  try {
    const lexed = lexerFor(directives.escape).tokenize(body);
    for (const e of lexed.errors) {
      const at = { line: e.line ?? 1, column: e.column ?? 1 };
      diagnostics.push({
        severity: 'error',
        code: 'TSB_DOCKERFILE_SYNTAX',
        message: e.message,
        range: { start: at, end: at },
      });
    }
    const out = toAst(lexed.tokens, {
      escape: directives.escape,
      directivesEnd: directives.lastLine,
      kindOf: instructionKind,
      build: parseInstruction,
      unknown: unknownInstruction,
    });
    if (out.unexpected) {
      const t = out.unexpected;
      const at = { line: t.startLine ?? 1, column: t.startColumn ?? 1 };
      diagnostics.push({
        severity: 'error',
        code: 'TSB_DOCKERFILE_SYNTAX',
        message: `unexpected text ${JSON.stringify(t.image)}`,
        range: { start: at, end: at },
      });
    }
    ast.instructions = out.instructions;
    diagnostics.push(...out.diagnostics);
    if (out.seen === 0) {
      const lines = body.split('\n').length;
      const at = { line: lines, column: 1 };
      diagnostics.push({
        severity: 'error',
        code: 'TSB_DOCKERFILE_EMPTY',
        message: 'file with no instructions',
        range: { start: at, end: at },
      });
    }
  } catch (err) {
    const at = { line: 1, column: 1 };
    diagnostics.push({
      severity: 'error',
      code: 'TSB_DOCKERFILE_INTERNAL',
      message: `internal parser error: ${err instanceof Error ? err.message : String(err)}`,
      range: { start: at, end: at },
    });
  }
  return { ast, diagnostics };
}

/**
 * Parses a Dockerfile and throws its first error: `InstructionError` for a
 * faulty instruction, `DockerfileSyntaxError` otherwise, with `file`, the
 * error's range and every error diagnostic in `diagnostics`.
 */
export function parseDockerfileOrThrow(text: string, options: ParseDockerfileOptions = {}): Dockerfile {
  const result = parseDockerfile(text, options);
  const err = dockerfileErrorOf(result);
  if (err) throw err;
  return result.ast;
}

/** An error carrying every error diagnostic of a parse. */
export type DockerfileErrorWithDiagnostics = DockerfileError & { diagnostics: Diagnostic[] };

/** The error to throw for a parse result with error diagnostics, or undefined when it has none. */
export function dockerfileErrorOf(result: ParseResult): DockerfileErrorWithDiagnostics | undefined {
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  const first = errors[0];
  if (!first) return undefined;
  const options = { code: first.code, file: result.ast.filename, ranges: [first.range] };
  if (INSTRUCTION_CODES.has(first.code)) {
    return Object.assign(new InstructionError(first.message, options), { diagnostics: errors });
  }
  return new DockerfileSyntaxError(first.message, { ...options, diagnostics: errors });
}
