import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tsbuild } from '../../../helpers/cli.js';

// Runs the built CLI (dist/bin/main.cjs): `npm run build` first.
describe('tsbuild lint', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-lint-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints warnings as file:line:col with the rule and its link, and exits 0', () => {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch AS Bad\nMAINTAINER me\n');
    const r = tsbuild(['lint'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        "Dockerfile:1:1: warning: StageNameCasing: Stage name 'Bad' should be lowercase",
        '  https://docs.docker.com/go/dockerfile/rule/stage-name-casing/',
        'Dockerfile:2:1: warning: MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label',
        '  https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/',
        '',
      ].join('\n'),
    );
  });

  it('reads -f - from stdin and prints JSON', () => {
    const r = tsbuild(['lint', '-f', '-', '--json'], { cwd: dir, input: 'FROM scratch\nENV a b\n' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.warnings).toMatchObject([{ rule: 'LegacyKeyValueFormat', range: { start: { line: 2, column: 1 } } }]);
    expect(out.failed).toBe(false);
  });

  it('exits 1 when # check=error=true and a check fails', () => {
    writeFileSync(join(dir, 'Dockerfile'), '# check=error=true\nFROM scratch as base\n');
    const r = tsbuild(['lint'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Dockerfile:2:1: warning: FromAsCasing:');
    expect(r.stderr).toContain('lint violation found for rules: FromAsCasing');
  });

  it('honours # check=skip', () => {
    writeFileSync(join(dir, 'Dockerfile'), '# check=skip=StageNameCasing\nFROM scratch AS Bad\n');
    const r = tsbuild(['lint'], { cwd: dir });
    expect([r.status, r.stdout]).toEqual([0, '']);
  });

  it('exits 1 with a code frame on an error', () => {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox AS a\nCOPY --from=a /x /y\n');
    const r = tsbuild(['lint'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Dockerfile:2:1: error: circular dependency detected on stage: a');
    expect(r.stderr).toContain('>>> COPY --from=a /x /y');
  });

  it('names a missing file', () => {
    const r = tsbuild(['lint', '-f', 'nope/Dockerfile'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot read Dockerfile nope/Dockerfile: no such file');
  });
});
