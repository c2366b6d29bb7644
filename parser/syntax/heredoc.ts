import { contentEnd, lineEnd } from './chars.js';
import { parseJsonArray } from './json-array.js';
import { extractFlags, shellWords, splitKeyword, trimSpan, unquoteWord } from './words.js';

/** A `<<NAME` word found on an instruction line; `start`/`end` index the logical line. */
export interface HeredocMarker {
  name: string;
  chomp: boolean;
  expand: boolean;
  fd?: number;
  start: number;
  end: number;
}

export interface HeredocMarkers {
  markers: HeredocMarker[];
  /** A marker whose delimiter has unbalanced quotes. */
  error?: { message: string; start: number; end: number };
}

const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);
const MARKER = /^(\d*)<<(-?)([^<]*)$/;
/** A line without markers: one shared result (read-only). */
const NO_MARKERS: HeredocMarkers = Object.freeze({ markers: Object.freeze([]) as unknown as HeredocMarker[] });

/** The number of quote characters (`"` and `'`) in `s`. */
function quotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 39) n++;
  }
  return n;
}

/**
 * The heredoc markers of one logical line, as BuildKit finds them: only in RUN,
 * COPY and ADD (also under ONBUILD) in the shell form; a marker is a whole
 * shell word `[n]<<[-]NAME`; a quoted NAME turns expansion off.
 */
export function findHeredocMarkers(line: string): HeredocMarkers {
  if (!line.includes('<<')) return NO_MARKERS;
  const to = line.length;
  let head = splitKeyword(line, 0, to);
  if (!head) return NO_MARKERS;
  let kind = head.keyword.value.toLowerCase();
  if (kind === 'onbuild') {
    const { argsStart } = extractFlags(line, head.restStart, to);
    head = splitKeyword(line, argsStart, to);
    if (!head) return NO_MARKERS;
    kind = head.keyword.value.toLowerCase();
  }
  if (!HEREDOC_INSTRUCTIONS.has(kind)) return NO_MARKERS;
  const { argsStart } = extractFlags(line, head.restStart, to);
  const args = trimSpan(line, argsStart, to);
  if (parseJsonArray(line, args.start, args.end).kind !== 'shell') return NO_MARKERS;

  const markers: HeredocMarker[] = [];
  for (const word of shellWords(line, 0, to)) {
    if (!word.value.includes('<<')) continue;
    const m = MARKER.exec(word.value);
    if (!m?.[3]) continue;
    const rest = m[3];
    const name = unquoteWord(rest);
    if (name === null) {
      return {
        markers,
        error: { message: `invalid heredoc delimiter ${rest}: unbalanced quotes`, start: word.start, end: word.end },
      };
    }
    const marker: HeredocMarker = {
      name,
      chomp: m[2] === '-',
      expand: quotes(name) === quotes(rest),
      start: word.start,
      end: word.end,
    };
    if (m[1]) marker.fd = Number.parseInt(m[1], 10);
    markers.push(marker);
  }
  return { markers };
}

export interface HeredocBodyScan {
  /** Where the last body's terminator line ends (past its `\n`). */
  end: number;
  bodies: HeredocBodyText[];
}

export interface HeredocBodyText {
  /** The body as written: whole lines with their line endings, without the terminator. */
  raw: string;
  terminated: boolean;
  /** The terminator's line, counted from the first body line (0). */
  terminatorLine: number;
  /** The terminator line's length without its line ending. */
  terminatorLength: number;
}

/**
 * Reads the bodies of `markers` from `offset` (the start of the line after the
 * instruction): each runs up to a line that is exactly its delimiter (after
 * leading tabs are removed for `<<-`). Stops at the first unterminated body.
 */
export function scanHeredocBodies(text: string, offset: number, markers: HeredocMarker[]): HeredocBodyScan {
  const bodies: HeredocBodyText[] = [];
  let pos = offset;
  let rel = 0;
  for (const marker of markers) {
    let raw = '';
    let terminated = false;
    let terminatorLine = rel;
    let terminatorLength = 0;
    while (pos < text.length) {
      const eol = lineEnd(text, pos);
      const end = contentEnd(text, pos, eol);
      const next = eol < text.length ? eol + 1 : eol;
      let s = pos;
      if (marker.chomp) while (s < end && text.charCodeAt(s) === 9) s++;
      if (end - s === marker.name.length && text.startsWith(marker.name, s)) {
        terminated = true;
        terminatorLine = rel;
        terminatorLength = end - pos;
        pos = next;
        rel++;
        break;
      }
      raw += text.slice(pos, next);
      pos = next;
      rel++;
    }
    bodies.push({ raw, terminated, terminatorLine, terminatorLength });
    if (!terminated) break;
  }
  return { end: pos, bodies };
}

/** `<<-` bodies: leading tabs removed from every line. */
export function chompHeredoc(raw: string): string {
  return raw.replace(/(^|\n)\t+/g, '$1');
}

/** The delimiter when `word` is a heredoc marker (`<<EOF`, `<<-"EOF"`, `3<<EOF`), else false. */
export function isHeredocWord(word: string): string | false {
  if (!word.includes('<<')) return false;
  const m = MARKER.exec(word);
  if (!m?.[3]) return false;
  return unquoteWord(m[3]) ?? false;
}
