/**
 * Dockerfile AST → BuildGraph, with BuildKit's rules (`dockerfile2llb/convert.go`): global ARGs seen only by
 * FROM lines, ARG/ENV scoping and precedence, predefined args, stage references by name and index, ONBUILD
 * triggers inserted after FROM, pruning for the target, and the history text BuildKit writes.
 *
 * Where the docker.io BuildKit on this machine (20.10) and current BuildKit disagree on an observable detail,
 * the local one wins (history text of ARG, COPY and RUN in derived stages); features it lacks follow current
 * BuildKit.
 */
import { posix } from 'node:path';
import { type SourceRange, withLocation } from '../../errors.js';
import {
  type AddInstruction,
  type ArgInstruction,
  type CommandLine,
  type CopyInstruction,
  type Diagnostic,
  type Dockerfile,
  type EnvInstruction,
  type FromInstruction,
  type HealthcheckInstruction,
  type Heredoc,
  INSTRUCTIONS,
  type Instruction,
  type LabelInstruction,
  type RunInstruction,
  type RunMount,
} from '../ast.js';
import { BuildGraphError } from '../errors.js';
import { parseRunMount } from '../instructions/index.js';
import { parseDockerfile } from '../parse-dockerfile.js';
import { expandWord, expandWords } from '../shell/index.js';
import { EnvList } from './env-list.js';
import { goDuration, goQuote, goQuoteRune } from './go-format.js';
import { isValidImageRef, normalizeImageRef } from './image-ref.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformArgs } from './platform.js';
import { parsePortSpec } from './ports.js';
import { RunArgs } from './run-args.js';
import { isValidSignal } from './signal.js';
import { suggest } from './suggest.js';
import type {
  BaseImageConfig,
  BaseImageRef,
  BuildGraph,
  BuildGraphOptions,
  CopySource,
  CopyStep,
  FileSource,
  HealthConfig,
  HistoryEntry,
  ImageConfig,
  InlineFile,
  Platform,
  RunStep,
  Stage,
  StageBase,
  Step,
  StepMount,
} from './types.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** The empty list steps without mounts, files or excludes share (frozen). */
const NONE: never[] = Object.freeze([]) as unknown as never[];
/** The environment of `--from` values: none (they are not expanded). */
const NO_ENV = (): undefined => undefined;
const NO_RANGE: SourceRange = { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
const UPPER_KEYWORDS = new Set(INSTRUCTIONS.map((k) => k.toUpperCase()));
const PROXY_ARGS = ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'all_proxy'];
/** Args BuildKit reads itself; never put into the environment. */
const NON_ENV_ARGS = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);
const PLATFORM_ARG_NAMES = new Set(platformArgs(hostPlatform(), hostPlatform()).map(([k]) => k));

/** A stage as parsed from the AST, before dispatch. */
interface StageInfo {
  index: number;
  from: FromInstruction;
  name?: string;
  /** The expanded base name. */
  baseName: string;
  base: StageBase;
  platform: Platform;
  /** The stage's own instructions (after FROM, up to the next FROM). */
  instructions: Instruction[];
  /** Instructions to dispatch: ONBUILD triggers of the base first, then the stage's own. */
  commands: (Command | Instruction)[];
  /** Dependencies on other stages, with the instruction that makes each. */
  deps: Map<number, SourceRange>;
  triggersInit: boolean;
  baseConfig?: BaseImageConfig;
  /** True when the base's config is known (an image the callback found, scratch, or a stage whose base is known). */
  baseKnown: boolean;
}

interface Command {
  instruction: Instruction;
  /** For triggers: the FROM line's range, used for every message and step. */
  range: SourceRange;
  onbuild: boolean;
  /** The resolved `--from` of COPY, by mount index for RUN. */
  copyFrom?: FileSource;
  mountFrom?: (FileSource | undefined)[];
}

/** The dispatch state of a stage (BuildKit's dispatchState). */
interface StageState {
  info: StageInfo;
  config: ImageConfig;
  author?: string;
  env: EnvList;
  workdir: string;
  /** ARGs declared in this stage, for RUN's `argNames` and history's `|N K=V` (local BuildKit: not inherited). */
  runArgs: RunArgs;
  /** ARGs declared in this stage and the stages it derives from (for UndefinedVar). */
  declared: Set<string>;
  workdirSet: boolean;
  cmdSet?: SourceRange;
  entrypointSet?: SourceRange;
  healthcheckSet?: SourceRange;
  steps: Step[];
  onbuild: string[];
}

/**
 * Makes the build graph of a parsed Dockerfile. Throws a `BuildGraphError` or an `ExpansionError` with the
 * file and the range at fault.
 */
export function toBuildGraph(ast: Dockerfile, options: BuildGraphOptions = {}): BuildGraph {
  return new GraphBuilder(ast, options).build();
}

/**
 * The images the stages the target needs use, after global-ARG expansion (stages and `scratch` excluded):
 * the builder resolves these first and answers `baseImage` from them. Images that ONBUILD triggers of a base
 * image name appear only in the graph.
 */
export function baseImageRefs(ast: Dockerfile, options: BuildGraphOptions = {}): BaseImageRef[] {
  return new GraphBuilder(ast, options).imageRefs();
}

class GraphBuilder {
  private readonly file: string;
  private readonly escape: '\\' | '`';
  private readonly target: Platform;
  private readonly buildPlatform: Platform;
  private readonly buildArgs: Record<string, string>;
  private readonly globalEnv = new EnvList();
  /** Global ARG names (declared before the first FROM). */
  private readonly globalDeclared = new Set<string>();
  private readonly usedArgs = new Set<string>();
  private readonly stages: StageInfo[] = [];
  private readonly byName = new Map<string, number>();
  private readonly states = new Map<number, StageState>();
  private readonly configCache = new Map<string, BaseImageConfig | undefined>();
  private readonly warnings: Diagnostic[] = [];
  private readonly proxyEnv: string[];
  /** The options of every expansion (one object, not one per word). */
  private readonly expandOptions: { escape: '\\' | '`' };
  private readonly head: StepHead = { range: NO_RANGE, name: '', onbuild: false };

  constructor(
    private readonly ast: Dockerfile,
    private readonly options: BuildGraphOptions,
  ) {
    this.file = ast.filename;
    this.escape = ast.escape;
    this.expandOptions = { escape: ast.escape };
    this.target = normalizePlatform(options.platform ?? hostPlatform());
    this.buildPlatform = normalizePlatform(options.buildPlatform ?? hostPlatform());
    this.buildArgs = { ...(options.buildArgs ?? {}) };
    this.proxyEnv = proxyEnvFrom(this.buildArgs);
  }

  /** Everything up to the base images: stages, global ARGs, FROM lines, stage references, the target. */
  private prepare(): number {
    const globals = this.splitStages();
    this.expandGlobals(globals);
    this.checkDefaultBases(globals);
    for (const s of this.stages) this.resolveFrom(s);
    for (const s of this.stages) this.resolveDeps(s);
    return this.resolveTarget();
  }

