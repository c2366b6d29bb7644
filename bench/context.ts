/**
 * Context hashing speed: COPY . of a generated context of 20,000 small files (200 directories), timed as
 * select (stat walk), cold hash (empty stat cache: every file read), warm hash with the SQLite stat cache
 * in a fresh store handle (no file read), warm with the in-memory cache, and a one-file change.
 * Not a test: it prints numbers (medians of `runs`).
 *
 *   npx tsc bench/context.ts --outDir node_modules/.bench --target es2022 --module nodenext \
 *     --moduleResolution nodenext --skipLibCheck --types node
 *   node node_modules/.bench/bench/context.js [files=20000] [runs=5]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BuildContext, hashSources, MemoryStatCache, openStatCache } from '../builder/index.js';
import { closeDatabases } from '../metadata/index.js';

const files = Number(process.argv[2] ?? 20000);
const runs = Number(process.argv[3] ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

async function main(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'tsbuild-bench-context-'));
  const ctx = join(base, 'ctx');
  const perDir = 100;
  for (let i = 0; i < files; i++) {
    const d = join(ctx, `dir${Math.floor(i / perDir)}`);
    if (i % perDir === 0) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `file${i}.txt`), `${'x'.repeat(100 + (i % 900))}\n${i}\n`);
  }
  // Let the new files age past the racy window before the cold run.
  await new Promise((r) => setTimeout(r, 300));

  const select: number[] = [];
  const cold: number[] = [];
  const warmSqlite: number[] = [];
  const warmMemory: number[] = [];
  const oneChange: number[] = [];
  let digest = '';
  for (let run = 0; run < runs; run++) {
    const root = join(base, `store${run}`);
    const [tSel, sel] = await time(() => new BuildContext(ctx).select(['.']));
    select.push(tSel);
    const [tCold, r1] = await time(() => hashSources(sel, { statCache: openStatCache(root) }));
    cold.push(tCold);
    if (r1.filesRead !== files) throw new Error(`cold run read ${r1.filesRead} files`);
    closeDatabases();
    const [tWarm, r2] = await time(async () => {
      const s = await new BuildContext(ctx).select(['.']);
      return hashSources(s, { statCache: openStatCache(root) });
    });
    warmSqlite.push(tWarm);
    if (r2.filesRead !== 0 || r2.digest !== r1.digest) throw new Error('warm run read files or changed the digest');
    digest = r2.digest;
    const memory = new MemoryStatCache();
    await hashSources(await new BuildContext(ctx).select(['.']), { statCache: memory });
    const [tMem] = await time(async () =>
      hashSources(await new BuildContext(ctx).select(['.']), { statCache: memory }),
    );
    warmMemory.push(tMem);
    writeFileSync(join(ctx, 'dir7', 'file700.txt'), `changed ${run}\n`);
    await new Promise((r) => setTimeout(r, 150));
    const [tOne, r3] = await time(async () => {
      const s = await new BuildContext(ctx).select(['.']);
      return hashSources(s, { statCache: openStatCache(root) });
    });
    oneChange.push(tOne);
    if (r3.filesRead !== 1) throw new Error(`one change read ${r3.filesRead} files`);
    closeDatabases();
  }
  const f = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
  console.log(`context: ${files} files in ${Math.ceil(files / perDir)} directories, median of ${runs} runs`);
  console.log(`  select (lstat walk, no reads)        ${f(select)}`);
  console.log(`  cold hash (every file read, SQLite)  ${f(cold)}`);
  console.log(`  warm select+hash (SQLite stat cache) ${f(warmSqlite)}`);
  console.log(`  warm select+hash (memory cache)      ${f(warmMemory)}`);
  console.log(`  one file changed (SQLite)            ${f(oneChange)}`);
  console.log(`  digest ${digest}`);
  rmSync(base, { recursive: true, force: true });
}

await main();
