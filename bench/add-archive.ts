/**
 * ADD of a local archive (copyInto with unpack) in process: a tar of 20,000
 * files of 1 KiB and a tar of one 200 MiB file, plain and gzip, next to GNU
 * `tar -xf` of the same archive, median of 5 runs each.
 *
 *   tsc bench/add-archive.ts --outDir .tmp/bench --target es2022 --module nodenext \
 *     --moduleResolution nodenext --skipLibCheck --types node && node .tmp/bench/bench/add-archive.js [dir]
 *
 * `dir` (default /var/tmp/tsbuild-bench-add) holds the archives and the unpacked copies: pick the file system to measure.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BuildContext } from '../builder/context/index.js';
import { copyInto } from '../builder/ops/copy-into.js';

const base = process.argv[2] ?? '/var/tmp/tsbuild-bench-add';
const ctx = join(base, 'ctx');
const RUNS = Number(process.env.RUNS ?? 5);

function prepare(): void {
  mkdirSync(ctx, { recursive: true });
  if (!existsSync(join(ctx, 'small.tar'))) {
    const src = join(base, 'src-small');
    const buf = Buffer.alloc(1024, 97);
    for (let d = 0; d < 200; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(src, `d${d}`, `f${f}`), buf);
    }
    execFileSync('tar', ['-C', src, '-cf', join(ctx, 'small.tar'), '.']);
    execFileSync('sh', ['-c', `gzip -1 -c "${ctx}/small.tar" > "${ctx}/small.tar.gz"`]);
    rmSync(src, { recursive: true, force: true });
  }
  if (!existsSync(join(ctx, 'big.tar'))) {
    const src = join(base, 'src-big');
    mkdirSync(src, { recursive: true });
    const fd = openSync(join(src, 'big.bin'), 'w');
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7919) & 255;
    for (let i = 0; i < 200; i++) writeSync(fd, chunk);
    closeSync(fd);
    execFileSync('tar', ['-C', src, '-cf', join(ctx, 'big.tar'), '.']);
    execFileSync('sh', ['-c', `gzip -1 -c "${ctx}/big.tar" > "${ctx}/big.tar.gz"`]);
    rmSync(src, { recursive: true, force: true });
  }
  execFileSync('sync');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function freshRoot(): string {
  const root = join(base, 'root');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root);
  return root;
}

async function tsbuild(archive: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const root = freshRoot();
    const selected = await new BuildContext(ctx).select([archive]);
    const t0 = performance.now();
    await copyInto({
      root,
      items: selected.map((s) => ({ kind: 'selected' as const, source: s, preserveOwnership: false })),
      dest: '/app/',
      workdir: '/',
      unpack: true,
      instruction: 'ADD',
    });
    times.push(performance.now() - t0);
  }
  return median(times);
}

function gnuTar(archive: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const root = freshRoot();
    mkdirSync(join(root, 'app'));
    const t0 = performance.now();
    execFileSync('tar', ['-C', join(root, 'app'), '-xf', join(ctx, archive)]);
    times.push(performance.now() - t0);
  }
  return median(times);
}

prepare();
console.log(`archive            tsbuild ADD   tar -xf   (median of ${RUNS}, ms)`);
for (const archive of ['small.tar', 'small.tar.gz', 'big.tar', 'big.tar.gz']) {
  const ours = await tsbuild(archive);
  const theirs = gnuTar(archive);
  console.log(`${archive.padEnd(18)} ${ours.toFixed(0).padStart(11)} ${theirs.toFixed(0).padStart(9)}`);
}
rmSync(join(base, 'root'), { recursive: true, force: true });
