import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TsbuildError } from '../../../../errors.js';
import { type BaseImageConfig, toBuildGraph } from '../../../../parser/dag/index.js';
import { parseDockerfile } from '../../../../parser/parse-dockerfile.js';

const CASES = fileURLToPath(new URL('../../../../fixtures/dockerfiles/', import.meta.url));
const cases = existsSync(CASES)
  ? readdirSync(CASES)
      .filter((c) => existsSync(join(CASES, c, 'Dockerfile')))
      .sort()
  : [];

/** A fixed base image config for every image, so the goldens show base env, workdir and ONBUILD handling. */
const baseImage = (ref: string): BaseImageConfig | undefined =>
  ref.startsWith('onbuild-base')
    ? { Env: ['PATH=/usr/bin:/bin'], OnBuild: ['RUN echo from-onbuild-base'] }
    : { Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root', 'UID=1000'], Cmd: ['/bin/sh'] };

describe('graph.json goldens', () => {
  it('has fixture cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('%s', async (name) => {
    const text = readFileSync(join(CASES, name, 'Dockerfile'), 'utf8');
    const { ast, diagnostics } = parseDockerfile(text, { filename: 'Dockerfile' });
    let out: unknown;
    if (diagnostics.some((d) => d.severity === 'error')) {
      out = { parseErrors: diagnostics.filter((d) => d.severity === 'error').map((d) => d.code) };
    } else {
      try {
        out = toBuildGraph(ast, {
          platform: { os: 'linux', architecture: 'amd64' },
          buildPlatform: { os: 'linux', architecture: 'amd64' },
          buildArgs: { BUILD_ARG: 'from-cli' },
          baseImage,
        });
      } catch (err) {
        if (!(err instanceof TsbuildError)) throw err;
        out = { error: { code: err.code, message: err.message, ranges: err.ranges } };
      }
    }
    await expect(`${JSON.stringify(out, null, 2)}\n`).toMatchFileSnapshot(join(CASES, name, 'graph.json'));
  });
});