  /** The images the needed stages use (FROM, COPY --from, RUN --mount from=), in Dockerfile order. */
  imageRefs(): BaseImageRef[] {
    const target = this.prepare();
    this.checkCycles();
    const needed = this.reachable(target);
    const out: BaseImageRef[] = [];
    const seen = new Set<string>();
    const add = (src: FileSource | StageBase, range: SourceRange, use: BaseImageRef['use']): void => {
      if (src.type !== 'image') return;
      const key = `${use}\u0000${src.normalized}\u0000${formatPlatform(src.platform)}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ ref: src.ref, normalized: src.normalized, platform: src.platform, range, use });
    };
    for (const s of this.stages) {
      if (!needed.has(s.index)) continue;
      add(s.base, s.from.range, 'base');
      for (const c of s.commands) {
        if ('kind' in c) continue;
        if (c.copyFrom) add(c.copyFrom, c.range, 'copy');
        for (const m of c.mountFrom ?? []) if (m) add(m, c.range, 'mount');
      }
    }
    return out;
  }

  build(): BuildGraph {
    const target = this.prepare();
    let reachable: Set<number>;
    for (;;) {
      reachable = this.options.allStages ? new Set(this.stages.map((s) => s.index)) : this.reachable(target);
      let changed = false;
      for (const i of [...reachable].sort((a, b) => a - b)) {
        if (this.initTriggers(this.stages[i]!)) changed = true;
      }
      if (!changed) break;
    }
    this.checkCycles();
    const needed = this.reachable(target);
    for (const s of this.stages) {
      if (reachable.has(s.index)) this.dispatchStage(s);
    }
    const stages: Stage[] = [];
    const pruned: { index: number; name?: string }[] = [];
    for (const s of this.stages) {
      const st = this.states.get(s.index);
      if (needed.has(s.index) && st) stages.push(this.toStage(st));
      else pruned.push(s.name === undefined ? { index: s.index } : { index: s.index, name: s.name });
    }
    const used: string[] = [];
    const unused: string[] = [];
    for (const k of Object.keys(this.buildArgs).sort()) {
      if (this.usedArgs.has(k) || isPredefinedArg(k)) used.push(k);
      else unused.push(k);
    }
    if (unused.length > 0) {
      this.warnings.push({
        severity: 'warning',
        code: 'TSB_BUILD_ARG_UNUSED',
        message: `one or more build-args [${unused.join(' ')}] were not consumed`,
        range: this.stages[target]!.from.range,
      });
    }
    const epoch = this.sourceDateEpoch(target);
    return {
      filename: this.file,
      platform: this.target,
      buildPlatform: this.buildPlatform,
      target,
      stages,
      pruned,
      buildArgs: { used, unused },
      ...(epoch !== undefined ? { epoch } : {}),
      warnings: this.warnings,
    };
  }

  /** SOURCE_DATE_EPOCH as BuildKit reads it: the build arg, else a global ARG's non-empty value; seconds. */
  private sourceDateEpoch(target: number): string | undefined {
    const raw = Object.hasOwn(this.buildArgs, 'SOURCE_DATE_EPOCH')
      ? this.buildArgs.SOURCE_DATE_EPOCH
      : this.globalEnv.get('SOURCE_DATE_EPOCH') || undefined;
    if (raw === undefined) return undefined;
    const time = /^[+-]?\d{1,15}$/.test(raw) ? new Date(Number(raw) * 1000) : undefined;
    const year = time?.getUTCFullYear() ?? -1;
    if (time === undefined || Number.isNaN(time.getTime()) || year < 0 || year > 9999) {
      throw new BuildGraphError(
        'TSB_BUILD_ARG_INVALID',
        `invalid SOURCE_DATE_EPOCH: ${raw}: expected whole seconds since 1970 (a date from year 0 to 9999)`,
        { file: this.file, ranges: [this.stages[target]!.from.range] },
      );
    }
    // Go's time.Time JSON: no fractional part for whole seconds
    return time.toISOString().replace('.000Z', 'Z');
  }

  // ---- parsing the stage structure -------------------------------------------------------------------------

  private splitStages(): ArgInstruction[] {
    const globals: ArgInstruction[] = [];
    let current: StageInfo | undefined;
    for (const inst of this.ast.instructions) {
      if (inst.kind === 'from') {
        current = {
          index: this.stages.length,
          from: inst,
          name: inst.stageName?.value.toLowerCase(),
          baseName: '',
          base: { type: 'scratch' },
          platform: this.target,
          instructions: [],
          commands: [],
          deps: new Map(),
          triggersInit: false,
          baseKnown: true,
        };
        this.stages.push(current);
      } else if (current === undefined) {
        if (inst.kind !== 'arg') {
          throw new BuildGraphError('TSB_DOCKERFILE_NO_STAGE', 'no build stage in current context', {
            file: this.file,
            ranges: [inst.range],
          });
        }
        globals.push(inst);
      } else {
        current.instructions.push(inst);
      }
    }
    if (this.stages.length === 0) {
      const range = this.ast.instructions[0]?.range ?? {
        start: { line: 1, column: 1 },
        end: { line: 1, column: 1 },
      };
      throw new BuildGraphError('TSB_DOCKERFILE_NO_STAGE', 'dockerfile contains no stages to build', {
        file: this.file,
        ranges: [range],
      });
    }
    return globals;
  }

  private expandGlobals(globals: ArgInstruction[]): void {
    for (const [k, v] of platformArgs(this.target, this.buildPlatform)) this.globalEnv.set(k, v);
    for (const inst of globals) {
      for (const pair of inst.pairs) {
        this.globalDeclared.add(pair.key);
        this.usedArgs.add(pair.key);
        let value: string | undefined;
        if (Object.hasOwn(this.buildArgs, pair.key)) value = this.buildArgs[pair.key];
        else if (pair.value !== null) value = this.expandWith(pair.value, this.globalEnv, inst.range).value;
        if (value !== undefined) this.globalEnv.set(pair.key, value);
      }
    }
  }

  /** InvalidDefaultArgInFrom: expand each FROM with the global ARG defaults only. */
  private checkDefaultBases(globals: ArgInstruction[]): void {
    const report = this.options.observer?.invalidDefaultBase;
    if (!report) return;
    const env = new EnvList();
    for (const [k, v] of platformArgs(this.target, this.buildPlatform)) env.set(k, v);
    try {
      for (const inst of globals) {
        for (const pair of inst.pairs) {
          if (pair.value !== null) env.set(pair.key, expandWord(pair.value, env.lookup, this.expandOptions).value);
        }
      }
      for (const s of this.stages) {
        const name = expandWord(s.from.image.value, env.lookup, this.expandOptions).value;
        if (name !== 'scratch' && !isValidImageRef(name)) report({ range: s.from.range, raw: s.from.image.value });
      }
    } catch {
      // the build itself reports the expansion error
    }
  }

  private resolveFrom(s: StageInfo): void {
    const from = s.from;
    const known = [...new Set([...this.globalEnv.names(), ...this.globalDeclared])];
    const name = this.expandWith(from.image.value, this.globalEnv, from.range);
    this.reportFromUnmatched(name.unmatched, known, from.range);
    if (name.value === '') {
      throw new BuildGraphError('TSB_DOCKERFILE_BLANK_BASE', `base name (${from.image.value}) should not be blank`, {
        file: this.file,
        ranges: [from.range],
      });
    }
    s.baseName = name.value;
    if (from.platform !== undefined) {
      const p = this.expandWith(from.platform, this.globalEnv, from.range);
      this.reportFromUnmatched(p.unmatched, known, from.range);
      if (p.value === '') {
        const hint = [...p.unmatched].map((u) => suggest(u, this.globalEnv.names())).find((x) => x !== undefined);
        throw new BuildGraphError(
          'TSB_DOCKERFILE_PLATFORM',
          `empty platform value from expression ${from.platform}${hint ? ` (did you mean ${hint}?)` : ''}`,
          { file: this.file, ranges: [from.range] },
        );
      }
      try {
        s.platform = parsePlatform(p.value, this.target);
      } catch (err) {
        throw new BuildGraphError(
          'TSB_DOCKERFILE_PLATFORM',
          `failed to parse platform ${from.platform}: ${(err as Error).message}`,
          { file: this.file, ranges: [from.range] },
        );
      }
    }
    // BuildKit looks the base up as written: stage names are lower-case, so `FROM A` is the image "A"
    const byName = this.byName.get(name.value);
    if (byName !== undefined) {
      s.base = { type: 'stage', stage: byName };
      s.deps.set(byName, from.range);
    } else if (name.value === 'scratch') {
      s.base = { type: 'scratch' };
    } else {
      let normalized: string;
      try {
        normalized = normalizeImageRef(name.value);
      } catch (err) {
        throw new BuildGraphError(
          'TSB_DOCKERFILE_BAD_BASE',
          `failed to parse stage name "${name.value}": ${(err as Error).message}`,
          { file: this.file, ranges: [from.range] },
        );
      }
      s.base = { type: 'image', ref: name.value, normalized, platform: s.platform };
    }
    if (s.name !== undefined) this.byName.set(s.name, s.index);
  }

  private reportFromUnmatched(unmatched: ReadonlySet<string>, known: string[], range: SourceRange): void {
    const report = this.options.observer?.fromUnmatched;
    if (!report) return;
    const names = [...unmatched].filter((u) => !known.includes(u));
    if (names.length > 0) report({ range, names, knownArgs: known });
  }

  /** COPY --from and RUN --mount from= of the stage's own instructions. */
  private resolveDeps(s: StageInfo): void {
    s.commands = s.instructions.map((inst) => this.toCommand(s, inst, inst.range, false));
  }

  /**
   * The command of an instruction, with its `--from` references resolved. An instruction of the stage's own
   * that refers to nothing stands for itself (most do: no command object for them).
   */
  private toCommand(s: StageInfo, inst: Instruction, range: SourceRange, onbuild: boolean): Command | Instruction {
    let copyFrom: FileSource | undefined;
    let mountFrom: (FileSource | undefined)[] | undefined;
    if (inst.kind === 'copy' && inst.from !== undefined) {
      copyFrom = this.resolveFromRef(inst.from, range, true);
      if (copyFrom.type === 'stage') addDep(s, copyFrom.stage, range);
    } else if (inst.kind === 'run' && inst.mounts.length > 0) {
      mountFrom = inst.mounts.map((m) => {
        const from = m.type === 'bind' || m.type === 'cache' ? m.from : undefined;
        if (from === undefined || from === '') return undefined;
        const src = this.resolveFromRef(from, range, false);
        if (src.type === 'stage') addDep(s, src.stage, range);
        return src;
      });
    }
    if (!onbuild && copyFrom === undefined && mountFrom === undefined && range === inst.range) return inst;
    return { instruction: inst, range, onbuild, copyFrom, mountFrom };
  }

  /** A `--from` value: a stage index (COPY only), a stage name, or else an image reference. */
  private resolveFromRef(from: string, range: SourceRange, allowIndex: boolean): FileSource {
    const expanded = expandWord(from, NO_ENV, this.expandOptions).value;
    if (expanded !== from) {
      throw new BuildGraphError(
        'TSB_DOCKERFILE_FROM_VARIABLE',
        'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
        { file: this.file, ranges: [range] },
      );
    }
    if (allowIndex && /^\d+$/.test(from)) {
      const index = Number(from);
      if (index >= this.stages.length) {
        throw new BuildGraphError('TSB_DOCKERFILE_UNKNOWN_STAGE', `invalid stage index ${from}`, {
          file: this.file,
          ranges: [range],
        });
      }
      return { type: 'stage', stage: index };
    }
    const byName = this.lastStageNamed(from.toLowerCase());
    if (byName !== undefined) return { type: 'stage', stage: byName };
    let normalized: string;
    try {
      normalized = normalizeImageRef(from);
    } catch (err) {
      const hint = suggest(from, this.stageNames(), false);
      throw new BuildGraphError(
        'TSB_DOCKERFILE_UNKNOWN_STAGE',
        `stage or image "${from}" not found: ${(err as Error).message}${hint ? ` (did you mean ${hint}?)` : ''}`,
        { file: this.file, ranges: [range] },
      );
    }
    return { type: 'image', ref: from, normalized, platform: this.target };
  }

  private lastStageNamed(name: string): number | undefined {
    for (let i = this.stages.length - 1; i >= 0; i--) if (this.stages[i]!.name === name) return i;
    return undefined;
  }

  private stageNames(): string[] {
    return this.stages.flatMap((s) => (s.name === undefined ? [] : [s.name]));
  }

  private resolveTarget(): number {
    const t = this.options.target;
    if (t === undefined || t === '') return this.stages.length - 1;
    // by name only (case-insensitively), as BuildKit's findStateByName: an index is no target
    const byName = this.lastStageNamed(t.toLowerCase());
    if (byName !== undefined) return byName;
    const hint = suggest(t, this.stageNames());
    throw new BuildGraphError(
      'TSB_DOCKERFILE_UNKNOWN_TARGET',
      `target stage "${t}" could not be found${hint ? ` (did you mean ${hint}?)` : ''}`,
      { file: this.file, ranges: [this.stages[this.stages.length - 1]!.from.range] },
    );
  }

  private reachable(target: number): Set<number> {
    const seen = new Set<number>();
    const visit = (i: number): void => {
      if (seen.has(i)) return;
      seen.add(i);
      for (const d of this.stages[i]!.deps.keys()) visit(d);
    };
    visit(target);
    return seen;
  }

  /** Inserts the base's ONBUILD triggers; true when they add dependencies. */
  private initTriggers(s: StageInfo): boolean {
    if (s.triggersInit) return false;
    s.triggersInit = true;
    let triggers: string[] = [];
    if (s.base.type === 'image') {
      const config = this.lookupBase(s.base.ref, s.base.platform);
      s.baseConfig = config;
      s.baseKnown = config !== undefined;
      triggers = config?.OnBuild ?? [];
    } else if (s.base.type === 'stage') {
      const base = this.stages[s.base.stage]!;
      for (const inst of base.instructions) if (inst.kind === 'onbuild') triggers.push(inst.expression);
    }
    if (triggers.length === 0) return false;
    let added = false;
    const cmds: (Command | Instruction)[] = [];
    for (const trigger of triggers) {
      const inst = this.parseTrigger(trigger, s.from.range);
      const before = s.deps.size;
      cmds.push(this.toCommand(s, inst, s.from.range, true));
      if (s.deps.size !== before) added = true;
    }
    s.commands = [...cmds, ...s.commands];
    return added;
  }

  private lookupBase(ref: string, platform: Platform): BaseImageConfig | undefined {
    const key = `${ref}\u0000${formatPlatform(platform)}`;
    if (!this.configCache.has(key)) this.configCache.set(key, this.options.baseImage?.(ref, platform));
    return this.configCache.get(key);
  }

  private parseTrigger(trigger: string, range: SourceRange): Instruction {
    const { ast, diagnostics } = parseDockerfile(trigger, { filename: this.file });
    const error = diagnostics.find((d) => d.severity === 'error');
    if (error !== undefined) {
      throw new BuildGraphError('TSB_DOCKERFILE_ONBUILD', `invalid ONBUILD trigger "${trigger}": ${error.message}`, {
        file: this.file,
        ranges: [range],
      });
    }
    const [inst, ...rest] = ast.instructions;
    if (inst === undefined || rest.length > 0) {
      throw new BuildGraphError('TSB_DOCKERFILE_ONBUILD', 'onbuild trigger should be a single expression', {
        file: this.file,
        ranges: [range],
      });
    }
    if (inst.kind === 'onbuild' || inst.kind === 'from' || inst.kind === 'maintainer') {
      throw new BuildGraphError(
        'TSB_DOCKERFILE_ONBUILD',
        `${inst.kind.toUpperCase()} isn't allowed as an ONBUILD trigger`,
        { file: this.file, ranges: [range] },
      );
    }
    return inst;
  }

  private checkCycles(): void {
    const visited = new Set<number>();
    const onPath = new Set<number>();
    const visit = (i: number, path: SourceRange[]): SourceRange[] | undefined => {
      if (visited.has(i)) return undefined;
      visited.add(i);
      onPath.add(i);
      for (const [dep, range] of this.stages[i]!.deps) {
        const next = [...path, range];
        if (onPath.has(dep)) return next;
        const found = visit(dep, next);
        if (found) return found;
      }
      onPath.delete(i);
      return undefined;
    };
    for (const s of this.stages) {
      const path = visit(s.index, []);
      if (path) {
        throw new BuildGraphError(
          'TSB_DOCKERFILE_CYCLE',
          `circular dependency detected on stage: ${s.name ?? `stage-${s.index}`}`,
          { file: this.file, ranges: path },
        );
      }
    }
  }

  // ---- dispatch ---------------------------------------------------------------------------------------------

  private dispatchStage(s: StageInfo): void {
    const st = this.initState(s);
    this.states.set(s.index, st);
    const plain: Command = { instruction: s.from, range: s.from.range, onbuild: false };
    for (const c of s.commands) {
      // an instruction that stands for itself is dispatched through one reused command
      let cmd: Command;
      if ('kind' in c) {
        plain.instruction = c;
        plain.range = c.range;
        cmd = plain;
      } else {
        cmd = c;
      }
      try {
        this.dispatch(st, cmd);
      } catch (err) {
        throw withLocation(err, cmd.range, this.file);
      }
    }
  }

  private initState(s: StageInfo): StageState {
    if (s.base.type === 'stage') {
      const base = this.states.get(s.base.stage);
      if (base === undefined) {
        throw new BuildGraphError('TSB_DOCKERFILE_UNKNOWN_STAGE', `stage ${s.base.stage} was not built`, {
          file: this.file,
          ranges: [s.from.range],
        });
      }
      s.baseKnown = base.info.baseKnown;
      s.platform = base.info.platform;
      const config = cloneConfig(base.config);
      config.OnBuild = null;
      const env = base.env.clone();
      return {
        info: s,
        config,
        author: base.author,
        env,
        workdir: base.workdir,
        runArgs: new RunArgs(env),
        declared: new Set(base.declared),
        workdirSet: base.workdirSet,
        steps: [],
        onbuild: [],
      };
    }
    // scratch is BuildKit's emptyImage: WorkingDir "/" and the default PATH
    const base: BaseImageConfig = s.base.type === 'image' ? (s.baseConfig ?? {}) : { WorkingDir: '/' };
    const { author, ...baseConfig } = base;
    const config = cloneConfig(baseConfig);
    if (config.OnBuild) config.OnBuild = null;
    const env = EnvList.from(config.Env);
    if (!env.has('PATH')) {
      env.set('PATH', DEFAULT_PATH);
      config.Env = [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`];
    }
    let workdir = '/';
    if (config.WorkingDir) workdir = posix.join('/', config.WorkingDir);
    return {
      info: s,
      config,
      // BuildKit starts from the base image's config document: its author stays until a MAINTAINER
      ...(author !== undefined && author !== '' ? { author } : {}),
      env,
      workdir,
      runArgs: new RunArgs(env),
      declared: new Set(),
      workdirSet: false,
      steps: [],
      onbuild: [],
    };
  }

  private dispatch(st: StageState, cmd: Command): void {
    const inst = cmd.instruction;
    // one head for every step: the steps copy its fields
    const base = this.head;
    base.range = cmd.range;
    base.name = displayName(inst);
    base.onbuild = cmd.onbuild;
    const observer = this.options.observer;
    switch (inst.kind) {
      case 'env': {
        const pairs = this.expandPairs(st, inst, cmd.range);
        for (const [k, v] of pairs) {
          observer?.key?.({ range: cmd.range, instruction: 'ENV', key: k });
          st.env.set(k, v);
          st.config.Env ??= [];
          setEnvEntry(st.config.Env, k, v);
        }
        st.runArgs.changed();
        st.steps.push(
          headed(base, {
            op: 'env',
            range: base.range,
            name: base.name,
            pairs,
            history: emptyHistory(pairsText('ENV', pairs)),
          }),
        );
        return;
      }
      case 'label': {
        const pairs = this.expandPairs(st, inst, cmd.range);
        st.config.Labels ??= {};
        for (const [k, v] of pairs) st.config.Labels[k] = v;
        st.steps.push(
          headed(base, {
            op: 'label',
            range: base.range,
            name: base.name,
            pairs,
            history: emptyHistory(pairsText('LABEL', pairs)),
          }),
        );
        return;
      }
      case 'arg':
        this.dispatchArg(st, inst, cmd, base);
        return;
      case 'run':
        st.steps.push(this.dispatchRun(st, inst, cmd, base));
        return;
      case 'copy':
      case 'add':
        st.steps.push(this.dispatchCopy(st, inst, cmd, base));
        return;
      case 'workdir': {
        const p = this.expand(st, inst.path.value, cmd.range);
        if (!st.workdirSet) observer?.firstWorkdir?.({ range: cmd.range, path: p });
        st.workdirSet = true;
        // As BuildKit: an absolute path is kept as written (a trailing slash stays in the config, the
        // history and the RUN's working directory, so it is a cache miss for RUN), a relative one is joined.
        const wd = posix.isAbsolute(p) ? p : cleanDir(resolvePath(st.workdir, p));
        const clean = cleanDir(wd);
        st.workdir = wd;
        st.config.WorkingDir = wd;
        st.steps.push(
          headed(base, {
            op: 'workdir',
            range: base.range,
            name: base.name,
            path: clean,
            mkdir: clean !== '/',
            user: st.config.User ?? '',
            history: { createdBy: flat('WORKDIR ', wd), emptyLayer: clean === '/' },
          }),
        );
        return;
      }
      case 'user': {
        const user = this.expand(st, inst.user.value, cmd.range);
        st.config.User = user;
        st.steps.push(
          headed(base, {
            op: 'user',
            range: base.range,
            name: base.name,
            user,
            history: emptyHistory(flat('USER ', user)),
          }),
        );
        return;
      }
      case 'volume': {
        const paths = inst.paths.map((w) => this.expand(st, w.value, cmd.range));
        if (paths.some((p) => p === '')) {
          throw new BuildGraphError('TSB_DOCKERFILE_VOLUME', 'VOLUME specified can not be an empty string', {
            file: this.file,
            ranges: [cmd.range],
          });
        }
        st.config.Volumes ??= {};
        for (const p of paths) st.config.Volumes[p] = {};
        st.steps.push(
          headed(base, {
            op: 'volume',
            range: base.range,
            name: base.name,
            paths,
            history: emptyHistory(flat('VOLUME [', paths.join(' '), ']')),
          }),
        );
        return;
      }
      case 'stopsignal': {
        const signal = this.expand(st, inst.signal.value, cmd.range);
        if (!isValidSignal(signal)) {
          throw new BuildGraphError('TSB_DOCKERFILE_SIGNAL', `invalid signal: ${signal}`, {
            file: this.file,
            ranges: [cmd.range],
          });
        }
        st.config.StopSignal = signal;
        st.steps.push(
          headed(base, {
            op: 'stopsignal',
            range: base.range,
            name: base.name,
            signal,
            history: emptyHistory(flat('STOPSIGNAL ', signal)),
          }),
        );
        return;
      }
      case 'expose': {
        const words: string[] = [];
        let unmatched: Set<string> | undefined;
        for (const w of inst.ports) {
          if (isPlainField(w.value, this.escape)) {
            words.push(w.value);
            continue;
          }
          const r = this.expandWordsAt(st, w.value, cmd.range);
          unmatched = withNames(unmatched, r.unmatched);
          for (const v of r.values) words.push(v);
        }
        if (unmatched) this.reportUnmatched(st, unmatched, cmd.range);
        observer?.expose?.({ range: cmd.range, ports: words });
        const ports = new Set<string>();
        for (const w of words) {
          const simple = simplePort(w);
          if (simple !== undefined) {
            ports.add(simple);
            continue;
          }
          try {
            for (const p of parsePortSpec(w).ports) ports.add(p);
          } catch (err) {
            throw new BuildGraphError('TSB_DOCKERFILE_EXPOSE', (err as Error).message, {
              file: this.file,
              ranges: [cmd.range],
            });
          }
        }
        st.config.ExposedPorts ??= {};
        for (const p of ports) st.config.ExposedPorts[p] = {};
        const list = [...ports];
        st.steps.push(
          headed(base, {
            op: 'expose',
            range: base.range,
            name: base.name,
            ports: list,
            history: emptyHistory(flat('EXPOSE map[', portsText(list), ']')),
          }),
        );
        return;
      }
      case 'cmd': {
        if (st.cmdSet) observer?.repeated?.({ range: st.cmdSet, instruction: 'CMD' });
        st.cmdSet = cmd.range;
        const args = this.commandArgs(st, inst.command, 'CMD', cmd.range);
        st.config.Cmd = args;
        st.config.ArgsEscaped = true;
        st.steps.push(
          headed(base, {
            op: 'cmd',
            range: base.range,
            name: base.name,
            args,
            history: emptyHistory(flat('CMD ', goList(args))),
          }),
        );
        return;
      }
      case 'entrypoint': {
        if (st.entrypointSet) observer?.repeated?.({ range: st.entrypointSet, instruction: 'ENTRYPOINT' });
        st.entrypointSet = cmd.range;
        const args = this.commandArgs(st, inst.command, 'ENTRYPOINT', cmd.range);
        st.config.Entrypoint = args;
        const resetCmd = st.cmdSet === undefined;
        if (resetCmd) st.config.Cmd = null;
        st.steps.push(
          headed(base, {
            op: 'entrypoint',
            range: base.range,
            name: base.name,
            args,
            resetCmd,
            history: emptyHistory(flat('ENTRYPOINT ', goList(args))),
          }),
        );
        return;
      }
      case 'healthcheck': {
        if (st.healthcheckSet) observer?.repeated?.({ range: st.healthcheckSet, instruction: 'HEALTHCHECK' });
        st.healthcheckSet = cmd.range;
        const hc = healthConfig(inst);
        st.config.Healthcheck = hc;
        st.steps.push(
          headed(base, {
            op: 'healthcheck',
            range: base.range,
            name: base.name,
            healthcheck: hc,
            history: emptyHistory(healthHistory(hc)),
          }),
        );
        return;
      }
      case 'shell':
        st.config.Shell = [...inst.args];
        st.steps.push(
          headed(base, {
            op: 'shell',
            range: base.range,
            name: base.name,
            shell: [...inst.args],
            history: emptyHistory(flat('SHELL [', inst.args.join(' '), ']')),
          }),
        );
        return;
      case 'onbuild':
        st.onbuild.push(inst.expression);
        st.config.OnBuild = [...(st.config.OnBuild ?? []), inst.expression];
        st.steps.push(headed(base, { op: 'onbuild', range: base.range, name: base.name, expression: inst.expression }));
        return;
      case 'maintainer':
        st.author = inst.name;
        st.steps.push(
          headed(base, {
            op: 'maintainer',
            range: base.range,
            name: base.name,
            author: inst.name,
            history: emptyHistory(flat('MAINTAINER ', inst.name)),
          }),
        );
        return;
      case 'from':
        throw new BuildGraphError('TSB_DOCKERFILE_ONBUILD', 'FROM is not allowed here', {
          file: this.file,
          ranges: [cmd.range],
        });
    }
  }

  private dispatchArg(st: StageState, inst: ArgInstruction, cmd: Command, base: StepHead): void {
    // every default sees the values from before the instruction (as BuildKit 20.10 does): all are expanded
    // before the first is set
    const pairs = inst.pairs;
    // a stage ARG's name is a word too (BuildKit's ArgCommand.Expand): `ARG "a"=1` declares a
    const keys: string[] = [];
    const values: (string | undefined)[] = [];
    const defaults: (string | undefined)[] = [];
    let unmatched: Set<string> | undefined;
    for (const pair of pairs) {
      let key = pair.key;
      if (!isPlainWord(key, this.escape)) {
        const r = this.expandWith(key, st.env, cmd.range);
        unmatched = withNames(unmatched, r.unmatched);
        key = r.value;
      }
      keys.push(key);
      this.options.observer?.key?.({ range: cmd.range, instruction: 'ARG', key });
      this.usedArgs.add(key);
      const hasBuildArg = Object.hasOwn(this.buildArgs, key);
      let expandedDefault: string | undefined;
      if (pair.value !== null) {
        if (hasBuildArg) {
          try {
            expandedDefault = expandWord(pair.value, st.env.lookup, this.expandOptions).value;
          } catch {
            expandedDefault = pair.value;
          }
        } else {
          const r = this.expandWith(pair.value, st.env, cmd.range);
          unmatched = withNames(unmatched, r.unmatched);
          expandedDefault = r.value;
        }
      }
      let value: string | undefined;
      if (hasBuildArg) value = this.buildArgs[key];
      else if (expandedDefault !== undefined) value = expandedDefault;
      else if (this.globalEnv.has(key) && (this.globalDeclared.has(key) || PLATFORM_ARG_NAMES.has(key))) {
        value = this.globalEnv.get(key);
      }
      values.push(value);
      defaults.push(expandedDefault);
    }
    for (const key of keys) st.declared.add(key);
    // reported against the environment from before the instruction
    if (unmatched) this.reportUnmatched(st, unmatched, cmd.range);
    const args: { key: string; value?: string }[] = new Array(pairs.length);
    let history = '';
    for (let i = 0; i < pairs.length; i++) {
      const key = keys[i]!;
      const value = values[i];
      const expandedDefault = defaults[i];
      if (value !== undefined && !NON_ENV_ARGS.has(key)) st.env.set(key, value);
      st.runArgs.add(key, value);
      args[i] = value === undefined ? { key } : { key, value };
      if (i > 0) history += ' ';
      history += expandedDefault === undefined ? key : `${key}=${expandedDefault}`;
    }
    st.steps.push(
      headed(base, {
        op: 'arg',
        range: base.range,
        name: base.name,
        args,
        history: { createdBy: flat('ARG ', history), emptyLayer: true },
      }),
    );
  }

  private dispatchRun(st: StageState, inst: RunInstruction, cmd: Command, base: StepHead): RunStep {
    let ssh = 0;
    const mounts: StepMount[] =
      inst.mounts.length === 0
        ? NONE
        : inst.mounts.map((m, i) => {
            const index = m.type === 'ssh' ? ssh++ : 0;
            const mount = m.spec.includes('$') ? this.expandMount(st, m, cmd.range, index) : m;
            return this.resolveMount(st, mount, cmd.mountFrom?.[i], index);
          });
    let files: InlineFile[] = NONE;
    let args: string[];
    let shell: string[] | undefined;
    if (inst.command.form === 'exec') {
      args = [...inst.command.args];
    } else {
      let line = inst.command.command;
      const heredoc = inst.heredocs.length === 1 ? inst.heredocs[0] : undefined;
      if (heredoc !== undefined && /^<<(-?)(["']?)([^\s"'<>|&;]+)\2$/.test(line.trim())) {
        const data = heredoc.content;
        if (data.startsWith('#!')) {
          const path = posix.join('/dev/pipes', heredoc.name);
          files = [{ path, content: data, mode: 0o755 }];
          line = path;
        } else {
          line = data;
        }
      } else if (inst.heredocs.length > 0) {
        line += inst.heredocs.map((h) => `\n${h.content}${h.name}`).join('');
      }
      shell = st.config.Shell?.length ? st.config.Shell : DEFAULT_SHELL;
      args = [...shell, line];
    }
    const history = { createdBy: st.runArgs.historyText(args), emptyLayer: false };
    // `shell` only for the shell form, in its place among the fields (the graph's JSON keeps this order)
    return headed(base, {
      op: 'run',
      range: base.range,
      name: base.name,
      form: inst.command.form,
      args,
      // Only the shell form has a SHELL (the key stays at this place in the graph's JSON).
      ...(shell === undefined ? {} : { shell: [...shell] }),
      env: st.env.toList(),
      proxyEnv: this.proxyEnv,
      argNames: st.runArgs.names(),
      user: st.config.User ?? '',
      workdir: st.workdir,
      mounts,
      network: inst.network ?? 'default',
      security: inst.security ?? 'sandbox',
      heredocs: inst.heredocs,
      files,
      history,
    });
  }

  /** A mount whose options hold `$`: each value expanded (as BuildKit does), then the list parsed again. */
  private expandMount(st: StageState, m: RunMount, range: SourceRange, sshIndex: number): RunMount {
    const fields = splitCsvFields(m.spec).map((field) => {
      const eq = field.indexOf('=');
      const out = eq < 0 ? field : `${field.slice(0, eq)}=${this.expand(st, field.slice(eq + 1), range)}`;
      return /[",]/.test(out) ? `"${out.replace(/"/g, '""')}"` : out;
    });
    return parseRunMount(fields.join(','), m.range, sshIndex);
  }

  private resolveMount(st: StageState, m: RunMount, from: FileSource | undefined, sshIndex: number): StepMount {
    // values were expanded already (expandMount); a mount without `$` needs none
    const ex = (v: string | undefined): string | undefined => v;
    const targetOf = (t: string | undefined): string => {
      const raw = ex(t) ?? '';
      const target = resolvePath(st.workdir, raw);
      if (target === '/' || raw === '') {
        throw new BuildGraphError('TSB_DOCKERFILE_MOUNT', `invalid mount target "${target}"`, {
          file: this.file,
          ranges: [m.range],
        });
      }
      return target.length > 1 && target.endsWith('/') ? target.slice(0, -1) : target;
    };
    switch (m.type) {
      case 'bind': {
        const out: StepMount = {
          type: 'bind',
          target: targetOf(m.target),
          source: rootPath(ex(m.source)),
          readwrite: !m.readonly,
        };
        if (from) out.from = from;
        return out;
      }
      case 'cache': {
        const out: StepMount = {
          type: 'cache',
          target: targetOf(m.target),
          id: ex(m.id) || (ex(m.target) ?? ''),
          sharing: m.sharing ?? 'shared',
          source: rootPath(ex(m.source)),
          mode: m.mode ?? 0o755,
          uid: m.uid ?? 0,
          gid: m.gid ?? 0,
          readonly: m.readonly,
        };
        if (from) out.from = from;
        return out;
      }
      case 'tmpfs': {
        const out: StepMount = { type: 'tmpfs', target: targetOf(m.target) };
        if (m.size !== undefined) out.size = m.size;
        return out;
      }
      case 'secret': {
        const target = ex(m.target);
        const envName = ex(m.env);
        const id = ex(m.id) || (target ? posix.basename(target) : '');
        if (id === '') {
          throw new BuildGraphError('TSB_DOCKERFILE_MOUNT', 'secret mount needs an id or a target', {
            file: this.file,
            ranges: [m.range],
          });
        }
        const out: StepMount = {
          type: 'secret',
          id,
          required: m.required,
          mode: m.mode ?? 0o400,
          uid: m.uid ?? 0,
          gid: m.gid ?? 0,
        };
        if (target !== undefined && target !== '')
          out.target = posix.isAbsolute(target) ? target : posix.join('/', st.workdir, target);
        else if (envName === undefined) out.target = `/run/secrets/${id}`;
        if (envName !== undefined) out.env = envName;
        return out;
      }
      case 'ssh': {
        const target = ex(m.target);
        return {
          type: 'ssh',
          id: ex(m.id) || 'default',
          target: target || `/run/buildkit/ssh_agent.${sshIndex}`,
          required: m.required,
          mode: m.mode ?? 0o600,
          uid: m.uid ?? 0,
          gid: m.gid ?? 0,
        };
      }
    }
  }

  private dispatchCopy(st: StageState, inst: CopyInstruction | AddInstruction, cmd: Command, base: StepHead): CopyStep {
    const isAdd = inst.kind === 'add';
    const fail = (code: string, message: string): never => {
      throw new BuildGraphError(code, message, { file: this.file, ranges: [cmd.range] });
    };
    // sized as they come (the list stays in the graph): one per source word, less heredoc markers, plus heredocs
    let sources: CopySource[];
    if (inst.heredocs.length === 0) {
      sources = inst.sources.map((w) => this.copySource(st, w.value, cmd, isAdd));
    } else {
      sources = [];
      for (const w of inst.sources) {
        if (!isHeredocMarker(w.value, inst.heredocs)) sources.push(this.copySource(st, w.value, cmd, isAdd));
      }
    }
    for (let i = 0; i < inst.heredocs.length; i++) {
      const h = inst.heredocs[i]!;
      const content = h.expand ? this.expandRaw(st, h.content, cmd.range) : h.content;
      sources.push({ type: 'heredoc', name: h.name, content });
    }
    const dest = this.expand(st, inst.dest.value, cmd.range);
    const copy: CopyStep = headed(base, {
      op: inst.kind,
      range: base.range,
      name: base.name,
      sources,
      dest,
      destPath: resolveDest(st.workdir, dest),
      link: inst.link,
      parents: inst.parents,
      exclude: inst.exclude.length === 0 ? NONE : inst.exclude.map((e) => this.expand(st, e, cmd.range)),
      unpack: isAdd ? (inst.unpack ?? true) : false,
      user: st.config.User ?? '',
      workdir: cleanDir(st.workdir),
    });
    if (cmd.copyFrom) {
      const src = cmd.copyFrom;
      if (src.type === 'stage' && src.stage >= st.info.index) {
        const current = st.info.name ?? `stage-${st.info.index}`;
        fail(
          'TSB_DOCKERFILE_STAGE_ORDER',
          `cannot copy from stage "${inst.from}", it needs to be defined before current stage "${current}"`,
        );
      }
      copy.from = src;
    }
    if (inst.chown !== undefined) copy.chown = this.expand(st, inst.chown, cmd.range);
    if (inst.chmod !== undefined) {
      const raw = this.expand(st, inst.chmod, cmd.range);
      copy.chmod = parseChmod(raw, fail);
    }
    if (isAdd) {
      const add = inst as AddInstruction;
      copy.keepGitDir = add.keepGitDir;
      if (add.checksum !== undefined) {
        const checksum = this.expand(st, add.checksum, cmd.range);
        if (sources.length !== 1) fail('TSB_DOCKERFILE_COPY', "checksum can't be specified for multiple sources");
        if (sources[0]?.type === 'path' || sources[0]?.type === 'heredoc') {
          fail('TSB_DOCKERFILE_COPY', 'checksum requires HTTP(S) or Git sources');
        }
        copy.checksum = checksum;
      }
    }
    if (sources.length === 0) fail('TSB_DOCKERFILE_COPY', `${inst.kind.toUpperCase()} requires at least two arguments`);
    // `COPY [--parents] [--chown=U] [--chmod=M] src… <<heredoc… dest # buildkit` (current BuildKit's message;
    // docker 20.10's left the flags out), joined once (sized up front: no pushes)
    const flagCount = (inst.parents ? 1 : 0) + (copy.chown ? 1 : 0) + (copy.chmod ? 1 : 0);
    const parts: string[] = new Array(sources.length + flagCount + 3);
    let n = 0;
    parts[n++] = isAdd ? 'ADD' : 'COPY';
    if (inst.parents) parts[n++] = '--parents';
    if (copy.chown) parts[n++] = `--chown=${copy.chown}`;
    if (copy.chmod) parts[n++] = `--chmod=${copy.chmod.raw}`;
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i]!;
      if (s.type !== 'heredoc') parts[n++] = s.type === 'path' ? s.path : s.url;
    }
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i]!;
      if (s.type === 'heredoc') parts[n++] = `<<${s.name}`;
    }
    parts[n++] = dest;
    parts[n++] = '# buildkit';
    copy.history = { createdBy: parts.join(' '), emptyLayer: false };
    return copy;
  }

  /** One COPY or ADD source word, expanded: a path, or for ADD a URL or a Git repository. */
  private copySource(st: StageState, word: string, cmd: Command, isAdd: boolean): CopySource {
    const src = this.expand(st, word, cmd.range);
    if (src.startsWith('http://') || src.startsWith('https://') || src.startsWith('git@')) {
      if (!isAdd) {
        throw new BuildGraphError('TSB_DOCKERFILE_COPY', `source can't be a URL for COPY`, {
          file: this.file,
          ranges: [cmd.range],
        });
      }
      return isGitSource(src) ? { type: 'git', url: src } : { type: 'url', url: src };
    }
    return { type: 'path', path: src };
  }

  // ---- expansion helpers ------------------------------------------------------------------------------------

  private expandWith(word: string, env: EnvList, range: SourceRange) {
    try {
      return expandWord(word, env.lookup, this.expandOptions);
    } catch (err) {
      throw withLocation(err, range, this.file);
    }
  }

  /** Expands one word in the stage's environment and reports its unset variables. */
  private expand(st: StageState, word: string, range: SourceRange): string {
    if (isPlainWord(word, this.escape)) return word;
    const r = this.expandWith(word, st.env, range);
    this.reportUnmatched(st, r.unmatched, range);
    return r.value;
  }

  private expandWordsAt(st: StageState, word: string, range: SourceRange) {
    try {
      return expandWords(word, st.env.lookup, this.expandOptions);
    } catch (err) {
      throw withLocation(err, range, this.file);
    }
  }

  /** Heredoc bodies: variables expanded, quotes kept (BuildKit's SkipProcessQuotes). */
  private expandRaw(st: StageState, text: string, range: SourceRange): string {
    const protectedText = text.replace(/["']/g, (q) => `\\${q}`);
    const r = this.expandWith(protectedText, st.env, range);
    this.reportUnmatched(st, r.unmatched, range);
    return r.value;
  }

  private expandPairs(st: StageState, inst: EnvInstruction | LabelInstruction, range: SourceRange): [string, string][] {
    // `map`, not `push`: the list stays in the graph, and pushes leave it room for 16 more
    return inst.pairs.map((p): [string, string] => [
      this.expand(st, p.key, range),
      this.expand(st, p.value ?? '', range),
    ]);
  }

  private reportUnmatched(
    st: StageState,
    unmatched: ReadonlySet<string>,
    range: SourceRange,
    env: EnvList = st.env,
  ): void {
    const report = this.options.observer?.unmatched;
    if (!report || unmatched.size === 0 || !st.info.baseKnown) return;
    const names = [...unmatched].filter((n) => !st.declared.has(n) && !NON_ENV_ARGS.has(n));
    if (names.length > 0) {
      report({ range, stage: st.info.index, names, declaredArgs: [...st.declared], envKeys: env.names() });
    }
  }

  private commandArgs(st: StageState, command: CommandLine, instruction: 'CMD' | 'ENTRYPOINT', range: SourceRange) {
    if (command.form === 'exec') return [...command.args];
    this.options.observer?.shellForm?.({ range, instruction, shellSet: (st.config.Shell?.length ?? 0) > 0 });
    return [...(st.config.Shell?.length ? st.config.Shell : DEFAULT_SHELL), command.command];
  }

  private toStage(st: StageState): Stage {
    const s = st.info;
    // maps as Docker writes them: keys sorted
    for (const key of ['ExposedPorts', 'Volumes', 'Labels'] as const) {
      const m = st.config[key] as Record<string, unknown> | undefined;
      if (m && !keysSorted(m))
        st.config[key] = Object.fromEntries(
          Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        ) as never;
    }
    const stage: Stage = {
      index: s.index,
      ...(s.name === undefined ? {} : { name: s.name }),
      base: s.base,
      platform: s.platform,
      range: s.from.range,
      steps: st.steps,
      dependencies: [...s.deps.keys()].sort((a, b) => a - b),
      config: st.config,
    };
    if (st.author !== undefined) stage.author = st.author;
    return stage;
  }
}

/** The fields every step has after `op`: its range, its progress name and, for ONBUILD triggers, `onbuild`. */
type StepHead = { range: SourceRange; name: string; onbuild?: boolean };

/** The history entry of a step that makes no layer. */
function emptyHistory(createdBy: string): HistoryEntry {
  return { createdBy, emptyLayer: true };
}

/**
 * A step built as one object literal (`op`, `range`, `name`, then its fields: the order the graph's JSON
 * shows), with `onbuild` put in after `name` for ONBUILD triggers. A literal with every field is one
 * allocation of the right size; building it up field by field is many times slower in V8.
 */
function headed<S extends Step>(head: StepHead, step: S): S {
  if (!head.onbuild) return step;
  const out: Record<string, unknown> = { op: step.op, range: step.range, name: step.name, onbuild: true };
  for (const [k, v] of Object.entries(step)) if (!(k in out)) out[k] = v;
  return out as S;
}

/** True when `word` has nothing to expand or unquote: no `$`, no quote and no escape character. */
function isPlainWord(word: string, escapeChar: string): boolean {
  const esc = escapeChar.charCodeAt(0);
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c === 36 || c === 39 || c === 34 || c === esc) return false;
  }
  return true;
}

