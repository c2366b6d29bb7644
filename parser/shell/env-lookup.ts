/** Looks up a variable: its value, or `undefined` when it is not set (set-but-empty is `''`). */
export type EnvLookup = (name: string) => string | undefined;

/**
 * Anything `envLookup` turns into an `EnvLookup`: a function, a Map, a plain object (own keys only), or
 * BuildKit's `KEY=value` list (a later entry wins; a bare `KEY` is set to the empty string).
 */
export type EnvSource =
  | EnvLookup
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string | undefined>>
  | readonly string[];

/** Makes an `EnvLookup` from a Map, a Record, a `KEY=value` list or a lookup function. */
export function envLookup(source: EnvSource): EnvLookup {
  if (typeof source === 'function') return source as EnvLookup;
  if (source instanceof Map) return (name) => source.get(name);
  if (Array.isArray(source)) {
    const map = new Map<string, string>();
    for (const entry of source as readonly string[]) {
      const eq = entry.indexOf('=');
      if (eq < 0) map.set(entry, '');
      else map.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return (name) => map.get(name);
  }
  const record = source as Readonly<Record<string, string | undefined>>;
  return (name) => (Object.hasOwn(record, name) ? record[name] : undefined);
}
