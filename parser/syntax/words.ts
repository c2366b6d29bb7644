import { isFieldSpace, isSpace, skipSpace, trimEnd } from './chars.js';

/**
 * Word scanners over one logical line (continuations already joined), after
 * BuildKit's `splitCommand`, `extractBuilderFlags`, `parseWords` and
 * `reWhitespace`. Each returns spans: the value and its `[start, end)` indices
 * in the line, from which the AST builder takes exact source ranges.
 */
export interface Span {
  value: string;
  start: number;
  end: number;
}

/**
 * The instruction keywords as usually written (upper case), by length and first character (`length * 128 +
 * code`): `keywordText` hands these out.
 */
const KEYWORDS: (string[] | undefined)[] = [];
for (const k of [
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'MAINTAINER',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
]) {
  const slot = k.length * 128 + k.charCodeAt(0);
  const list = KEYWORDS[slot];
  if (list) list.push(k);
  else KEYWORDS[slot] = [k];
}

/** `text[start, end)`; an upper-case instruction keyword is one shared string rather than a new one per line. */
function keywordText(text: string, start: number, end: number): string {
  const length = end - start;
  const c = text.charCodeAt(start);
  const candidates = length < 12 && c < 128 ? KEYWORDS[length * 128 + c] : undefined;
  if (candidates) for (const k of candidates) if (text.startsWith(k, start)) return k;
  return text.slice(start, end);
}

/** The instruction keyword (the first word) and where the rest of the line starts. */
export function splitKeyword(text: string, from: number, to: number): { keyword: Span; restStart: number } | null {
  const start = skipSpace(text, from, to);
  const end = trimEnd(text, start, to);
  if (start >= end) return null;
  let i = start;
  while (i < end && !isFieldSpace(text.charCodeAt(i))) i++;
  const keyword = { value: keywordText(text, start, i), start, end: i };
  while (i < end && isFieldSpace(text.charCodeAt(i))) i++;
  return { keyword, restStart: i };
}

/** A flag word as BuildKit reads it: quotes removed, `\x` taken as `x`. */
export interface FlagSpan extends Span {
  /** The name without the leading `--`. */
  name: string;
  /** The text after the first `=`, or null for a bare `--name`. */
  flagValue: string | null;
}

const NO_FLAGS: FlagSpan[] = Object.freeze([]) as unknown as FlagSpan[];

/**
 * Reads the `--flag` words at the start of `[from, to)` and returns them with
 * the index where the arguments start. A lone `--` ends the flags.
 */
export function extractFlags(text: string, from: number, to: number): { flags: FlagSpan[]; argsStart: number } {
  // most instructions have no flags: they share one empty (frozen) list
  let flags = NO_FLAGS;
  let pos = from;
  for (;;) {
    pos = skipSpace(text, pos, to);
    if (pos >= to) return { flags, argsStart: to };
    if (text.charCodeAt(pos) !== 45 || pos + 1 >= to || text.charCodeAt(pos + 1) !== 45) {
      return { flags, argsStart: pos };
    }
    const start = pos;
    let plain = pos;
    while (plain < to) {
      const c = text.charCodeAt(plain);
      if (isSpace(c) || c === 39 || c === 34 || c === 92) break;
      plain++;
    }
    let word: string;
    if (plain >= to || isSpace(text.charCodeAt(plain))) {
      word = text.slice(start, plain);
      pos = plain;
    } else {
      ({ word, end: pos } = unquoteFlag(text, start, to));
    }
    if (word === '--') return { flags, argsStart: skipSpace(text, pos, to) };
    const eq = word.indexOf('=', 2);
    const flag: FlagSpan = {
      value: word,
      start,
      end: pos,
      name: eq < 0 ? word.slice(2) : word.slice(2, eq),
      flagValue: eq < 0 ? null : word.slice(eq + 1),
    };
    if (flags === NO_FLAGS) flags = [flag];
    else flags.push(flag);
  }
}

/** A flag word with BuildKit's flag quoting: quotes removed, `\x` taken as `x`, up to unquoted whitespace. */
function unquoteFlag(text: string, from: number, to: number): { word: string; end: number } {
  let word = '';
  let quote = 0;
  let pos = from;
  while (pos < to) {
    const c = text.charCodeAt(pos);
    if (quote === 0) {
      if (isSpace(c)) break;
      if (c === 39 || c === 34) {
        quote = c;
        pos++;
        continue;
      }
    } else if (c === quote) {
      quote = 0;
      pos++;
      continue;
    }
    if (c === 92) {
      if (pos + 1 >= to) {
        pos++;
        continue;
      }
      pos++;
    }
    word += text[pos];
    pos++;
  }
  return { word, end: pos };
}

