import { TsbuildError, type TsbuildErrorOptions } from '../../errors.js';

/**
 * Errors of the COPY and ADD file op. Codes:
 * - `TSB_COPY_NOT_DIR`: a directory source meets a non-directory at its target (`cannot copy to non-directory: /x`);
 * - `TSB_COPY_REPLACE_DIR`: a file, symlink or node would replace a directory (`cannot replace to directory /x with file`);
 * - `TSB_COPY_MKDIR`: a parent of the destination is not a directory (`mkdir /x: not a directory`);
 * - `TSB_COPY_LINKS`: a path holds too many levels of symbolic links;
 * - `TSB_COPY_CHOWN`: `--chown` is malformed (a NUL byte; unknown names are no error, as in BuildKit);
 * - `TSB_COPY_CHMOD`: `--chmod` is neither an octal mode up to 07777 nor a symbolic one (`u=rwX,go=rX`);
 * - `TSB_COPY_ARCHIVE`: an archive that ADD unpacks is corrupt, or its decompressor failed;
 * - `TSB_COPY_URL`: an ADD URL could not be fetched; `TSB_COPY_CHECKSUM`: its content does not match `--checksum`;
 * - `TSB_COPY_UNSUPPORTED`: an object that cannot be copied (a socket or device in an unpacked archive as non-root);
 * - `TSB_COPY_ABORTED`: the signal fired;
 * - `TSB_COPY_IO`: a file-system call failed (the message names the call and the path).
 */
export class CopyError extends TsbuildError {
  constructor(code: string, message: string, options: TsbuildErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Wraps a file-system error with the image path it concerns (never the host path of the mounted root). */
export function ioError(op: string, imagePath: string, err: unknown): CopyError {
  if (err instanceof CopyError) return err;
  const e = err as NodeJS.ErrnoException;
  const reason = e.code === 'ENOTDIR' ? 'not a directory' : e.code === 'ENOSPC' ? 'no space left on device' : e.code;
  return new CopyError('TSB_COPY_IO', `${op} ${imagePath}: ${reason ?? e.message}`, { cause: err });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new CopyError('TSB_COPY_ABORTED', 'copy aborted', { cause: signal.reason });
  }
}
