import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DockerfileError,
  type DockerfileErrorWithDiagnostics,
  parseDockerfile,
  parseDockerfileOrThrow,
} from '../../../../parser/index.js';

interface Expected {
  code: string;
  message: string;
  line: number;
  column: number;
  error: 'InstructionError' | 'DockerfileSyntaxError';
}

const root = fileURLToPath(new URL('../../../../fixtures/invalid/', import.meta.url));
const cases = readdirSync(root).sort();

describe('invalid Dockerfiles (fixtures/invalid/<case>/expected.json)', () => {
  it('covers at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const name of cases) {
    it(`${name} is rejected with its code, message and position`, () => {
      const text = readFileSync(join(root, name, 'Dockerfile'), 'utf8');
      const expected = JSON.parse(readFileSync(join(root, name, 'expected.json'), 'utf8')) as Expected;

      const { diagnostics } = parseDockerfile(text, { filename: 'Dockerfile' });
      const first = diagnostics.find((d) => d.severity === 'error');
      expect(first?.code).toBe(expected.code);
      expect(first?.message).toContain(expected.message);
      expect(first?.range.start).toEqual({ line: expected.line, column: expected.column });

      let thrown: unknown;
      try {
        parseDockerfileOrThrow(text, { filename: 'Dockerfile' });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(DockerfileError);
      const err = thrown as DockerfileErrorWithDiagnostics;
      expect(err.name).toBe(expected.error);
      expect(err.code).toBe(expected.code);
      expect(err.file).toBe('Dockerfile');
      expect(err.ranges[0]?.start).toEqual({ line: expected.line, column: expected.column });
      expect(err.diagnostics[0]).toEqual(first);
    });
  }
});
