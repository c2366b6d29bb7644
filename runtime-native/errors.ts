import { constants } from 'node:os';
import { TsbuildError, type TsbuildErrorOptions } from '../errors.js';

/**
 * An error from the native runtime.
 * - `TSB_RUNTIME_INVALID_SPEC`: the RunSpec is wrong; `field` names the part at fault.
 * - `TSB_RUNTIME_SETUP`: container set-up failed; `step` says where, `errno`/`syscall` why.
 * - `TSB_RUNTIME_HELPER`: the helper process failed on its own (crashed, killed).
 * - `TSB_RUNTIME_NATIVE`: the addon or the helper is not built.
 */
export class RuntimeError extends TsbuildError {
  /** The set-up step that failed (`proc`, `mount /data`, `user`, `cgroup`, …). */
  readonly step?: string;
  /** The errno number of the failure, when a system call failed. */
  readonly errno?: number;
  /** The errno's name (`ENOENT`), when known. */
  readonly errnoName?: string;
  /** The system call that failed (`move_mount`, `openat2`, `execve`, …), when known. */
  readonly syscall?: string;
  /** For an invalid spec: the field at fault, as a path (`env[2]`, `mounts[0].destination`). */
  readonly field?: string;

  constructor(
    code: string,
    message: string,
    options: TsbuildErrorOptions & {
      step?: string;
      errno?: number;
      errnoName?: string;
      syscall?: string;
      field?: string;
    } = {},
  ) {
    super(code, message, options);
    this.step = options.step;
    this.errno = options.errno;
    this.errnoName = options.errnoName;
    this.syscall = options.syscall;
    this.field = options.field;
  }
}

/** `RuntimeError` for a bad RunSpec field. */
export function invalidSpec(field: string, message: string): RuntimeError {
  return new RuntimeError('TSB_RUNTIME_INVALID_SPEC', `invalid run spec: ${field}: ${message}`, { field });
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno number (`2` → `ENOENT`). */
export function errnoName(errno: number): string | undefined {
  return errnoNames.get(errno);
}

/** A set-up failure reported by the helper as `{step, errno, syscall, message}`. */
export function setupError(report: { step: string; errno: number; message: string; syscall?: string }): RuntimeError {
  const name = report.errno ? errnoName(report.errno) : undefined;
  const suffix = name ? ` (${name})` : '';
  return new RuntimeError('TSB_RUNTIME_SETUP', `${report.step}: ${report.message}${suffix}`, {
    step: report.step,
    errno: report.errno || undefined,
    errnoName: name,
    syscall: report.syscall || undefined,
  });
}
