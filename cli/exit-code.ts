/**
 * The exit code the CLI uses for tsbuild's own errors. Docker uses 125 for
 * `run`, so that the container's own codes (1, 126, 127, …) stay distinguishable.
 */
let errorExitCode = 1;

export function setErrorExitCode(code: number): void {
  errorExitCode = code;
}

export function getErrorExitCode(): number {
  return errorExitCode;
}
