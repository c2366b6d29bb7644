import type { OnbuildInstruction } from '../ast.js';
import { splitKeyword } from '../syntax/index.js';
import { argsRange, codes, fail, flagsOf, type InstructionInput, rangeOf } from './context.js';
import { checkFlags } from './flags.js';

/**
 * `ONBUILD <instruction>`: wraps exactly one instruction, which may not be
 * ONBUILD, FROM or MAINTAINER. `expression` is the trigger as Docker stores it
 * in the image config: the text after `ONBUILD`, then each heredoc's body and
 * delimiter on the lines below.
 */
export function parseOnbuild(input: InstructionInput): OnbuildInstruction {
  checkFlags(input);
  const head = splitKeyword(input.line.text, input.args.start, input.args.end);
  if (!head) fail(codes.arguments, 'ONBUILD requires at least one argument', argsRange(input));
  const trigger = head.keyword.value.toUpperCase();
  if (trigger === 'ONBUILD') {
    fail(codes.onbuild, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", rangeOf(input, head.keyword));
  }
  if (trigger === 'FROM' || trigger === 'MAINTAINER') {
    fail(codes.onbuild, `${trigger} isn't allowed as an ONBUILD trigger`, rangeOf(input, head.keyword));
  }
  const instruction = input.parseNested(input.args.start);
  let expression = input.original.replace(/^\s*ONBUILD\s*/i, '');
  input.heredocs.forEach((h, i) => {
    expression += `\n${input.heredocRaw[i] ?? ''}${h.name}`;
  });
  return {
    kind: 'onbuild',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    instruction,
    expression,
  };
}
