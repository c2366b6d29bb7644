import type { SourceRange } from '../../errors.js';
import type { Dockerfile } from '../ast.js';

/**
 * Finds instructions continued over an empty line (BuildKit's NoEmptyContinuation): returns, for each, the
 * range of the line where the instruction ends, as BuildKit reports it. Heredoc bodies are skipped using the
 * AST's instruction ranges.
 */
export function findEmptyContinuations(text: string, ast: Dockerfile): SourceRange[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const esc = ast.escape;
  const heredocEnd = new Map<number, number>();
  for (const inst of ast.instructions) {
    const h = 'heredocs' in inst ? inst.heredocs : [];
    if (h.length > 0) heredocEnd.set(inst.range.start.line, inst.range.end.line);
  }
  const out: SourceRange[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i++;
      continue;
    }
    const start = i + 1;
    let hasEmpty = false;
    let current = line;
    while (endsWithEscape(current, esc) && i + 1 < lines.length) {
      i++;
      current = lines[i]!;
      const t = current.trim();
      if (t.startsWith('#')) {
        current = esc;
        continue;
      }
      if (t === '') {
        hasEmpty = true;
        current = esc;
      }
    }
    const endLine = i + 1;
    if (hasEmpty) {
      const len = Math.max(1, lines[i]!.length);
      out.push({ start: { line: endLine, column: 1 }, end: { line: endLine, column: len } });
    }
    const body = heredocEnd.get(start);
    i = body !== undefined && body > endLine ? body : i + 1;
  }
  return out;
}

function endsWithEscape(line: string, esc: string): boolean {
  const t = line.replace(/[ \t]+$/, '');
  if (!t.endsWith(esc)) return false;
  // an escaped esc character is not a continuation
  let n = 0;
  for (let j = t.length - 1; j >= 0 && t[j] === esc; j--) n++;
  return n % 2 === 1;
}
