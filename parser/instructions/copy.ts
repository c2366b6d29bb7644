import type { AddInstruction, CopyInstruction, Heredoc } from '../ast.js';
import { isHeredocWord, parseJsonArray, splitFields } from '../syntax/index.js';
import { NOT_STRINGS } from './command-line.js';
import { argsRange, codes, fail, flagsOf, type InstructionInput, NONE, wordOf } from './context.js';
import { type CheckedFlags, checkFlags } from './flags.js';

/** `COPY [--from] [--chown] [--chmod] [--link] [--parents] [--exclude]… src… dest`. */
export function parseCopy(input: InstructionInput): CopyInstruction {
  const flags = checkFlags(input);
  const { sources, dest, heredocs, form } = sourcesAndDest(input, 'COPY');
  const copy: CopyInstruction = {
    kind: 'copy',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    sources,
    dest,
    heredocs,
    form,
    link: flags.bool('link') ?? false,
    parents: flags.bool('parents') ?? false,
    exclude: excludes(flags),
  };
  ownership(copy, flags);
  const from = flags.string('from');
  if (from !== undefined) copy.from = from;
  return copy;
}

/** `ADD [--chown] [--chmod] [--link] [--keep-git-dir] [--checksum] [--exclude]… [--unpack] src… dest`. */
export function parseAdd(input: InstructionInput): AddInstruction {
  const flags = checkFlags(input);
  const { sources, dest, heredocs, form } = sourcesAndDest(input, 'ADD');
  // `chown` and `chmod` come before `keepGitDir` (the AST's JSON keeps this order)
  const fields: Omit<AddInstruction, 'keepGitDir'> & { keepGitDir?: boolean } = {
    kind: 'add',
    keyword: input.keyword.value,
    original: input.original,
    flags: flagsOf(input),
    comments: input.comments,
    range: input.range,
    sources,
    dest,
    heredocs,
    form,
    link: flags.bool('link') ?? false,
    parents: flags.bool('parents') ?? false,
    exclude: excludes(flags),
  };
  ownership(fields, flags);
  fields.keepGitDir = flags.bool('keep-git-dir') ?? false;
  const add = fields as AddInstruction;
  const checksum = flags.string('checksum');
  if (checksum !== undefined) add.checksum = checksum;
  const unpack = flags.bool('unpack');
  if (unpack !== undefined) add.unpack = unpack;
  return add;
}

function excludes(flags: CheckedFlags): string[] {
  const all = flags.all('exclude');
  return all.length === 0 ? NONE : all.map((f) => f.flagValue ?? '');
}

/** `--chown` and `--chmod`, when given. */
function ownership(into: { chown?: string; chmod?: string }, flags: CheckedFlags): void {
  const chown = flags.string('chown');
  if (chown !== undefined) into.chown = chown;
  const chmod = flags.string('chmod');
  if (chmod !== undefined) into.chmod = chmod;
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
  let heredocs: Heredoc[] = NONE;
  if (json.kind === 'shell' && input.heredocs.length > 0) {
    for (const w of words) {
      const name = isHeredocWord(w.value);
      const doc = name === false ? undefined : input.heredocs.find((h) => h.name === name);
      if (!doc) continue;
      if (heredocs === NONE) heredocs = [doc];
      else heredocs.push(doc);
    }
  }
  return { sources: words, dest, heredocs, form: json.kind === 'exec' ? ('exec' as const) : ('shell' as const) };
}
