/**
 * Context hashing speed: COPY . of a generated context of 20,000 small files (200 directories), timed as
 * select (stat walk), cold hash (empty stat cache: every file read), warm hash with the SQLite stat cache
 * in a fresh store handle (no file read), warm with the in-memory cache, and a one-file change; then the
 * warm select+hash in a fresh node process each time, as a cached `tsbuild build` runs it (cold JIT, small
 * heap). Not a test: it prints numbers (medians of `runs`). `TSBUILD_CONTEXT_NATIVE=0` times the
 * readdirSync/lstatSync path instead of the addon (builder/context/native), when that is built.
 *
 *   npx tsc bench/context.ts --outDir .tmp/bench --target es2022 --module nodenext \
 *     --moduleResolution nodenext --skipLibCheck --types node
 *   node .tmp/bench/bench/context.js [files=20000] [runs=5]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { contextAddon } from '../builder/context/native-list.js';
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

/** `--once <ctx> <root>`: one warm select+hash in this (fresh) process; prints its wall time in ms. */
async function once(ctx: string, root: string): Promise<void> {
  const t0 = performance.now();
  const r = await hashSources(await new BuildContext(ctx).select(['.']), { statCache: openStatCache(root) });
  const t = performance.now() - t0;
  if (r.filesRead !== 0) throw new Error(`a warm run read ${r.filesRead} files`);
  closeDatabases();
  console.log(t.toFixed(1));
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
  const fresh: number[] = [];
  // The last run's store has seen the last change; one untimed run settles it.
  const root = join(base, `store${runs - 1}`);
  await hashSources(await new BuildContext(ctx).select(['.']), { statCache: openStatCache(root) });
  closeDatabases();
  for (let run = 0; run < runs; run++) {
    const out = execFileSync(process.execPath, [process.argv[1] as string, '--once', ctx, root], { encoding: 'utf8' });
    fresh.push(Number(out.trim()));
  }
  const f = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
  const lister = contextAddon() ? 'native listStats' : 'readdirSync + lstatSync';
  console.log(`context: ${files} files in ${Math.ceil(files / perDir)} directories, median of ${runs} runs, ${lister}`);
  console.log(`  select (lstat walk, no reads)        ${f(select)}`);
  console.log(`  cold hash (every file read, SQLite)  ${f(cold)}`);
  console.log(`  warm select+hash (SQLite stat cache) ${f(warmSqlite)}`);
  console.log(`  warm select+hash (memory cache)      ${f(warmMemory)}`);
  console.log(`  one file changed (SQLite)            ${f(oneChange)}`);
  console.log(`  warm select+hash, fresh process      ${f(fresh)}`);
  console.log(`  digest ${digest}`);
  rmSync(base, { recursive: true, force: true });
}

if (process.argv[2] === '--once') await once(process.argv[3] as string, process.argv[4] as string);
else await main();