/** A word that expands to itself as one word: printable ASCII, no white space, nothing to expand. */
function isPlainField(word: string, escapeChar: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
  }
  return word.length > 0 && isPlainWord(word, escapeChar);
}

/**
 * `port/tcp` for a plain `port` or `port/tcp` (1 to 65535, no leading zero), as `parsePortSpec` makes it;
 * undefined for anything else (which `parsePortSpec` reads).
 */
function simplePort(spec: string): string | undefined {
  const slash = spec.indexOf('/');
  const n = slash < 0 ? spec.length : slash;
  if (slash >= 0 && !(spec.length === n + 4 && spec.endsWith('/tcp'))) return undefined;
  if (n === 0 || n > 5 || spec.charCodeAt(0) === 48) return undefined;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = spec.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    value = value * 10 + (c - 48);
  }
  if (value > 65535) return undefined;
  return slash < 0 ? `${spec}/tcp` : spec;
}

/** True when the object's keys are in `sort()` order already. */
function keysSorted(m: Record<string, unknown>): boolean {
  let prev: string | undefined;
  for (const k in m) {
    if (prev !== undefined && prev > k) return false;
    prev = k;
  }
  return true;
}

/** `into` with `names` added; a new set only when there are names to add. */
function withNames(into: Set<string> | undefined, names: ReadonlySet<string>): Set<string> | undefined {
  if (names.size === 0) return into;
  const out = into ?? new Set<string>();
  for (const n of names) out.add(n);
  return out;
}

