/**
 * Word expansion with the rules of BuildKit's shell lexer (`frontend/dockerfile/shell/lex.go`):
 * `$v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?m} ${v?m} ${v#p} ${v##p} ${v%p} ${v%%p} ${v/p/r} ${v//p/r}`,
 * single and double quotes, and the escape character of the Dockerfile (`\` or the `` ` `` of `# escape=`).
 *
 * A hand-written scanner over UTF-16 units: one pass, no regular expression per character, and no
 * exception unless the word is bad. Pure: the only input is the word, the lookup and the options.
 */
import { isDigitCodePoint, isNameCodePoint, isSpaceUnit, isSpecialParam } from './chars.js';
import { type EnvSource, envLookup } from './env-lookup.js';
import { Fault } from './fault.js';
import { replaceAll, replaceFirst, trimPrefix, trimSuffix } from './pattern.js';
import { WordExpansionError } from './word-expansion-error.js';

export interface ExpandOptions {
  /** The Dockerfile's escape character (`# escape=`); `\` by default. */
  escape?: '\\' | '`';
  /** Leave unset `$vars` as written, forms and all (BuildKit's `SkipUnsetEnv`). */
  skipUnset?: boolean;
}

export interface Expansion {
  /** The expanded word with quotes removed (BuildKit's `ProcessWord`). */
  value: string;
  /** Names referenced that were set (even to the empty string). */
  matched: ReadonlySet<string>;
  /** Names referenced that were not set. */
  unmatched: ReadonlySet<string>;
}

export interface WordsExpansion extends Expansion {
  /** The word split on unquoted white space, after expansion (BuildKit's `ProcessWords`). */
  values: string[];
}

const EOF = -1;
const DOLLAR = 0x24;
const SQUOTE = 0x27;
const DQUOTE = 0x22;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COLON = 0x3a;
const SLASH = 0x2f;
const HASH = 0x23;
const PERCENT = 0x25;
const PLUS = 0x2b;
const MINUS = 0x2d;
const QUESTION = 0x3f;

