import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContextError, loadDockerfile } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-load-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<ContextError> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ContextError);
  return err as ContextError;
}

describe('loadDockerfile', () => {
  it('reads <context>/Dockerfile by default', async () => {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const r = await loadDockerfile({ context: dir });
    expect(r).toEqual({
      text: 'FROM scratch\n',
      filename: join(dir, 'Dockerfile'),
      path: join(dir, 'Dockerfile'),
      context: dir,
    });
  });

  it('falls back to a lower-case dockerfile, as the docker CLI does', async () => {
    writeFileSync(join(dir, 'dockerfile'), 'FROM lower\n');
    expect((await loadDockerfile({ context: dir })).text).toBe('FROM lower\n');
  });

  it('-f is relative to the working directory and may be outside the context', async () => {
    mkdirSync(join(dir, 'ctx'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'app.Dockerfile'), 'FROM app\n');
    const r = await loadDockerfile({ context: 'ctx', file: 'files/app.Dockerfile', cwd: dir });
    expect(r).toMatchObject({
      text: 'FROM app\n',
      path: join(dir, 'files', 'app.Dockerfile'),
      context: join(dir, 'ctx'),
    });
  });

  it('-f - reads stdin', async () => {
    const r = await loadDockerfile({
      context: dir,
      file: '-',
      stdin: Readable.from([Buffer.from('FROM '), 'stdin\n']),
    });
    expect(r).toEqual({ text: 'FROM stdin\n', filename: '-', path: undefined, context: dir });
  });

  it('a missing context directory is TSB_CONTEXT_NOT_FOUND naming the path', async () => {
    const err = await failure(loadDockerfile({ context: join(dir, 'nope') }));
    expect(err.code).toBe('TSB_CONTEXT_NOT_FOUND');
    expect(err.message).toBe(`unable to prepare context: path "${join(dir, 'nope')}" not found`);
  });

  it('a context that is a file is TSB_CONTEXT_NOT_DIRECTORY', async () => {
    writeFileSync(join(dir, 'f'), '');
    const err = await failure(loadDockerfile({ context: join(dir, 'f') }));
    expect(err.code).toBe('TSB_CONTEXT_NOT_DIRECTORY');
    expect(err.message).toBe(`unable to prepare context: context must be a directory: ${join(dir, 'f')}`);
  });

  it('a missing Dockerfile is TSB_DOCKERFILE_NOT_FOUND naming the path', async () => {
    const err = await failure(loadDockerfile({ context: dir }));
    expect(err.code).toBe('TSB_DOCKERFILE_NOT_FOUND');
    expect(err.message).toBe(`failed to read dockerfile: open ${join(dir, 'Dockerfile')}: no such file or directory`);
    const other = await failure(loadDockerfile({ context: dir, file: 'x.Dockerfile', cwd: dir }));
    expect(other.message).toBe(
      `failed to read dockerfile: open ${join(dir, 'x.Dockerfile')}: no such file or directory`,
    );
    expect(other.file).toBe(join(dir, 'x.Dockerfile'));
  });

  it('a Dockerfile that is a directory is TSB_DOCKERFILE_NOT_FOUND', async () => {
    mkdirSync(join(dir, 'Dockerfile'));
    const err = await failure(loadDockerfile({ context: dir }));
    expect(err.code).toBe('TSB_DOCKERFILE_NOT_FOUND');
    expect(err.message).toBe(`failed to read dockerfile: read ${join(dir, 'Dockerfile')}: is a directory`);
  });
});
