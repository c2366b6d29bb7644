/**
 * Character classes shared by the lexer's custom patterns and the word
 * scanners. Whitespace follows Go's `unicode.IsSpace` closely enough for
 * Dockerfiles (BuildKit trims with it); the line break is `\n` only, as
 * BuildKit splits lines on `\n` and trims a trailing `\r`.
 */

import { isSpaceUnit } from '../shell/chars.js';

export const LF = 10;
export const CR = 13;
export const SPACE = 32;
export const TAB = 9;
export const HASH = 35;

/** Go's `unicode.IsSpace` (tab, LF, VT, FF, CR, space, NEL, NBSP and the Unicode spaces): one definition for the parser. */
export const isSpace = isSpaceUnit;

/** The separators of BuildKit's `reWhitespace` (`[\t\v\f\r ]`). */
export function isFieldSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12 || c === 13;
}

/** Index of the `\n` ending the line that contains `offset`, or `text.length`. */
export function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  return i < 0 ? text.length : i;
}

/** The end of a line's content: before the trailing `\r`s that precede `eol`. */
export function contentEnd(text: string, start: number, eol: number): number {
  let e = eol;
  while (e > start && text.charCodeAt(e - 1) === CR) e--;
  return e;
}

/** True when `text[start, end)` holds only whitespace. */
export function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

/** The first index in `[start, end)` that is not whitespace, or `end`. */
export function skipSpace(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The end of `[start, end)` with trailing whitespace removed. */
export function trimEnd(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && isSpace(text.charCodeAt(e - 1))) e--;
  return e;
}

/**
 * Where a line continuation starts in the processed line `[lineStart, end)`, or -1.
 * A continuation is the escape character followed only by spaces and tabs, and
 * not itself escaped: it is the first character of the line, or the one before
 * it is not the escape character (BuildKit's `lineContinuationRegex`).
 */
export function continuationIndex(text: string, lineStart: number, end: number, esc: number): number {
  let i = end - 1;
  while (i >= lineStart) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB) break;
    i--;
  }
  if (i < lineStart || text.charCodeAt(i) !== esc) return -1;
  if (i === lineStart || text.charCodeAt(i - 1) !== esc) return i;
  return -1;
}
