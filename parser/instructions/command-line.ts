import type { CommandLine } from '../ast.js';
import type { Span } from '../syntax/index.js';
import { parseJsonArray } from '../syntax/index.js';
import { codes, fail, type InstructionInput, rangeOf } from './context.js';

export const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/**
 * The exec form (a JSON array of strings) or the shell form (the text as
 * written) of `span`. Invalid JSON is the shell form; a JSON array of anything
 * but strings is an error, as in BuildKit.
 */
export function commandLineOf(input: InstructionInput, span: Span = input.args): CommandLine {
  const json = parseJsonArray(input.line.text, span.start, span.end);
  const range = span.end > span.start ? rangeOf(input, span) : rangeOf(input, input.keyword);
  if (json.kind === 'not-strings') fail(codes.json, NOT_STRINGS, range);
  if (json.kind === 'exec') return { form: 'exec', args: json.values.map((v) => v.value), range };
  return { form: 'shell', command: span.value, range };
}
