import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import type { OptionSpecs } from '../option-specs.js';

interface LintArgs extends GlobalOptions {
  file: string;
  json?: boolean;
  'build-arg'?: string[];
  target?: string;
}

export const LINT_OPTIONS = {
  file: { alias: 'f', type: 'string', default: 'Dockerfile', describe: 'Dockerfile to check (- for stdin)' },
  json: { type: 'boolean', describe: 'Print the findings as JSON' },
  'build-arg': { type: 'string', array: true, describe: 'Build-time variable (KEY=value)' },
  target: { type: 'string', describe: 'Check as for this target stage (default: every stage)' },
} satisfies OptionSpecs;

/**
 * `tsbuild lint [-f Dockerfile] [--json]`: BuildKit's build checks. Warnings print as
 * `file:line:col: warning: Rule: message` with the rule's documentation link; exit 0 with warnings,
 * 1 on an error or when `# check=error=true` and a check fails.
 */
export const lintCommand: CommandModule<GlobalOptions, LintArgs> = {
  command: 'lint',
  describe: "Run BuildKit's build checks on a Dockerfile",
  builder: (y: Argv<GlobalOptions>) => y.options(LINT_OPTIONS) as unknown as Argv<LintArgs>,
  handler: async (args) => {
    const [{ lintDockerfile }, { TsbuildError }, { readDockerfile, parseBuildArgs }] = await Promise.all([
      import('../../parser/lint/index.js'),
      import('../../errors.js'),
      import('../dockerfile-input.js'),
    ]);
    const { name, text } = readDockerfile(args.file);
    const buildArgs = parseBuildArgs(args['build-arg']);
    const result = lintDockerfile(text, { filename: name, buildArgs, target: args.target });
    if (args.json) {
      const out = {
        warnings: result.warnings,
        error: result.error ? result.error.toJSON() : undefined,
        failed: result.failed,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      if (result.error || result.failed) process.exitCode = 1;
      return;
    }
    for (const w of result.warnings) {
      process.stdout.write(
        `${name}:${w.range.start.line}:${w.range.start.column}: warning: ${w.rule}: ${w.message}\n  ${w.url}\n`,
      );
    }
    if (result.error) throw result.error;
    if (result.failed) {
      const rules = [...new Set(result.warnings.map((w) => w.rule))].sort();
      throw new TsbuildError('TSB_LINT_FAILED', `lint violation found for rules: ${rules.join(', ')}`, {
        file: name,
        ranges: [result.warnings[0]!.range],
      });
    }
  },
};
