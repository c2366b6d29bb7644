import type { SourceRange } from '../../errors.js';

export interface CodeFrameOptions {
  /** Lines of context shown before and after the marked lines. */
  context?: number;
  /** Use ANSI colours. */
  color?: boolean;
}

/**
 * Draws the lines of `source` that `ranges` cover, BuildKit style:
 * `>>>` marks the lines at fault, with a few lines of context around them.
 */
export function codeFrame(source: string, ranges: SourceRange[], options: CodeFrameOptions = {}): string {
  if (ranges.length === 0) return '';
  const context = options.context ?? 2;
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  // A final newline ends the last line; it does not start another one.
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  const marked = new Set<number>();
  for (const r of ranges) {
    for (let l = r.start.line; l <= r.end.line; l++) marked.add(l);
  }
  const first = Math.max(1, Math.min(...marked) - context);
  const last = Math.min(lines.length, Math.max(...marked) + context);
  const width = Math.max(3, String(last).length);
  const out: string[] = [];
  for (let l = first; l <= last; l++) {
    const text = lines[l - 1] ?? '';
    const mark = marked.has(l);
    const row = ` ${String(l).padStart(width)} | ${mark ? '>>>' : '   '} ${text}`;
    out.push(mark && options.color ? `\u001b[31m${row}\u001b[39m` : row);
  }
  return out.join('\n');
}
