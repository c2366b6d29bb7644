import { readFileSync } from 'node:fs';
import { TsbuildError } from '../../errors.js';
import { sourceOf } from '../sources.js';
import { codeFrame } from './code-frame.js';

/** Formats any error for the terminal: `file:line:col: message`, a code frame, and the cause chain with --debug. */
export function formatError(err: unknown, options: { debug?: boolean; color?: boolean } = {}): string {
  if (!(err instanceof TsbuildError)) {
    const e = err instanceof Error ? err : new Error(String(err));
    return options.debug ? `error: ${e.stack ?? e.message}` : `error: ${e.message}`;
  }
  const out: string[] = [];
  const where = err.file ?? '';
  const first = err.ranges[0];
  const loc = first ? `${where}:${first.start.line}:${first.start.column}` : where;
  out.push(`${loc ? `${loc}: ` : ''}error: ${err.message} [${err.code}]`);
  if (err.file && err.ranges.length > 0) {
    const text = sourceOf(err.file) ?? readSource(err.file);
    if (text !== undefined) out.push(codeFrame(text, err.ranges, { color: options.color }));
  }
  if (options.debug) {
    let cause: unknown = err.cause;
    while (cause) {
      out.push(`caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  }
  return out.join('\n');
}

function readSource(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
