import { parseGoTemplate, type TemplateOptions } from './go-template.js';

/**
 * Docker's `--format` for list commands: `json` (one JSON object per row),
 * `table TEMPLATE` (a header row rendered from the column names, columns laid
 * out by Go's tabwriter), or a bare TEMPLATE (one rendered line per row, no
 * header). `\t` and `\n` written as two characters are read as tab and newline.
 * Returns undefined for no format or plain `table`: the command's default table.
 */
export function formatRows(
  format: string | undefined,
  rows: readonly object[],
  headers: Record<string, string>,
  options: TemplateOptions = { missingField: 'error' },
): string | undefined {
  if (format === undefined || format.trim() === '' || format.trim() === 'table') return undefined;
  if (format.trim() === 'json') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  const table = format.startsWith('table');
  const body = unescapeTabs((table ? format.slice('table'.length) : format).trim());
  const template = parseGoTemplate(body, options);
  const lines = rows.map((r) => `${template.render(r)}\n`);
  if (!table) return lines.join('');
  const header = `${parseGoTemplate(body, { missingField: 'zero' }).render(headers)}\n`;
  return tabwrite(header + lines.join(''));
}

function unescapeTabs(s: string): string {
  return s.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
}

/**
 * Go's text/tabwriter as Docker configures it (minimum width 10, padding 3,
 * spaces): a cell is text ended by a tab; the cells of a column are padded to
 * the widest in each run of consecutive lines that have that column; the text
 * after a line's last tab is not aligned.
 */
export function tabwrite(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const width = (s: string) => [...s].length;
  const widths = lines.map((cells) => cells.map(() => 0));
  const columns = Math.max(0, ...lines.map((c) => c.length - 1));
  for (let col = 0; col < columns; col++) {
    let start = 0;
    while (start < lines.length) {
      if ((lines[start]?.length ?? 0) - 1 <= col) {
        start++;
        continue;
      }
      let end = start;
      let w = minWidth;
      while (end < lines.length && (lines[end]?.length ?? 0) - 1 > col) {
        w = Math.max(w, width(lines[end]?.[col] ?? '') + padding);
        end++;
      }
      for (let i = start; i < end; i++) (widths[i] as number[])[col] = w;
      start = end;
    }
  }
  return lines
    .map((cells, i) =>
      cells
        .map((c, col) =>
          col === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i]?.[col] ?? 0) - width(c))),
        )
        .join(''),
    )
    .join('\n');
}