/** Words that need no scanning: no `$`, no quote and no escape character. */
const PLAIN_BACKSLASH = /^[^$'"\\]*$/;
const PLAIN_BACKTICK = /^[^$'"`]*$/;
/** The names of a word without variables: one shared empty set (read-only), not two new ones per word. */
const NO_NAMES: ReadonlySet<string> = new Set();

/**
 * Expands one word: variables replaced, quotes and escapes removed, white space kept.
 * Throws a `WordExpansionError` (an `ExpansionError`) for a malformed word or a failed `${v?msg}`.
 */
export function expandWord(word: string, env: EnvSource, options: ExpandOptions = {}): Expansion {
  const escapeChar = options.escape ?? '\\';
  if ((escapeChar === '\\' ? PLAIN_BACKSLASH : PLAIN_BACKTICK).test(word)) {
    return { value: word, matched: NO_NAMES, unmatched: NO_NAMES };
  }
  const scanner = new WordScanner(word, env, escapeChar, options.skipUnset === true, null);
  const value = scanner.run();
  return { value, matched: scanner.matched ?? NO_NAMES, unmatched: scanner.unmatched ?? NO_NAMES };
}

/**
 * Expands a word and splits it into words, as BuildKit's `ProcessWords` (used for EXPOSE, for example):
 * text outside quotes splits on white space, and so do the values of unquoted variables
 * (`x="a b"` makes `$x` two words, `"$x"` one). Empty words are dropped, even `""`.
 */
export function expandWords(word: string, env: EnvSource, options: ExpandOptions = {}): WordsExpansion {
  const escapeChar = options.escape ?? '\\';
  const words = new WordSplitter();
  if ((escapeChar === '\\' ? PLAIN_BACKSLASH : PLAIN_BACKTICK).test(word)) {
    words.addText(word, 0, word.length);
    return { value: word, values: words.finish(), matched: NO_NAMES, unmatched: NO_NAMES };
  }
  const scanner = new WordScanner(word, env, escapeChar, options.skipUnset === true, words);
  const value = scanner.run();
  return {
    value,
    values: words.finish(),
    matched: scanner.matched ?? NO_NAMES,
    unmatched: scanner.unmatched ?? NO_NAMES,
  };
}

/** BuildKit's word accumulator: splits on white space, except in text added raw (quoted or escaped). */
class WordSplitter {
  readonly words: string[] = [];
  private word = '';
  private inWord = false;

  /** Text that splits on white space (unquoted text and unquoted variable values). */
  addText(s: string, start: number, end: number): void {
    let i = start;
    while (i < end) {
      if (isSpaceUnit(s.charCodeAt(i))) {
        if (this.inWord && this.word.length > 0) {
          this.words.push(this.word);
          this.word = '';
          this.inWord = false;
        }
        i++;
      } else {
        let j = i + 1;
        while (j < end && !isSpaceUnit(s.charCodeAt(j))) j++;
        this.word += s.slice(i, j);
        this.inWord = true;
        i = j;
      }
    }
  }

  /** Text kept whole (quoted text, an escaped character). */
  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class WordScanner {
  /** Names referenced that were set; made on the first one (most words reference few or none). */
  matched: Set<string> | undefined;
  /** Names referenced that were not set; made on the first one. */
  unmatched: Set<string> | undefined;
  private readonly src: string;
  private readonly end: number;
  private readonly lookup: (name: string) => string | undefined;
  private readonly escChar: string;
  private readonly esc: number;
  private readonly skipUnset: boolean;
  /** The top-level word splitter, or null when only the value is wanted. */
  private readonly words: WordSplitter | null;
  private pos = 0;
  /** Keep escape characters in the output (inside `#`, `%` and `/` patterns, as BuildKit does). */
  private raw = false;

  constructor(src: string, env: EnvSource, escapeChar: string, skipUnset: boolean, words: WordSplitter | null) {
    this.src = src;
    this.end = src.length;
    this.lookup = typeof env === 'function' ? env : envLookup(env);
    this.escChar = escapeChar;
    this.esc = escapeChar.charCodeAt(0);
    this.skipUnset = skipUnset;
    this.words = words;
  }

  run(): string {
    try {
      return this.processStopOn(EOF, false, this.words);
    } catch (err) {
      if (err instanceof Fault) throw new WordExpansionError(err.kind, this.src, err.reason, err.variable);
      throw err;
    }
  }

  private peek(): number {
    return this.pos < this.end ? this.src.charCodeAt(this.pos) : EOF;
  }

  /** Reads one code point (EOF at the end). */
  private nextCodePoint(): number {
    if (this.pos >= this.end) return EOF;
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private getEnv(name: string): string | undefined {
    const value = this.lookup(name);
    if (value === undefined) {
      this.unmatched ??= new Set();
      this.unmatched.add(name);
    } else {
      this.matched ??= new Set();
      this.matched.add(name);
    }
    return value;
  }

  /** Scans up to `stop` (consumed) or the end of the word; BuildKit's `processStopOn`. */
  private processStopOn(stop: number, raw: boolean, words: WordSplitter | null): string {
    const savedRaw = this.raw;
    this.raw = raw;
    const src = this.src;
    let out = '';
    let run = this.pos;
    while (this.pos < this.end) {
      const c = src.charCodeAt(this.pos);
      if (c === stop) {
        out += src.slice(run, this.pos);
        words?.addText(src, run, this.pos);
        this.pos++;
        this.raw = savedRaw;
        return out;
      }
      if (c === DOLLAR || c === SQUOTE || c === DQUOTE) {
        out += src.slice(run, this.pos);
        words?.addText(src, run, this.pos);
        if (c === DOLLAR) {
          const value = this.processDollar();
          out += value;
          words?.addText(value, 0, value.length);
        } else {
          const value = c === SQUOTE ? this.processSingleQuote() : this.processDoubleQuote();
          out += value;
          words?.addRaw(value);
        }
        run = this.pos;
        continue;
      }
      if (c === this.esc) {
        out += src.slice(run, this.pos);
        words?.addText(src, run, this.pos);
        this.pos++;
        if (this.raw) {
          out += this.escChar;
          words?.addRaw(this.escChar);
        }
        run = this.pos;
        // An escape character at the very end is dropped.
        if (this.pos >= this.end) break;
        this.nextCodePoint();
        const ch = src.slice(run, this.pos);
        out += ch;
        words?.addRaw(ch);
        run = this.pos;
        continue;
      }
      this.pos++;
    }
    out += src.slice(run, this.pos);
    words?.addText(src, run, this.pos);
    this.raw = savedRaw;
    if (stop !== EOF) {
      throw new Fault('syntax', `unexpected end of statement while looking for matching ${String.fromCharCode(stop)}`);
    }
    return out;
  }

  /** `'...'`: everything up to the next single quote, as is. */
  private processSingleQuote(): string {
    const close = this.src.indexOf("'", this.pos + 1);
    if (close < 0) {
      this.pos = this.end;
      throw new Fault('syntax', 'unexpected end of statement while looking for matching single-quote');
    }
    const value = this.src.slice(this.pos + 1, close);
    this.pos = close + 1;
    return value;
  }

  /**
   * `"..."`: `$` expands; the escape character escapes only `"`, `$` and itself and is kept before
   * anything else.
   */
  private processDoubleQuote(): string {
    const src = this.src;
    this.pos++;
    let out = '';
    let run = this.pos;
    for (;;) {
      if (this.pos >= this.end) {
        throw new Fault('syntax', 'unexpected end of statement while looking for matching double-quote');
      }
      const c = src.charCodeAt(this.pos);
      if (c === DQUOTE) {
        out += src.slice(run, this.pos);
        this.pos++;
        return out;
      }
      if (c === DOLLAR) {
        out += src.slice(run, this.pos);
        out += this.processDollar();
        run = this.pos;
        continue;
      }
      if (c === this.esc) {
        out += src.slice(run, this.pos);
        this.pos++;
        if (this.raw) out += this.escChar;
        run = this.pos;
        if (this.pos >= this.end) continue;
        const n = src.charCodeAt(this.pos);
        if (n === DQUOTE || n === DOLLAR || n === this.esc) {
          out += src[this.pos];
          this.pos++;
        } else {
          out += this.escChar;
        }
        run = this.pos;
        continue;
      }
      this.pos++;
    }
  }

  /** A `$` reference; BuildKit's `processDollar`. */
  private processDollar(): string {
    this.pos++;
    if (this.peek() !== LBRACE) {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined) return this.skipUnset ? '$' + name : '';
      return value;
    }
    this.pos++;
    const first = this.peek();
    if (first === EOF) throw new Fault('syntax', "syntax error: missing '}'");
    if (first === LBRACE || first === RBRACE || first === COLON) {
      throw new Fault('syntax', 'syntax error: bad substitution');
    }
    const name = this.processName();
    const ch = this.nextCodePoint();
    switch (ch) {
      case RBRACE: {
        const value = this.getEnv(name);
        if (value === undefined) return this.skipUnset ? '${' + name + '}' : '';
        return value;
      }
      case EOF:
        // BuildKit reports "unsupported modifier (\uFFFD)" here; the missing brace is the real fault.
        throw new Fault('syntax', "syntax error: missing '}'");
      case SLASH:
        return this.processReplace(name);
      case COLON:
      case PLUS:
      case MINUS:
      case QUESTION:
      case HASH:
      case PERCENT:
        return this.processModifier(name, ch);
      default:
        throw new Fault('syntax', `unsupported modifier (${String.fromCodePoint(ch)}) in substitution`);
    }
  }

  /** `${name<op>word}` for `- + ? # %`, with or without a leading `:`. */
  private processModifier(name: string, first: number): string {
    let op = first;
    let chs = String.fromCodePoint(first);
    const nullIsUnset = first === COLON;
    if (nullIsUnset) {
      op = this.nextCodePoint();
      chs += op === EOF ? '\uFFFD' : String.fromCodePoint(op);
    }
    let word: string;
    try {
      word = this.processStopOn(RBRACE, op === HASH || op === PERCENT, null);
    } catch (err) {
      if (this.pos >= this.end) throw new Fault('syntax', "syntax error: missing '}'");
      throw err;
    }
    const value = this.getEnv(name);
    const set = value !== undefined;
    if (this.skipUnset && !set) return '${' + name + chs + word + '}';
    const isNull = !set || (nullIsUnset && value === '');
    switch (op) {
      case MINUS:
        return isNull ? word : value!;
      case PLUS:
        return isNull ? '' : word;
      case QUESTION:
        if (!set) throw new Fault('required', `${name}: ${word === '' ? 'is not allowed to be unset' : word}`, name);
        if (nullIsUnset && value === '') {
          throw new Fault('required', `${name}: ${word === '' ? 'is not allowed to be empty' : word}`, name);
        }
        return value;
      case HASH:
      case PERCENT: {
        const greedy = word.length > 0 && word.charCodeAt(0) === op;
        const pattern = greedy ? word.slice(1) : word;
        return op === PERCENT ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
      default:
        throw new Fault('syntax', `unsupported modifier (${chs}) in substitution`);
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`. */
  private processReplace(name: string): string {
    const all = this.peek() === SLASH;
    if (all) this.pos++;
    let pattern: string;
    try {
      pattern = this.processStopOn(SLASH, true, null);
    } catch (err) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: BuildKit's message names the `${}` form
      if (this.pos >= this.end) throw new Fault('syntax', "syntax error: missing '/' in ${}");
      throw err;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn(RBRACE, true, null);
    } catch (err) {
      if (this.pos >= this.end) throw new Fault('syntax', "syntax error: missing '}'");
      throw err;
    }
    const value = this.getEnv(name);
    if (value === undefined && this.skipUnset) {
      return '${' + name + (all ? '//' : '/') + pattern + '/' + replacement + '}';
    }
    return all ? replaceAll(value ?? '', pattern, replacement) : replaceFirst(value ?? '', pattern, replacement);
  }

  /**
   * A name: letters, digits and `_`; or a run of digits (`$10` is the name `10`); or one special
   * parameter (`$@ $* $# $? $- $$ $! $0`). Empty when none of these follows.
   */
  private processName(): string {
    const src = this.src;
    const start = this.pos;
    if (start >= this.end) return '';
    const first = src.codePointAt(start)!;
    if (isDigitCodePoint(first)) {
      while (this.pos < this.end) {
        const cp = src.codePointAt(this.pos)!;
        if (!isDigitCodePoint(cp)) break;
        this.pos += cp > 0xffff ? 2 : 1;
      }
      return src.slice(start, this.pos);
    }
    if (isSpecialParam(first)) {
      this.pos++;
      return src[start]!;
    }
    while (this.pos < this.end) {
      const cp = src.codePointAt(this.pos)!;
      if (!isNameCodePoint(cp)) break;
      this.pos += cp > 0xffff ? 2 : 1;
    }
    return src.slice(start, this.pos);
  }
}