/** `p:{} p:{}` of EXPOSE history: the ports sorted (Go prints a map's keys sorted). */
function portsText(ports: string[]): string {
  if (ports.length > 16)
    return [...ports]
      .sort()
      .map((p) => `${p}:{}`)
      .join(' ');
  const sorted = [...ports];
  // insertion sort (the order of `sort()`) for a few ports: no temporary arrays
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i]!;
    let j = i - 1;
    for (; j >= 0 && sorted[j]! > p; j--) sorted[j + 1] = sorted[j]!;
    sorted[j + 1] = p;
  }
  let out = '';
  for (let i = 0; i < sorted.length; i++) out += i === 0 ? `${sorted[i]}:{}` : ` ${sorted[i]}:{}`;
  return out;
}

/** `ENV k=v k=v` of expanded pairs (ENV and LABEL history), as one flat string. */
function pairsText(keyword: string, pairs: [string, string][]): string {
  const parts = [keyword];
  for (const [k, v] of pairs) parts.push(' ', k, '=', v);
  return parts.join('');
}

/**
 * The pieces joined into one flat string. History texts stay in the graph: `a + b` would keep a tree of
 * string pieces (an object per piece) where `join` makes one string.
 */
function flat(...parts: string[]): string {
  return parts.join('');
}

/** Splits a mount option list on commas outside double quotes, removing the quotes (CSV). */
function splitCsvFields(spec: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === '"') {
      if (quoted && spec[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function addDep(s: StageInfo, stage: number, range: SourceRange): void {
  if (!s.deps.has(stage)) s.deps.set(stage, range);
}

function isPredefinedArg(k: string): boolean {
  return (
    PROXY_ARGS.includes(k.toLowerCase()) ||
    PLATFORM_ARG_NAMES.has(k) ||
    k.startsWith('BUILDKIT_') ||
    k === 'SOURCE_DATE_EPOCH'
  );
}

/** Proxy build args as BuildKit's llb.WithProxy sets them: both the upper- and the lower-case name. */
function proxyEnvFrom(buildArgs: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of PROXY_ARGS) {
    const key = Object.keys(buildArgs)
      .sort()
      .filter((k) => k.toLowerCase() === name)
      .pop();
    if (key === undefined) continue;
    const v = buildArgs[key]!;
    out.push(`${name.toUpperCase()}=${v}`, `${name}=${v}`);
  }
  return out;
}

/** A deep copy of a config, which is plain JSON data (a plain copy is much cheaper than `structuredClone`). */
function cloneConfig(c: ImageConfig): ImageConfig {
  return copyJson(c) as ImageConfig;
}

function copyJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyJson);
  if (value === null || typeof value !== 'object') return value;
  // fromEntries defines own properties, so a `__proto__` key stays a key
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyJson(v)]));
}

