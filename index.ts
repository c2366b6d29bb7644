/**
 * tsbuild's programmatic API. Everything a caller may use is exported here;
 * anything else is internal.
 */
export {
  BuildError,
  type BuildEvent,
  type BuildEventListener,
  type BuildOptions,
  type BuildResult,
  type BuildSecret,
  build,
  type StepRef,
} from './builder/index.js';
export * from './errors.js';
export * from './image/index.js';
export * from './parser/index.js';
export {
  Container,
  type ContainerStats,
  NativeRuntime,
  type RunContainerOptions,
  type RunFlags,
  type RunResult,
  type RunSpec,
  RuntimeError,
  resolveUser,
  runContainer,
} from './runtime-native/index.js';
export * from './snapshotter/index.js';
