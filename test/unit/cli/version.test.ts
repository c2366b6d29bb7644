import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tsbuild } from '../../helpers/cli.js';

// Runs the built CLI (dist/bin/main.cjs): `npm run build` first.
describe('tsbuild --version', () => {
  it("prints the package's version and the bundle's build ID, as docker --version does", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-v']) {
      const r = tsbuild([flag]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`^tsbuild version ${pkg.version.replaceAll('.', '\\.')}, build [0-9a-f]{16}\\n$`),
      );
    }
  });
});