/** Sets `k` in a `KEY=value` list in place: the stage's config is its own copy (cloneConfig), and no step keeps it. */
function setEnvEntry(env: string[], k: string, v: string): void {
  for (let i = 0; i < env.length; i++) {
    const e = env[i]!;
    if (envEntryKeyLength(e) === k.length && e.startsWith(k)) {
      env[i] = `${k}=${v}`;
      return;
    }
  }
  env.push(`${k}=${v}`);
}

/** The length of the key of a `KEY=value` entry (the whole entry when it has no `=`). */
function envEntryKeyLength(entry: string): number {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry.length : eq;
}

function displayName(inst: Instruction): string {
  const text = inst.original;
  const k = inst.keyword;
  if (text.startsWith(k)) {
    // the usual case, an upper-case keyword and no trailing white space: the text itself
    const last = text.charCodeAt(text.length - 1);
    if (last > 32 && last < 127 && UPPER_KEYWORDS.has(k)) return text;
    return k.toUpperCase() + text.slice(k.length).trimEnd();
  }
  const t = text.trim();
  const sp = t.search(/\s/);
  return sp < 0 ? t.toUpperCase() : t.slice(0, sp).toUpperCase() + t.slice(sp);
}

function goList(args: string[]): string {
  return `[${args.map(goQuote).join(' ')}]`;
}

