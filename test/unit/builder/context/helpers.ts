export * from '../../../../builder/index.js';

/** Byte order for ASCII names, as `sort` in the C locale orders `find` output. */
export function compareNamesForTests(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
