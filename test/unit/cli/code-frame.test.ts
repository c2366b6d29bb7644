import { describe, expect, it } from 'vitest';
import { codeFrame } from '../../../cli/render/code-frame.js';

const range = (line: number, endLine = line) => ({ start: { line, column: 1 }, end: { line: endLine, column: 3 } });

describe('codeFrame', () => {
  it('marks the faulty line with >>> and shows two lines of context', () => {
    const src = 'FROM a\nRUN b\nCOPY c\nENV d\nUSER e\nCMD f\n';
    expect(codeFrame(src, [range(3)])).toBe(
      ['   1 |     FROM a', '   2 |     RUN b', '   3 | >>> COPY c', '   4 |     ENV d', '   5 |     USER e'].join(
        '\n',
      ),
    );
  });

  it('marks every line of a multi-line range and handles CRLF and a BOM', () => {
    const src = '\uFEFFFROM a\r\nRUN b \\\r\n  c\r\n';
    expect(codeFrame(src, [range(2, 3)], { context: 0 })).toBe('   2 | >>> RUN b \\\n   3 | >>>   c');
  });

  it('returns nothing without ranges', () => {
    expect(codeFrame('FROM a', [])).toBe('');
  });
});

describe('codeFrame at the end of a file', () => {
  it('shows no empty line after the last line of a file that ends with a newline', () => {
    expect(codeFrame('FROM a\nRUN b\n', [range(2)], { context: 2 })).toBe('   1 |     FROM a\n   2 | >>> RUN b');
  });
});
