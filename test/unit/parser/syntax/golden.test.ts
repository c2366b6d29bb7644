import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../../../parser/index.js';

const root = fileURLToPath(new URL('../../../../fixtures/dockerfiles/', import.meta.url));
const cases = readdirSync(root)
  .filter((name) => existsSync(join(root, name, 'Dockerfile')))
  .sort();

describe('golden Dockerfiles (fixtures/dockerfiles/<case>/ast.json)', () => {
  it('covers at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  for (const name of cases) {
    it(`${name} parses without errors to its ast.json`, async () => {
      const text = readFileSync(join(root, name, 'Dockerfile'), 'utf8');
      const { ast, diagnostics } = parseDockerfile(text, { filename: 'Dockerfile' });
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      await expect(`${JSON.stringify(ast, null, 2)}\n`).toMatchFileSnapshot(join(root, name, 'ast.json'));
    });
  }
});
