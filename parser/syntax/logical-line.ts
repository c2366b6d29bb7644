import type { Position, SourceRange } from '../ast.js';
import { trimEnd } from './chars.js';
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
  /** The segments of a line of several (or none); undefined for one segment, which is `single`. */
  private readonly tokens: readonly IToken[] | undefined;
  /** The one segment of a one-segment line (the array passed in is not kept: callers may reuse it). */
  private readonly single: IToken | undefined;
  /**
   * The last positions handed out, by index: ranges of one instruction often share an end (the last
   * word ends where the instruction does), and then share the object too. Positions are read-only.
   */
  private index0 = -1;
  private position0: Position | undefined;
  /** The position of the line's last non-blank character, kept once asked for (every range ending there shares it). */
  private readonly lastIndex: number;
  private lastPosition: Position | undefined;

  constructor(segments: readonly IToken[]) {
    if (segments.length === 1) {
      // most instructions are one line: no joining, and the starts are shared
      const token = segments[0]!;
      this.single = token;
      this.tokens = undefined;
      this.text = token.image;
      this.starts = ONE_SEGMENT;
      this.lastIndex = trimEnd(this.text, 0, this.text.length) - 1;
      return;
    }
    this.tokens = segments;
    this.single = undefined;
    const starts: number[] = [];
    const images: string[] = [];
    let length = 0;
    for (const t of segments) {
      starts.push(length);
      images.push(t.image);
      length += t.image.length;
    }
    // joined into one flat string (the AST keeps it): `+=` would keep a tree of pieces
    const text = images.join('');
    this.text = text;
    this.starts = starts;
    this.lastIndex = trimEnd(text, 0, text.length) - 1;
  }

  /** The source position of the character at `index` (an index equal to the length maps just past the last one). */
  position(index: number): Position {
    if (index === this.lastIndex) {
      this.lastPosition ??= this.locate(index);
      return this.lastPosition;
    }
    if (index === this.index0) return this.position0!;
    const p = this.locate(index);
    this.index0 = index;
    this.position0 = p;
    return p;
  }

  private locate(index: number): Position {
    const single = this.single;
    if (single) return { line: single.startLine ?? 1, column: (single.startColumn ?? 1) + index };
    const tokens = this.tokens!;
    const n = tokens.length;
    if (n === 0) return { line: 1, column: 1 };
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    const t = tokens[lo]!;
    return { line: t.startLine ?? 1, column: (t.startColumn ?? 1) + (index - this.starts[lo]!) };
  }

  /** The source range of `[start, end)`; `end` is made inclusive, and an empty span is its start. */
  range(start: number, end: number): SourceRange {
    const s = this.position(start);
    return { start: s, end: end > start ? this.position(end - 1) : s };
  }
}