function healthConfig(inst: HealthcheckInstruction): HealthConfig {
  const test: string[] =
    inst.test.type === 'none'
      ? ['NONE']
      : inst.test.command.form === 'exec'
        ? ['CMD', ...inst.test.command.args]
        : ['CMD-SHELL', inst.test.command.command];
  const hc: HealthConfig = { Test: test };
  if (inst.interval) hc.Interval = inst.interval;
  if (inst.timeout) hc.Timeout = inst.timeout;
  if (inst.startPeriod) hc.StartPeriod = inst.startPeriod;
  if (inst.startInterval) hc.StartInterval = inst.startInterval;
  if (inst.retries) hc.Retries = inst.retries;
  return hc;
}

/**
 * `HEALTHCHECK &{["CMD-SHELL" "x"] "30s" "5s" "0s" "0s" '\x02'}`: Go's `%q` of the config as current BuildKit
 * prints it, StartInterval included (docker 20.10's BuildKit had no such field).
 */
function healthHistory(hc: HealthConfig): string {
  const parts = [goList(hc.Test), goQuote(goDuration(hc.Interval ?? 0)), goQuote(goDuration(hc.Timeout ?? 0))];
  parts.push(goQuote(goDuration(hc.StartPeriod ?? 0)));
  parts.push(goQuote(goDuration(hc.StartInterval ?? 0)));
  parts.push(goQuoteRune(hc.Retries ?? 0));
  return `HEALTHCHECK &{${parts.join(' ')}}`;
}

