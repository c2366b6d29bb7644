import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { ContextError } from './errors.js';

export interface LoadDockerfileOptions {
  /** The context directory (relative paths are resolved against `cwd`). */
  context: string;
  /**
   * The `-f` value: a path relative to `cwd` (as the docker CLI resolves it,
   * so it may lie outside the context), or `-` for stdin. Default:
   * `<context>/Dockerfile`, else `<context>/dockerfile`.
   */
  file?: string;
  cwd?: string;
  /** Where `-f -` reads from; default process.stdin. */
  stdin?: AsyncIterable<Buffer | string>;
}

export interface LoadedDockerfile {
  text: string;
  /** The name for messages: the absolute path, or `-` for stdin. */
  filename: string;
  /** The absolute path on disk; undefined for stdin (no `<Dockerfile>.dockerignore` then). */
  path: string | undefined;
  /** The absolute context directory. */
  context: string;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

async function readAll(input: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Checks the context directory and reads the Dockerfile. A missing context
 * is `TSB_CONTEXT_NOT_FOUND`, a context that is not a directory
 * `TSB_CONTEXT_NOT_DIRECTORY`, a missing or unreadable Dockerfile
 * `TSB_DOCKERFILE_NOT_FOUND`; each message names the path.
 */
export async function loadDockerfile(options: LoadDockerfileOptions): Promise<LoadedDockerfile> {
  const cwd = options.cwd ?? process.cwd();
  const context = resolve(cwd, options.context);
  try {
    const st = await fsp.stat(context);
    if (!st.isDirectory()) {
      throw new ContextError(
        'TSB_CONTEXT_NOT_DIRECTORY',
        `unable to prepare context: context must be a directory: ${context}`,
      );
    }
  } catch (err) {
    if (err instanceof ContextError) throw err;
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ContextError(
        'TSB_CONTEXT_NOT_FOUND',
        `unable to prepare context: path ${JSON.stringify(options.context)} not found`,
        {
          cause: err,
        },
      );
    }
    throw new ContextError('TSB_CONTEXT_NOT_FOUND', `unable to prepare context: ${(err as Error).message}`, {
      cause: err,
    });
  }

  if (options.file === '-') {
    const text = await readAll(options.stdin ?? process.stdin);
    return { text, filename: '-', path: undefined, context };
  }

  let path: string;
  if (options.file === undefined) {
    path = join(context, 'Dockerfile');
    try {
      await fsp.lstat(path);
    } catch {
      const lower = join(context, 'dockerfile');
      try {
        await fsp.lstat(lower);
        path = lower;
      } catch {
        // keep Dockerfile for the message
      }
    }
  } else {
    path = resolve(cwd, options.file);
  }
  try {
    const text = await fsp.readFile(path, 'utf8');
    return { text, filename: path, path, context };
  } catch (err) {
    const code = errnoOf(err);
    const reason =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `open ${path}: no such file or directory`
        : code === 'EISDIR'
          ? `read ${path}: is a directory`
          : `${path}: ${(err as Error).message}`;
    throw new ContextError('TSB_DOCKERFILE_NOT_FOUND', `failed to read dockerfile: ${reason}`, {
      cause: err,
      file: path,
    });
  }
}
