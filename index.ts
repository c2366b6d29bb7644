/**
 * tsbuild's programmatic API. Everything a caller may use is exported here;
 * anything else is internal.
 */
export * from './errors.js';
export * from './parser/index.js';
export * from './image/index.js';
export * from './snapshotter/index.js';
