/**
 * copyInto (the COPY/ADD file op) on 20,000 files of 1 KiB and on one 500 MiB
 * file, next to `cp -a` of the same source, median of 3 runs each.
 *
 *   tsc bench/copy-into.ts --outDir .tmp/bench --target es2022 --module nodenext \
 *     --moduleResolution nodenext --skipLibCheck --types node && node .tmp/bench/bench/copy-into.js [dir]
 *
 * `dir` (default /var/tmp/tsbuild-bench-copy) holds the sources and the copies: pick the file system to measure.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BuildContext } from '../builder/context/index.js';
import { copyInto } from '../builder/ops/copy-into.js';

const base = process.argv[2] ?? '/var/tmp/tsbuild-bench-copy';
const small = join(base, 'ctx-small');
const big = join(base, 'ctx-big');

function prepare(): void {
  if (!existsSync(join(small, 'd199/f99'))) {
    const buf = Buffer.alloc(1024, 97);
    for (let d = 0; d < 200; d++) {
      mkdirSync(join(small, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(small, `d${d}`, `f${f}`), buf);
    }
  }
  if (!existsSync(join(big, 'big.bin'))) {
    mkdirSync(big, { recursive: true });
    const fd = openSync(join(big, 'big.bin'), 'w');
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7919) & 255;
    for (let i = 0; i < 500; i++) writeSync(fd, chunk);
    closeSync(fd);
  }
  execFileSync('sync');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function tsbuild(ctxDir: string, source: string): Promise<{ select: number; copy: number }> {
  const sel: number[] = [];
  const cp: number[] = [];
  for (let i = 0; i < 3; i++) {
    const root = join(base, 'root');
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root);
    const t0 = performance.now();
    const selected = await new BuildContext(ctxDir).select([source]);
    const t1 = performance.now();
    await copyInto({
      root,
      items: selected.map((s) => ({ kind: 'selected' as const, source: s, preserveOwnership: false })),
      dest: '/app/',
      workdir: '/',
      unpack: false,
      instruction: 'COPY',
    });
    sel.push(t1 - t0);
    cp.push(performance.now() - t1);
    rmSync(root, { recursive: true, force: true });
  }
  return { select: median(sel), copy: median(cp) };
}

function cpA(src: string): number {
  const ts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const root = join(base, 'root-cp');
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root);
    const t0 = performance.now();
    execFileSync('cp', ['-a', src, join(root, 'app')]);
    ts.push(performance.now() - t0);
    rmSync(root, { recursive: true, force: true });
  }
  return median(ts);
}

prepare();
console.log(`load: ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`);
for (const [name, dir, source, cpSource] of [
  ['20,000 x 1 KiB', small, '.', small],
  ['1 x 500 MiB', big, 'big.bin', join(big, 'big.bin')],
] as const) {
  const t = await tsbuild(dir, source);
  const c = cpA(cpSource);
  console.log(
    `${name}: select ${t.select.toFixed(0)} ms, copyInto ${t.copy.toFixed(0)} ms, cp -a ${c.toFixed(0)} ms (ratio ${(c / t.copy).toFixed(2)})`,
  );
}