/** True when `word` is `<<NAME` (or `<<-NAME`, `<<"NAME"`) for one of the instruction's heredocs. */
function isHeredocMarker(word: string, heredocs: readonly Heredoc[]): boolean {
  if (!word.startsWith('<<')) return false;
  const m = /^<<-?(["']?)(.+)\1$/.exec(word);
  return m !== null && heredocs.some((h) => h.name === m[2]);
}

function isGitSource(src: string): boolean {
  if (src.startsWith('git@')) return true;
  try {
    const u = new URL(src);
    return u.pathname.endsWith('.git') || u.hash.length > 1;
  } catch {
    return false;
  }
}

/** COPY/ADD destination against WORKDIR (BuildKit's pathRelativeToWorkingDir): absolute, trailing `/` kept. */
export function resolveDest(workdir: string, dest: string): string {
  let p = dest;
  if (p === '' || p === '.') p = './';
  const keepSlash = p.endsWith('/') || p.endsWith('/.');
  // a trailing `/` is put back below: resolving without it takes the quick path for clean paths
  let out = resolvePath(workdir, p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return keepSlash && out !== '/' ? `${out}/` : out;
}

/**
 * `p` against the directory `dir`: normalized when absolute, else joined to `dir` (`posix.join('/', dir, p)`).
 * Clean paths (no empty, `.` or `..` segment, no trailing `/`) are joined as they are, without `posix`.
 */
function resolvePath(dir: string, p: string): string {
  if (isCleanPath(p)) {
    if (p.charCodeAt(0) === 47) return p;
    if (dir === '/') return `/${p}`;
    if (dir.charCodeAt(0) === 47 && isCleanPath(dir)) return `${dir}/${p}`;
  }
  return posix.isAbsolute(p) ? posix.normalize(p) : posix.join('/', dir, p);
}

/** An absolute directory path cleaned, without a trailing slash (but `/`). */
function cleanDir(p: string): string {
  const clean = isCleanPath(p) ? p : posix.normalize(p);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
}

/** `posix.join('/', p)`. */
function rootPath(p: string | undefined): string {
  return p === undefined || p === '' ? '/' : resolvePath('/', p);
}

/** True for a path that `posix.normalize` leaves as it is and that has no trailing `/` (or is `/`). */
function isCleanPath(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  if (n === 1) return s.charCodeAt(0) !== 46;
  if (s.charCodeAt(n - 1) === 47) return false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && s.charCodeAt(i) !== 47) continue;
    const len = i - start;
    if (len === 0 && i > 0) return false;
    if (len === 1 && s.charCodeAt(start) === 46) return false;
    if (len === 2 && s.charCodeAt(start) === 46 && s.charCodeAt(start + 1) === 46) return false;
    start = i + 1;
  }
  return true;
}

const SYMBOLIC_MODE = /^(?:[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+)(?:,[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+)*$/;

function parseChmod(raw: string, fail: (code: string, message: string) => never): { raw: string; mode?: number } {
  if (/^[0-9]+$/.test(raw)) {
    if (!/^[0-7]+$/.test(raw) || Number.parseInt(raw, 8) > 0o7777) {
      fail(
        'TSB_DOCKERFILE_CHMOD',
        `invalid chmod parameter: '${raw}'. it should be octal string and between 0 and 07777`,
      );
    }
    return { raw, mode: Number.parseInt(raw, 8) };
  }
  if (!SYMBOLIC_MODE.test(raw)) {
    fail(
      'TSB_DOCKERFILE_CHMOD',
      `invalid chmod parameter: '${raw}'. it should be octal string and between 0 and 07777`,
    );
  }
  return { raw };
}
