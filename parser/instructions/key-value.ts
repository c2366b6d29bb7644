import type { ArgInstruction, EnvInstruction, KeyValue, LabelInstruction } from '../ast.js';
import { isFieldSpace, parseWords, type Span } from '../syntax/index.js';
import { argsRange, codes, fail, flagsOf, type InstructionInput, rangeOf } from './context.js';
import { checkFlags } from './flags.js';

/** `ENV k=v …` or the legacy `ENV k v with spaces`. */
export function parseEnv(input: InstructionInput): EnvInstruction {
  checkFlags(input);
  const { pairs, legacy } = nameValues(input, 'ENV');
  return {
    kind: 'env',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    pairs,
    legacy,
  };
}

/** `LABEL k=v …` or the legacy `LABEL k v`. */
export function parseLabel(input: InstructionInput): LabelInstruction {
  checkFlags(input);
  const { pairs, legacy } = nameValues(input, 'LABEL');
  return {
    kind: 'label',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    pairs,
    legacy,
  };
}

/**
 * `ARG name[=default] …`: a name without `=` has no default (value null). Flags are
 * neither checked nor used: BuildKit's parseArg never parses them (`ARG --x=1 A` is ARG A).
 */
export function parseArg(input: InstructionInput): ArgInstruction {
  const words = parseWords(input.line.text, input.args.start, input.args.end, input.escape.charCodeAt(0));
  if (words.length === 0) fail(codes.arguments, 'ARG requires at least one argument', argsRange(input));
  const pairs = words.map((w): KeyValue => {
    const eq = w.value.indexOf('=');
    if (eq < 0) return { key: w.value, value: null, range: rangeOf(input, w) };
    if (eq === 0) fail(codes.keyValue, 'ARG names can not be blank', rangeOf(input, w));
    return { key: w.value.slice(0, eq), value: w.value.slice(eq + 1), range: rangeOf(input, w) };
  });
  return {
    kind: 'arg',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    pairs,
  };
}

/**
 * BuildKit's `parseNameVal`: when the first word has no `=`, the legacy form
 * (the key, then the rest of the line as the value); otherwise every word is
 * `key=value`, with quotes and escapes kept as written.
 */
function nameValues(input: InstructionInput, keyword: string): { pairs: KeyValue[]; legacy: boolean } {
  const text = input.line.text;
  const words = parseWords(text, input.args.start, input.args.end, input.escape.charCodeAt(0));
  const first = words[0];
  if (!first) fail(codes.arguments, `${keyword} requires at least one argument`, argsRange(input));
  if (!first.value.includes('=')) {
    let i = input.args.start;
    while (i < input.args.end && !isFieldSpace(text.charCodeAt(i))) i++;
    const keyEnd = i;
    while (i < input.args.end && isFieldSpace(text.charCodeAt(i))) i++;
    if (i >= input.args.end) fail(codes.keyValue, `${keyword} must have two arguments`, argsRange(input));
    const pair = { key: text.slice(input.args.start, keyEnd), value: text.slice(i, input.args.end) };
    return { pairs: [{ key: pair.key, value: pair.value, range: argsRange(input) }], legacy: true };
  }
  const pairs = words.map((w: Span): KeyValue => {
    const eq = w.value.indexOf('=');
    const range = rangeOf(input, w);
    if (eq < 0) {
      fail(
        codes.keyValue,
        `syntax error - can't find = in ${JSON.stringify(w.value)}, must be of the form: name=value`,
        range,
      );
    }
    if (eq === 0) fail(codes.keyValue, `${keyword} names can not be blank`, range);
    return { key: w.value.slice(0, eq), value: w.value.slice(eq + 1), range };
  });
  return { pairs, legacy: false };
}
