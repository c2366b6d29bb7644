/**
 * The image store: content-addressed blobs, image metadata and names, leases,
 * the OCI model, archives (docker-archive, OCI layout, rootfs import/export),
 * unpacking into snapshots, and garbage collection.
 */
export * from './archive/index.js';
export { openImageStoreQuick } from './core.js';
export { assertDigest, chainIds, type Digest, digestHex, isDigest, sha256, shortId } from './digest.js';
export { ArchiveError, type ArchiveErrorCode, ImageError, type ImageErrorCode } from './errors.js';
export { collectGarbage, type GcOptions, type GcResult } from './gc.js';
export { createdSince, formatTable, goTimeString, humanDuration, humanSize } from './human.js';
export * from './oci.js';
export {
  formatPlatform,
  hostPlatform,
  isAttestation,
  normalizePlatform,
  parsePlatform,
  platformScore,
  selectManifest,
} from './platform.js';
export {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  familiarRepository,
  familiarString,
  formatReference,
  isReference,
  normalizeReference,
  parseReference,
  type Reference,
  repositoryName,
  withDefaultTag,
} from './reference.js';
export * from './store/index.js';
export { type UnpackOptions, unpackImage } from './unpack.js';
