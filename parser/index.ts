export * from './ast.js';
export {
  type BaseImageConfig,
  type BaseImageRef,
  type BuildGraph,
  type BuildGraphOptions,
  baseImageRefs,
  type CopySource,
  type CopyStep,
  type FileSource,
  formatBuildGraph,
  type ImageConfig as GraphImageConfig,
  type Platform as GraphPlatform,
  type RunStep,
  type Stage,
  type StageBase,
  type Step,
  type StepMount,
  toBuildGraph,
  type WorkdirStep,
} from './dag/index.js';
export * from './errors.js';
export { parseRunMount } from './instructions/index.js';
export { type LintOptions, type LintResult, lintDockerfile } from './lint/index.js';
export {
  type DockerfileErrorWithDiagnostics,
  dockerfileErrorOf,
  type ParseDockerfileOptions,
  parseDockerfile,
  parseDockerfileOrThrow,
} from './parse-dockerfile.js';
export * from './shell/index.js';
