import type { EnvList } from './env-list.js';

/**
 * The ARGs declared in a stage as its RUN steps show them: their names, and the `|N K=V` prefix of the
 * history text with the values the process sees. Both are built once and reused by every RUN until an ARG
 * or ENV changes them (call `changed`); the arrays and strings handed out are shared: do not modify them.
 */
export class RunArgs {
  private readonly declared: { key: string; value?: string }[] = [];
  private cache: { names: string[]; prefix: string } | undefined;

  constructor(private readonly env: EnvList) {}

  /** Records an ARG of the stage (`value` is the one it was declared with, if any). */
  add(key: string, value: string | undefined): void {
    this.declared.push(value === undefined ? { key } : { key, value });
    this.cache = undefined;
  }

  /** Forgets the built names and prefix: the environment changed. */
  changed(): void {
    this.cache = undefined;
  }

  /** The declared ARG names, in declaration order, repeats included. */
  names(): string[] {
    return this.built().names;
  }

  /** `RUN |2 A=1 B=2 /bin/sh -c cmd # buildkit`, the RUN step's history text, as one flat string. */
  historyText(args: string[]): string {
    const prefix = this.built().prefix;
    // `RUN  # buildkit` (two spaces) for an empty exec form without ARGs, as BuildKit writes it
    if (prefix === '' && args.length === 0) return 'RUN  # buildkit';
    const parts = ['RUN'];
    if (prefix !== '') parts.push(prefix);
    for (const a of args) parts.push(a);
    parts.push('# buildkit');
    return parts.join(' ');
  }

  private built(): { names: string[]; prefix: string } {
    if (this.cache) return this.cache;
    const names: string[] = [];
    const order: string[] = [];
    const values = new Map<string, string>();
    for (const a of this.declared) {
      names.push(a.key);
      if (!values.has(a.key)) order.push(a.key);
      values.set(a.key, this.env.get(a.key) ?? a.value ?? '');
    }
    const pairs = order.map((k) => `${k}=${values.get(k)}`);
    const prefix = pairs.length > 0 ? `|${pairs.length} ${pairs.join(' ')}` : '';
    this.cache = { names, prefix };
    return this.cache;
  }
}
