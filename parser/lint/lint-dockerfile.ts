/**
 * `tsbuild lint`: BuildKit's build checks, run the way `docker build --check` runs them: syntax checks on
 * the AST, and the checks that need ARG/ENV state while the build graph of every stage is made.
 */
import { type SourceRange, TsbuildError } from '../../errors.js';
import type { Diagnostic, Dockerfile, FromInstruction, Instruction } from '../ast.js';
import type { BaseImageConfig, GraphObserver, Platform } from '../dag/index.js';
import { splitPortParts, suggest, toBuildGraph } from '../dag/index.js';
import { DockerfileSyntaxError } from '../errors.js';
import { parseDockerfile } from '../parse-dockerfile.js';
import { type CheckConfig, parseCheckDirective } from './check-directive.js';
import { findEmptyContinuations } from './empty-continuation.js';
import { MESSAGES, RULES, type RuleName } from './rules.js';

export interface LintOptions {
  /** The name used in messages. */
  filename?: string;
  buildArgs?: Record<string, string>;
  /** Lint as for this target; default every stage. */
  target?: string;
  platform?: Platform;
  /** Base image configs (their ENV makes variables defined); stages on an unknown image skip UndefinedVar. */
  baseImage?: (ref: string, platform: Platform) => BaseImageConfig | undefined;
}

export interface LintResult {
  /** The findings, sorted by line and message. `rule` is the check's name, `url` its documentation. */
  warnings: Diagnostic[];
  /** The error that would stop the build (a syntax or build graph error), if any. */
  error?: TsbuildError;
  /** `# check=` as read from the file. */
  check: CheckConfig;
  /** True when `# check=error=true` turns the warnings into a failure. */
  failed: boolean;
}

const SECRET = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const SECRET_ALLOWED = /(?:_|^)(?:public|file|version)(?:_|$)/i;
const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);

