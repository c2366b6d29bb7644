import { UsageError } from '../../errors.js';

/** The `# check=` directive: `skip=A,B`, `skip=all`, `error=true`, joined by `;`. */
export interface CheckConfig {
  skip: string[];
  skipAll: boolean;
  error: boolean;
}

/** Parses a `# check=` value as BuildKit's `ParseLintOptions` does; throws a `UsageError` naming a bad option. */
export function parseCheckDirective(value: string): CheckConfig {
  const out: CheckConfig = { skip: [], skipAll: false, error: false };
  const text = value.trim();
  if (text === '') return out;
  const semi = text.indexOf(';');
  const parts = semi < 0 ? [text] : [text.slice(0, semi), text.slice(semi + 1)];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`invalid check option "${part}"`);
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (key === 'skip') {
      if (v === 'all') out.skipAll = true;
      else out.skip = v.split(',').map((s) => s.trim());
    } else if (key === 'error') {
      const b = parseGoBool(v);
      if (b === undefined) throw new UsageError(`failed to parse check option "${part}": invalid syntax`);
      out.error = b;
    } else {
      throw new UsageError(`invalid check option "${key}"`);
    }
  }
  return out;
}

function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}
