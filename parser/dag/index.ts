export { formatBuildGraph } from './format-graph.js';
export { isValidImageRef, normalizeImageRef, parseImageRef } from './image-ref.js';
export { formatPlatform, hostPlatform, normalizePlatform, parsePlatform } from './platform.js';
export { parsePortSpec, splitPortParts } from './ports.js';
export { suggest } from './suggest.js';
export { baseImageRefs, resolveDest, toBuildGraph } from './to-build-graph.js';
export type * from './types.js';
