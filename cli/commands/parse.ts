import type { Argv, CommandModule } from 'yargs';
import type { Dockerfile, Instruction, ParseResult } from '../../parser/index.js';
import { parseBuildArgs, readDockerfile } from '../dockerfile-input.js';
import type { GlobalOptions } from '../global-options.js';
import type { OptionSpecs } from '../option-specs.js';

export interface ParseArgs extends GlobalOptions {
  file: string;
  json?: boolean;
  graph?: boolean;
  target?: string;
  'build-arg'?: string[];
  platform?: string;
}

export const PARSE_OPTIONS = {
  file: { alias: 'f', type: 'string', default: 'Dockerfile', describe: 'Dockerfile to parse (- for stdin)' },
  json: { type: 'boolean', describe: 'Print the AST and the diagnostics as JSON' },
  graph: { type: 'boolean', describe: 'Print the build graph instead of the AST' },
  target: { type: 'string', describe: 'With --graph: the target stage' },
  'build-arg': { type: 'string', array: true, describe: 'With --graph: a build-time variable (KEY=value)' },
  platform: { type: 'string', describe: 'With --graph: the target platform (os/arch[/variant])' },
} satisfies OptionSpecs;

/**
 * `tsbuild parse [-f Dockerfile] [--json]`: the Dockerfile's AST, as an outline
 * (one line per instruction) or as JSON (`{ ast, diagnostics }`). A Dockerfile
 * with errors prints them with a code frame and exits 1 (after the JSON, with
 * --json). The parser is loaded in the handler, so that other commands start fast.
 */
export const parseCommand: CommandModule<GlobalOptions, ParseArgs> = {
  command: 'parse',
  describe: 'Parse a Dockerfile and print its instructions',
  builder: (y: Argv<GlobalOptions>) => y.options(PARSE_OPTIONS) as unknown as Argv<ParseArgs>,
  handler: async (args) => {
    const { name, text } = readDockerfile(args.file);
    // the parser's entry module, not parser/index.js: the AST alone needs neither the graph, the linter nor
    // word expansion, and the CLI bundle then loads a chunk of the parser without them
    const { parseDockerfile, dockerfileErrorOf } = await import('../../parser/parse-dockerfile.js');
    const result = parseDockerfile(text, { filename: name });
    if (args.graph) {
      const parseError = dockerfileErrorOf(result);
      if (parseError) throw parseError;
      const [{ toBuildGraph, formatBuildGraph, parsePlatform, hostPlatform }, { UsageError }] = await Promise.all([
        import('../../parser/dag/index.js'),
        import('../../errors.js'),
      ]);
      const buildArgs = parseBuildArgs(args['build-arg']);
      let platform: ReturnType<typeof hostPlatform> | undefined;
      try {
        if (args.platform !== undefined) platform = parsePlatform(args.platform, hostPlatform());
      } catch (err) {
        throw new UsageError(`invalid --platform "${args.platform}": ${(err as Error).message}`, {
          flag: '--platform',
        });
      }
      const graph = toBuildGraph(result.ast, { target: args.target, buildArgs, platform });
      process.stdout.write(args.json ? `${JSON.stringify(graph, null, 2)}\n` : formatBuildGraph(graph));
      return;
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ast: result.ast, diagnostics: result.diagnostics }, null, 2)}\n`);
    } else {
      printWarnings(result);
      process.stdout.write(outline(result.ast));
    }
    const error = dockerfileErrorOf(result);
    if (error) throw error;
  },
};

function printWarnings(result: ParseResult): void {
  for (const d of result.diagnostics) {
    if (d.severity !== 'warning') continue;
    const at = `${result.ast.filename}:${d.range.start.line}:${d.range.start.column}`;
    process.stderr.write(`${at}: warning: ${d.rule ? `${d.rule}: ` : ''}${d.message}\n`);
  }
}

const WIDTH = 100;

/** One line per directive and instruction: `line:col KIND text`, long text cut. */
export function outline(ast: Dockerfile): string {
  const rows: string[] = [];
  for (const d of ast.directives) rows.push(`${d.range.start.line}:${d.range.start.column} # ${d.name}=${d.value}`);
  for (const i of ast.instructions) rows.push(outlineRow(i));
  return rows.length > 0 ? `${rows.join('\n')}\n` : '';
}

function outlineRow(i: Instruction): string {
  const where = `${i.range.start.line}:${i.range.start.column}`;
  let text = i.original.slice(i.keyword.length).replace(/\s+/g, ' ').trim();
  if (text.length > WIDTH) text = `${text.slice(0, WIDTH - 1)}…`;
  const heredocs =
    'heredocs' in i ? i.heredocs : i.kind === 'onbuild' && 'heredocs' in i.instruction ? i.instruction.heredocs : [];
  const extra = heredocs.length > 0 ? ` [heredoc ${heredocs.map((h) => h.name).join(', ')}]` : '';
  return `${where} ${i.kind.toUpperCase()} ${text}${extra}`;
}
