/**
 * The builder: `build(options, onEvent)` runs a Dockerfile's build graph with
 * content-addressed caching and parallel stages, and stores the image. The
 * build context layer (.dockerignore, source selection, hashing) is in context/.
 */
export { build } from './build.js';
export { BuildCache, builderSchema, cacheKey } from './cache.js';
export * from './context/index.js';
export { BuildError } from './errors.js';
export type {
  BuildEvent,
  BuildEventListener,
  BuildOptions,
  BuildOutput,
  BuildResult,
  BuildSecret,
  StepRef,
} from './types.js';
