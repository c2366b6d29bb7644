import type { AddInstruction, CopyInstruction, Heredoc } from '../ast.js';
import { isHeredocWord, parseJsonArray, splitFields } from '../syntax/index.js';
import { NOT_STRINGS } from './command-line.js';
import { argsRange, codes, fail, type InstructionInput, instructionOf, wordOf } from './context.js';
import { type CheckedFlags, checkFlags } from './flags.js';

/** `COPY [--from] [--chown] [--chmod] [--link] [--parents] [--exclude]… src… dest`. */
export function parseCopy(input: InstructionInput): CopyInstruction {
  const flags = checkFlags(input);
  const copy = instructionOf(input, 'copy', Object.assign(sourcesAndDest(input, 'COPY'), common(flags)));
  const from = flags.string('from');
  if (from !== undefined) copy.from = from;
  return copy;
}

/** `ADD [--chown] [--chmod] [--link] [--keep-git-dir] [--checksum] [--exclude]… [--unpack] src… dest`. */
export function parseAdd(input: InstructionInput): AddInstruction {
  const flags = checkFlags(input);
  const fields = Object.assign(sourcesAndDest(input, 'ADD'), common(flags), {
    keepGitDir: flags.bool('keep-git-dir') ?? false,
  });
  const add: AddInstruction = instructionOf(input, 'add', fields);
  const checksum = flags.string('checksum');
  if (checksum !== undefined) add.checksum = checksum;
  const unpack = flags.bool('unpack');
  if (unpack !== undefined) add.unpack = unpack;
  return add;
}

function common(flags: CheckedFlags) {
  const out: { chown?: string; chmod?: string; link: boolean; parents: boolean; exclude: string[] } = {
    link: flags.bool('link') ?? false,
    parents: flags.bool('parents') ?? false,
    exclude: flags.all('exclude').map((f) => f.flagValue ?? ''),
  };
  const chown = flags.string('chown');
  if (chown !== undefined) out.chown = chown;
  const chmod = flags.string('chmod');
  if (chmod !== undefined) out.chmod = chmod;
  return out;
}

function sourcesAndDest(input: InstructionInput, keyword: string) {
  const text = input.line.text;
  const json = parseJsonArray(text, input.args.start, input.args.end);
  if (json.kind === 'not-strings') fail(codes.json, NOT_STRINGS, argsRange(input));
  const spans = json.kind === 'exec' ? json.values : splitFields(text, input.args.start, input.args.end);
  if (spans.length < 2) {
    fail(
      codes.arguments,
      `${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
      argsRange(input),
    );
  }
  const words = spans.map((s) => wordOf(input, s));
  const dest = words.pop()!;
  if (isHeredocWord(dest.value))
    fail(codes.arguments, `${keyword} cannot accept a heredoc as a destination`, dest.range);
  const heredocs: Heredoc[] = [];
  if (json.kind === 'shell') {
    for (const w of words) {
      const name = isHeredocWord(w.value);
      const doc = name === false ? undefined : input.heredocs.find((h) => h.name === name);
      if (doc) heredocs.push(doc);
    }
  }
  return { sources: words, dest, heredocs, form: json.kind === 'exec' ? ('exec' as const) : ('shell' as const) };
}
