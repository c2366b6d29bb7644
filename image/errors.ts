import { TsbuildError, type TsbuildErrorOptions } from '../errors.js';

/**
 * Error codes of the image store. Callers test `err.code`, never the message.
 *
 * - `TSB_IMAGE_INVALID_MANIFEST`, `TSB_IMAGE_INVALID_INDEX`, `TSB_IMAGE_INVALID_CONFIG`,
 *   `TSB_IMAGE_INVALID_DESCRIPTOR`: untrusted JSON that does not match the OCI model (the message names the field)
 * - `TSB_IMAGE_MALFORMED_JSON`: a document that is not JSON at all
 * - `TSB_IMAGE_UNKNOWN_MEDIA_TYPE`: a media type tsbuild does not know (or refuses, as schema 1)
 * - `TSB_IMAGE_INVALID_REFERENCE`, `TSB_IMAGE_INVALID_PLATFORM`: bad user input
 * - `TSB_IMAGE_NOT_FOUND`, `TSB_IMAGE_AMBIGUOUS`, `TSB_IMAGE_IN_USE`, `TSB_IMAGE_NO_MATCHING_PLATFORM`
 * - `TSB_IMAGE_DIGEST_MISMATCH`, `TSB_IMAGE_SIZE_MISMATCH`, `TSB_IMAGE_BLOB_NOT_FOUND`, `TSB_IMAGE_UNSUPPORTED`
 */
export type ImageErrorCode =
  | 'TSB_IMAGE_INVALID_MANIFEST'
  | 'TSB_IMAGE_INVALID_INDEX'
  | 'TSB_IMAGE_INVALID_CONFIG'
  | 'TSB_IMAGE_INVALID_DESCRIPTOR'
  | 'TSB_IMAGE_MALFORMED_JSON'
  | 'TSB_IMAGE_UNKNOWN_MEDIA_TYPE'
  | 'TSB_IMAGE_INVALID_REFERENCE'
  | 'TSB_IMAGE_INVALID_PLATFORM'
  | 'TSB_IMAGE_NOT_FOUND'
  | 'TSB_IMAGE_AMBIGUOUS'
  | 'TSB_IMAGE_IN_USE'
  | 'TSB_IMAGE_NO_MATCHING_PLATFORM'
  | 'TSB_IMAGE_DIGEST_MISMATCH'
  | 'TSB_IMAGE_SIZE_MISMATCH'
  | 'TSB_IMAGE_BLOB_NOT_FOUND'
  | 'TSB_IMAGE_UNSUPPORTED';

export class ImageError extends TsbuildError {
  declare readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string, options?: TsbuildErrorOptions) {
    super(code, message, options);
  }
}

/**
 * Error codes of archives (`load`, `import`):
 * - `TSB_ARCHIVE_CORRUPT`: not a tar, a bad header, or a file the format needs is missing
 * - `TSB_ARCHIVE_TRUNCATED`: the archive or one of its blobs ends early
 * - `TSB_ARCHIVE_UNSUPPORTED`: a tar that is no image archive tsbuild knows
 */
export type ArchiveErrorCode = 'TSB_ARCHIVE_CORRUPT' | 'TSB_ARCHIVE_TRUNCATED' | 'TSB_ARCHIVE_UNSUPPORTED';

export class ArchiveError extends TsbuildError {
  declare readonly code: ArchiveErrorCode;
  constructor(code: ArchiveErrorCode, message: string, options?: TsbuildErrorOptions) {
    super(code, message, options);
  }
}
