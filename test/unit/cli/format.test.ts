import { describe, expect, it } from 'vitest';
import { formatRows, tabwrite } from '../../../cli/render/format.js';

const rows = [
  { Repository: 'busybox', Tag: 'latest', ID: '0f6ecd45cc69' },
  { Repository: 'localhost:5000/a/long-name', Tag: '1', ID: '123456789abc' },
];
const headers = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID' };

describe('--format for list commands', () => {
  it('a bare template prints one line per row and no header', () => {
    expect(formatRows('{{.Repository}}:{{.Tag}}', rows, headers)).toBe(
      'busybox:latest\nlocalhost:5000/a/long-name:1\n',
    );
  });

  it('table TEMPLATE prints a header from the column names and aligns as tabwriter', () => {
    expect(formatRows('table {{.Repository}}\\t{{.ID}}', rows, headers)).toBe(
      [
        'REPOSITORY                   IMAGE ID',
        'busybox                      0f6ecd45cc69',
        'localhost:5000/a/long-name   123456789abc',
        '',
      ].join('\n'),
    );
    expect(formatRows('table {{.Tag | lower}}', rows, headers)).toBe('tag\nlatest\n1\n');
  });

  it('json prints one object per line; table and no format mean the default table', () => {
    expect(formatRows('json', rows.slice(0, 1), headers)).toBe(`${JSON.stringify(rows[0])}\n`);
    expect(formatRows(undefined, rows, headers)).toBeUndefined();
    expect(formatRows('table', rows, headers)).toBeUndefined();
  });

  it('tabwrite pads cells to the widest plus 3, at least 10, and leaves the last cell as it is', () => {
    expect(tabwrite('a\tb\tc\nlonger-cell-x\td\n')).toBe('a               b         c\nlonger-cell-x   d\n');
  });
});
