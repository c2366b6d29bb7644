import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tsbuild } from '../../helpers/cli.js';

// Runs the built CLI (dist/bin/main.cjs): `npm run build` first.
describe('tsbuild parse', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-parse-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one outline line per instruction from ./Dockerfile', () => {
    writeFileSync(
      join(dir, 'Dockerfile'),
      '# syntax=docker/dockerfile:1\nFROM alpine AS base\nRUN <<EOF\necho hi\nEOF\n',
    );
    const r = tsbuild(['parse'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('1:1 # syntax=docker/dockerfile:1\n2:1 FROM alpine AS base\n3:1 RUN <<EOF [heredoc EOF]\n');
  });

  it('--json prints the AST and the diagnostics', () => {
    writeFileSync(join(dir, 'Dockerfile.dev'), 'FROM alpine\nRUN a \\\n\n  b\n');
    const r = tsbuild(['parse', '-f', 'Dockerfile.dev', '--json'], { cwd: dir });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ast.filename).toBe('Dockerfile.dev');
    expect(out.ast.instructions.map((i: { kind: string }) => i.kind)).toEqual(['from', 'run']);
    expect(out.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', rule: 'NoEmptyContinuation' })]);
  });

  it('-f - reads stdin; a faulty Dockerfile prints file:line:col, the message and a code frame, and exits 1', () => {
    const r = tsbuild(['parse', '-f', '-'], { cwd: dir, input: 'FROM alpine\nCOPY --lnk a b\n' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('<stdin>:2:6: error: unknown flag --lnk for COPY on line 2 (did you mean --link?)');
    expect(r.stderr).toContain('>>> COPY --lnk a b');
  });

  it('names the path of a missing Dockerfile', () => {
    const r = tsbuild(['parse', '-f', 'nope/Dockerfile'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot read Dockerfile nope/Dockerfile: no such file');
  });
});