/** `[from, to)` without surrounding whitespace, as a span. */
export function trimSpan(text: string, from: number, to: number): Span {
  const start = skipSpace(text, from, to);
  const end = trimEnd(text, start, to);
  return { value: text.slice(start, end), start, end };
}

/** Words separated by runs of `[\t\v\f\r ]` (BuildKit's `parseStringsWhitespaceDelimited`). */
export function splitFields(text: string, from: number, to: number): Span[] {
  const out: Span[] = [];
  let i = from;
  while (i < to) {
    while (i < to && isFieldSpace(text.charCodeAt(i))) i++;
    if (i >= to) break;
    const start = i;
    while (i < to && !isFieldSpace(text.charCodeAt(i))) i++;
    out.push({ value: text.slice(start, i), start, end: i });
  }
  return out;
}

/**
 * Words for ENV, LABEL and ARG (BuildKit's `parseWords`): split at unquoted
 * whitespace, quotes and escapes kept as written. The escape character escapes
 * anything outside single quotes; a trailing escape is dropped.
 */
export function parseWords(text: string, from: number, to: number, esc: number): Span[] {
  const out: Span[] = [];
  let pos = from;
  while (pos < to) {
    pos = skipSpace(text, pos, to);
    if (pos >= to) break;
    const start = pos;
    let quote = 0;
    let blankOk = false;
    // The word is its source text, less an escape character that ends the input.
    let dropLast = false;
    while (pos < to) {
      const c = text.charCodeAt(pos);
      if (quote === 0) {
        if (isSpace(c)) break;
        if (c === 39 || c === 34) {
          quote = c;
          blankOk = true;
        } else if (c === esc) {
          if (pos + 1 >= to) dropLast = true;
          else pos++;
        }
        pos++;
        continue;
      }
      if (c === quote) {
        quote = 0;
      } else if (c === esc && quote !== 39) {
        if (pos + 1 >= to) {
          dropLast = true;
          quote = 0;
        } else {
          pos++;
        }
      }
      pos++;
    }
    const word = text.slice(start, dropLast ? pos - 1 : pos);
    if (blankOk || word.length > 0) out.push({ value: word, start, end: pos });
  }
  return out;
}

/**
 * Shell words as written (quotes and escapes kept): split at whitespace outside
 * quotes and `${…}`. Used to find heredoc markers, as BuildKit runs its shell
 * lexer with raw quotes and raw escapes over the whole line.
 */
export function shellWords(text: string, from: number, to: number): Span[] {
  const out: Span[] = [];
  let i = from;
  let start = -1;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      if (start >= 0) out.push({ value: text.slice(start, i), start, end: i });
      start = -1;
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (c === 92) {
      i = Math.min(i + 2, to);
    } else if (c === 39) {
      const j = text.indexOf("'", i + 1);
      i = j < 0 || j >= to ? to : j + 1;
    } else if (c === 34) {
      i = endOfDoubleQuote(text, i + 1, to);
    } else if (c === 36 && text.charCodeAt(i + 1) === 123) {
      i = endOfBraces(text, i + 2, to);
    } else {
      i++;
    }
  }
  if (start >= 0) out.push({ value: text.slice(start, to), start, end: to });
  return out;
}

function endOfDoubleQuote(text: string, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === 92) i += 2;
    else if (c === 34) return i + 1;
    else i++;
  }
  return to;
}

function endOfBraces(text: string, from: number, to: number): number {
  let depth = 1;
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === 92) {
      i += 2;
      continue;
    }
    if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return i + 1;
    i++;
  }
  return to;
}

/**
 * The value of one shell word with quotes removed and escapes applied, or null
 * when the quotes are unbalanced. Used for heredoc delimiters.
 */
export function unquoteWord(word: string): string | null {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const c = word.charCodeAt(i);
    if (c === 39) {
      const j = word.indexOf("'", i + 1);
      if (j < 0) return null;
      out += word.slice(i + 1, j);
      i = j + 1;
    } else if (c === 34) {
      i++;
      let closed = false;
      while (i < word.length) {
        const d = word.charCodeAt(i);
        if (d === 34) {
          closed = true;
          i++;
          break;
        }
        if (d === 92 && i + 1 < word.length) {
          const n = word[i + 1];
          if (n === '"' || n === '\\' || n === '$' || n === '`') {
            out += n;
            i += 2;
            continue;
          }
        }
        out += word[i];
        i++;
      }
      if (!closed) return null;
    } else if (c === 92) {
      if (i + 1 < word.length) out += word[i + 1];
      i += 2;
    } else {
      out += word[i];
      i++;
    }
  }
  return out;
}
