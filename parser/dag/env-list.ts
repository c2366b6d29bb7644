/**
 * An ordered environment (BuildKit's `EnvList`): setting a key replaces its value in place, a new key is
 * appended. Keys are case-sensitive (Linux).
 */
export class EnvList {
  private readonly keys: string[] = [];
  private readonly values = new Map<string, string>();
  private list: string[] | undefined;

  static from(entries: readonly string[] | undefined): EnvList {
    const env = new EnvList();
    for (const e of entries ?? []) {
      const eq = e.indexOf('=');
      if (eq < 0) env.set(e, '');
      else env.set(e.slice(0, eq), e.slice(eq + 1));
    }
    return env;
  }

  clone(): EnvList {
    const env = new EnvList();
    for (const k of this.keys) env.set(k, this.values.get(k)!);
    return env;
  }

  set(key: string, value: string): void {
    this.list = undefined;
    if (!this.values.has(key)) this.keys.push(key);
    this.values.set(key, value);
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  names(): string[] {
    return [...this.keys];
  }

  /** `KEY=value` entries in order. The array is shared until the next `set`: do not modify it. */
  toList(): string[] {
    this.list ??= this.keys.map((k) => `${k}=${this.values.get(k)!}`);
    return this.list;
  }

  /** A lookup for `expandWord`. */
  readonly lookup = (name: string): string | undefined => this.values.get(name);
}
