import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildContext, type SelectOptions } from '../../../../builder/context/index.js';
import { type CopyIntoOptions, type CopyResult, copyInto } from '../../../../builder/ops/copy-into.js';

export interface Sandbox {
  base: string;
  /** The build context. */
  ctx: string;
  /** The image root copied into. */
  root: string;
  /** A directory beside the root that nothing may touch. */
  outside: string;
  cleanup(): void;
}

export function sandbox(): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'tsb-copy-'));
  const ctx = join(base, 'ctx');
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  for (const d of [ctx, root, outside]) mkdirSync(d);
  return { base, ctx, root, outside, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/** COPY from the context: selects `sources` and copies them to `dest`. */
export async function copyFromContext(
  sb: Sandbox,
  sources: string[],
  dest: string,
  extra: Partial<CopyIntoOptions> = {},
  select: SelectOptions = {},
  contextDir = sb.ctx,
  preserveOwnership = false,
): Promise<CopyResult> {
  const selected = await new BuildContext(contextDir, { preserveOwnership }).select(sources, select);
  return copyInto({
    root: sb.root,
    items: selected.map((source) => ({ kind: 'selected' as const, source, preserveOwnership })),
    dest,
    workdir: '/',
    unpack: false,
    instruction: 'COPY',
    ...extra,
  });
}

/** `path type mode [-> target | size]` lines for a tree, sorted: a compact picture to compare. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, r);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isSymbolicLink()) out.push(`${r} l ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${r} d ${mode}`);
        walk(r);
      } else if (st.isFile()) out.push(`${r} f ${mode} ${readFileSync(p, 'utf8')}`);
      else out.push(`${r} ? ${mode}`);
    }
  };
  walk('');
  return out;
}

export function mode(p: string): number {
  return lstatSync(p).mode & 0o7777;
}
