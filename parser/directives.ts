import type { Diagnostic, Directive, EscapeChar } from './ast.js';

/** The parser directives BuildKit knows; any other `# name=value` line is a comment. */
const KNOWN = new Set(['syntax', 'escape', 'check']);
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

export interface DirectivesResult {
  directives: Directive[];
  escape: EscapeChar;
  /** The last line holding a directive (0 when none), so that its comment is not an instruction's. */
  lastLine: number;
  diagnostics: Diagnostic[];
}

/**
 * Reads the parser directives at the top of a Dockerfile (BOM already removed).
 * Directives count only before the first instruction, comment or blank line;
 * names are case-insensitive; each may appear once; `escape` accepts only `\`
 * and `` ` ``. The first line that is not a known directive ends them.
 */
export function readDirectives(text: string): DirectivesResult {
  const directives: Directive[] = [];
  const diagnostics: Diagnostic[] = [];
  let escapeChar: EscapeChar = '\\';
  let lastLine = 0;
  let pos = 0;
  for (let line = 1; pos <= text.length; line++) {
    const nl = text.indexOf('\n', pos);
    const eol = nl < 0 ? text.length : nl;
    const raw = text.slice(pos, eol).replace(/\r+$/, '');
    const lead = raw.length - raw.trimStart().length;
    const m = DIRECTIVE.exec(raw.slice(lead));
    if (!m) break;
    const name = m[1]!.toLowerCase();
    if (!KNOWN.has(name)) break;
    const range = { start: { line, column: lead + 1 }, end: { line, column: Math.max(raw.length, lead + 1) } };
    if (directives.some((d) => d.name === name)) {
      diagnostics.push({
        severity: 'error',
        code: 'TSB_DOCKERFILE_DIRECTIVE',
        message: `only one ${name} parser directive can be used`,
        range,
      });
    } else {
      const value = m[2]!;
      directives.push({ name, value, range });
      if (name === 'escape') {
        if (value === '\\' || value === '`') {
          escapeChar = value;
        } else {
          diagnostics.push({
            severity: 'error',
            code: 'TSB_DOCKERFILE_DIRECTIVE',
            message: `invalid escape token '${value}' does not match \` or \\`,
            range,
          });
        }
      }
    }
    lastLine = line;
    if (nl < 0) break;
    pos = nl + 1;
  }
  return { directives, escape: escapeChar, lastLine, diagnostics };
}