/** Lints a Dockerfile's text. Never throws: problems come back as `warnings` and `error`. */
export function lintDockerfile(text: string, options: LintOptions = {}): LintResult {
  const filename = options.filename ?? 'Dockerfile';
  const { ast, diagnostics } = parseDockerfile(text, { filename });
  const found: Diagnostic[] = [];
  let check: CheckConfig = { skip: [], skipAll: false, error: false };
  let error: TsbuildError | undefined;
  const directive = ast.directives.find((d) => d.name === 'check');
  if (directive !== undefined) {
    try {
      check = parseCheckDirective(directive.value);
    } catch (err) {
      error = new TsbuildError('TSB_LINT_CHECK_DIRECTIVE', `failed to parse check options: ${(err as Error).message}`, {
        file: filename,
        ranges: [directive.range],
      });
    }
  }
  const warn = (rule: RuleName, range: SourceRange, message: string): void => {
    found.push({
      severity: 'warning',
      code: 'TSB_LINT',
      rule,
      message,
      range,
      url: RULES[rule].url,
    });
  };

  const parseErrors = diagnostics.filter((d) => d.severity === 'error');
  syntaxChecks(ast, text, warn);
  if (parseErrors.length > 0) {
    const first = parseErrors[0]!;
    error ??= new DockerfileSyntaxError(first.message, {
      code: first.code,
      file: filename,
      ranges: [first.range],
      diagnostics: parseErrors,
    });
  } else {
    try {
      toBuildGraph(ast, {
        target: options.target,
        buildArgs: options.buildArgs,
        platform: options.platform,
        baseImage: options.baseImage,
        allStages: options.target === undefined,
        observer: graphObserver(warn),
      });
    } catch (err) {
      error ??=
        err instanceof TsbuildError
          ? err
          : new TsbuildError('TSB_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  const warnings = check.skipAll ? [] : dedupe(found).filter((w) => !check.skip.includes(w.rule ?? ''));
  warnings.sort(
    (a, b) => a.range.start.line - b.range.start.line || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
  const result: LintResult = { warnings, check, failed: check.error && warnings.length > 0 };
  if (error !== undefined) result.error = error;
  return result;
}

type Warn = (rule: RuleName, range: SourceRange, message: string) => void;

/** Checks that need only the AST and the text. */
function syntaxChecks(ast: Dockerfile, text: string, warn: Warn): void {
  const stageInstructions: Instruction[] = [];
  let inStage = false;
  const names = new Set<string>();
  for (const inst of ast.instructions) {
    if (inst.kind === 'from') inStage = true;
    if (inStage) stageInstructions.push(inst);
    switch (inst.kind) {
      case 'from':
        fromChecks(inst, names, warn);
        break;
      case 'maintainer':
        warn('MaintainerDeprecated', inst.range, MESSAGES.MaintainerDeprecated());
        break;
      case 'env':
        if (inst.legacy) warn('LegacyKeyValueFormat', inst.range, MESSAGES.LegacyKeyValueFormat('ENV'));
        break;
      case 'label':
        if (inst.legacy) warn('LegacyKeyValueFormat', inst.range, MESSAGES.LegacyKeyValueFormat('LABEL'));
        break;
    }
  }
  casingChecks(stageInstructions, warn);
  for (const range of findEmptyContinuations(text, ast)) {
    warn('NoEmptyContinuation', range, MESSAGES.NoEmptyContinuation());
  }
}

function fromChecks(inst: FromInstruction, names: Set<string>, warn: Warn): void {
  const stage = inst.stageName?.value;
  if (stage === undefined) return;
  if (stage !== stage.toLowerCase()) warn('StageNameCasing', inst.range, MESSAGES.StageNameCasing(stage));
  const from = inst.keyword;
  const as = inst.asKeyword?.value;
  if (as !== undefined) {
    const lower = from === from.toLowerCase();
    const upper = from === from.toUpperCase();
    if ((lower && as !== as.toLowerCase()) || (!lower && upper && as !== as.toUpperCase())) {
      warn('FromAsCasing', inst.range, MESSAGES.FromAsCasing(from, as));
    }
  }
  const name = stage.toLowerCase();
  if (RESERVED_STAGE_NAMES.has(name)) warn('ReservedStageName', inst.range, MESSAGES.ReservedStageName(name));
  if (names.has(name)) warn('DuplicateStageName', inst.range, MESSAGES.DuplicateStageName(name));
  names.add(name);
}

/** ConsistentInstructionCasing: keywords of the stages (not the global ARGs) against the majority's casing. */
function casingChecks(instructions: Instruction[], warn: Warn): void {
  let lower = 0;
  let upper = 0;
  for (const inst of instructions) {
    const k = inst.keyword;
    if (k === k.toLowerCase()) lower++;
    else if (k === k.toUpperCase()) upper++;
  }
  const majorityLower = lower > upper;
  for (const inst of instructions) {
    const k = inst.keyword;
    if (majorityLower && k !== k.toLowerCase()) {
      warn('ConsistentInstructionCasing', inst.range, MESSAGES.ConsistentInstructionCasing(k, 'lowercase'));
    } else if (!majorityLower && k !== k.toUpperCase()) {
      warn('ConsistentInstructionCasing', inst.range, MESSAGES.ConsistentInstructionCasing(k, 'uppercase'));
    }
  }
}

function graphObserver(warn: Warn): GraphObserver {
  return {
    unmatched: ({ range, names, envKeys }) => {
      for (const n of names) warn('UndefinedVar', range, MESSAGES.UndefinedVar(n, suggest(n, envKeys)));
    },
    fromUnmatched: ({ range, names, knownArgs }) => {
      for (const n of names) warn('UndefinedArgInFrom', range, MESSAGES.UndefinedArgInFrom(n, suggest(n, knownArgs)));
    },
    invalidDefaultBase: ({ range, raw }) =>
      warn('InvalidDefaultArgInFrom', range, MESSAGES.InvalidDefaultArgInFrom(raw)),
    firstWorkdir: ({ range, path }) => {
      if (!path.startsWith('/')) warn('WorkdirRelativePath', range, MESSAGES.WorkdirRelativePath(path));
    },
    shellForm: ({ range, instruction, shellSet }) => {
      if (!shellSet) warn('JSONArgsRecommended', range, MESSAGES.JSONArgsRecommended(instruction));
    },
    repeated: ({ range, instruction }) =>
      warn('MultipleInstructionsDisallowed', range, MESSAGES.MultipleInstructionsDisallowed(instruction)),
    expose: ({ range, ports }) => {
      for (const raw of ports) {
        const { ip, hostPort, containerPort } = splitPortParts(raw);
        const slash = containerPort.indexOf('/');
        const proto = slash < 0 ? '' : containerPort.slice(slash + 1);
        if (!['', 'tcp', 'udp', 'sctp'].includes(proto.toLowerCase()) || containerPort.startsWith('/')) continue;
        if (proto !== proto.toLowerCase()) warn('ExposeProtoCasing', range, MESSAGES.ExposeProtoCasing(raw));
        if (ip !== '' || hostPort !== '') warn('ExposeInvalidFormat', range, MESSAGES.ExposeInvalidFormat(raw));
      }
    },
    key: ({ range, instruction, key }) => {
      if (SECRET.test(key) && !SECRET_ALLOWED.test(key)) {
        warn('SecretsUsedInArgOrEnv', range, MESSAGES.SecretsUsedInArgOrEnv(instruction, key));
      }
    },
  };
}

function dedupe(warnings: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return warnings.filter((w) => {
    const key = `${w.rule}\u0000${w.range.start.line}:${w.range.start.column}\u0000${w.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
