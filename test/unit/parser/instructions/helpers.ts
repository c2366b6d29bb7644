import { expect } from 'vitest';
import {
  type Diagnostic,
  type InstructionKind,
  type InstructionOf,
  parseDockerfile,
} from '../../../../parser/index.js';

/** The instruction on the second line of `FROM a\n<line>`, which must parse without errors. */
export function one<K extends InstructionKind>(kind: K, line: string): InstructionOf<K> {
  const r = parseDockerfile(`FROM a\n${line}\n`, { filename: 'Dockerfile' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const i = r.ast.instructions[1];
  expect(i?.kind).toBe(kind);
  return i as InstructionOf<K>;
}

/** The first error of `FROM a\n<line>`. */
export function fault(line: string): Diagnostic {
  const r = parseDockerfile(`FROM a\n${line}\n`, { filename: 'Dockerfile' });
  const d = r.diagnostics.find((x) => x.severity === 'error');
  expect(d, line).toBeDefined();
  return d!;
}
