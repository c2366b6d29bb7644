/**
 * Source texts the running command has read (Dockerfiles, usually), by the name
 * used in error messages, so that an error can be shown with a code frame even
 * when its file came from stdin.
 */
const sources = new Map<string, string>();

export function rememberSource(file: string, text: string): void {
  sources.set(file, text);
}

export function sourceOf(file: string): string | undefined {
  return sources.get(file);
}
