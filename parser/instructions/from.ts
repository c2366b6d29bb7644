import type { FromInstruction } from '../ast.js';
import { splitFields } from '../syntax/index.js';
import { argsRange, codes, fail, flagsOf, type InstructionInput, wordOf } from './context.js';
import { checkFlags } from './flags.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** `FROM [--platform=p] image [AS name]`. */
export function parseFrom(input: InstructionInput): FromInstruction {
  const flags = checkFlags(input);
  const words = splitFields(input.line.text, input.args.start, input.args.end);
  const [image, as, name] = words;
  const named = words.length === 3 && as!.value.toLowerCase() === 'as';
  if (!image || !(words.length === 1 || named)) {
    fail(codes.arguments, 'FROM requires either one or three arguments', argsRange(input));
  }
  const from: FromInstruction = {
    kind: 'from',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    image: wordOf(input, image),
  };
  if (named) {
    const stage = wordOf(input, name!);
    if (!STAGE_NAME.test(stage.value.toLowerCase())) {
      fail(
        codes.stageName,
        `invalid name for build stage: "${stage.value}", name can't start with a number or contain symbols`,
        stage.range,
      );
    }
    from.asKeyword = wordOf(input, as!);
    from.stageName = stage;
  }
  const platform = flags.string('platform');
  if (platform !== undefined) from.platform = platform;
  return from;
}
