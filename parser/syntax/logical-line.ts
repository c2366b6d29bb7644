import type { Position, SourceRange } from '../ast.js';
import type { IToken } from './chevrotain.js';

const ONE_SEGMENT: readonly number[] = [0];

/**
 * One instruction's text with its line continuations joined (what BuildKit
 * parses), and the way back from an index in that text to the source: each
 * segment is one lexer token, which never crosses a line break, so an index's
 * line is the token's and its column is the token's plus the distance into it.
 */
export class LogicalLine {
  readonly text: string;
  /** Where each segment starts in `text`. */
  private readonly starts: readonly number[];
  private readonly tokens: IToken[];

  constructor(segments: IToken[]) {
    this.tokens = segments;
    if (segments.length === 1) {
      // most instructions are one line: no joining, and the starts are shared
      this.text = segments[0]!.image;
      this.starts = ONE_SEGMENT;
      return;
    }
    const starts: number[] = [];
    let text = '';
    for (const t of segments) {
      starts.push(text.length);
      text += t.image;
    }
    this.text = text;
    this.starts = starts;
  }

  /** The source position of the character at `index` (an index equal to the length maps just past the last one). */
  position(index: number): Position {
    const n = this.tokens.length;
    if (n === 0) return { line: 1, column: 1 };
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    const t = this.tokens[lo]!;
    return { line: t.startLine ?? 1, column: (t.startColumn ?? 1) + (index - this.starts[lo]!) };
  }

  /** The source range of `[start, end)`; `end` is made inclusive, and an empty span is its start. */
  range(start: number, end: number): SourceRange {
    const s = this.position(start);
    return { start: s, end: end > start ? this.position(end - 1) : s };
  }
}
