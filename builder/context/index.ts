/**
 * The build context as COPY and ADD see it, with Docker's and BuildKit's rules:
 *
 * - `loadDockerfile` checks the context directory and reads the Dockerfile (`-f` outside the context, `-f -`);
 * - `loadDockerignore` / `parseDockerignore`: `<Dockerfile>.dockerignore` or `.dockerignore`, with
 *   moby/patternmatcher semantics (`PatternMatcher`);
 * - `BuildContext.select` resolves COPY/ADD sources lazily (Go `filepath.Match` wildcards, symlinks followed
 *   inside the context, ignored files invisible, `--exclude`, `--parents`) and reads no content;
 * - `resolveDestination` / `planCopy`: where each selected source lands;
 * - `hashSources`: the content digest for cache keys, with a stat cache (`openStatCache`) so that an
 *   unchanged context is not read again.
 */
export {
  BuildContext,
  type BuildContextOptions,
  type SelectedSource,
  type SelectOptions,
  SourceNotFoundError,
  selectSources,
} from './build-context.js';
export { cleanPath, contextRelative } from './clean-path.js';
export type { ContextEntry, EntryType } from './context-entry.js';
export { type ContextFs, nodeContextFs } from './context-fs.js';
export {
  type Destination,
  DestinationError,
  type ExistingType,
  type PlacedSource,
  type Placement,
  type PlanOptions,
  planCopy,
  resolveDestination,
  sourceName,
} from './destination.js';
export {
  type Dockerignore,
  type IgnoreLine,
  loadDockerignore,
  parseDockerignore,
  readIgnoreLines,
} from './dockerignore.js';
export { ContextError, DockerignoreError, GlobPatternError } from './errors.js';
export { compileGlob, GoGlob, hasWildcards, matchGlob } from './go-glob.js';
export { digestFile, type HashOptions, type HashResult, hashContextSources, hashSources } from './hash-context.js';
export { type LoadDockerfileOptions, type LoadedDockerfile, loadDockerfile } from './load-dockerfile.js';
export { type MatchInfo, PathPattern, PatternMatcher } from './pattern-matcher.js';
export {
  contextSchema,
  MemoryStatCache,
  openStatCache,
  SqliteStatCache,
  type StatCache,
  type StatKey,
  type StatRecord,
} from './stat-cache.js';
