import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabases } from '../../../metadata/index.js';
import { applyLayer, openSnapshotter } from '../../../snapshotter/index.js';
import { requireRoot } from '../../helpers/prereqs.js';
import { tempDir } from '../../unit/snapshotter/helpers.js';

beforeAll(() => requireRoot());

const DIST = fileURLToPath(new URL('../../../dist/snapshotter/index.js', import.meta.url));

/** A child that applies a generated ~40 MB layer (2,000 files) and squashes, in a store it shares with the test. */
const CHILD = `
import { Readable } from 'node:stream';
import { applyLayer, openSnapshotter, squash } from ${JSON.stringify(DIST)};
const [root, driver] = process.argv.slice(2);
function header(name, size) {
  const b = Buffer.alloc(512);
  b.write(name, 0); b.write('0000644\\0', 100); b.write('0000000\\0', 108); b.write('0000000\\0', 116);
  b.write(size.toString(8).padStart(11, '0') + '\\0', 124); b.write('14000000000\\0', 136); b.write('0', 156);
  b.write('ustar\\x0000', 257, 'binary'); b.fill(0x20, 148, 156);
  let s = 0; for (const x of b) s += x; b.write(s.toString(8).padStart(6, '0') + '\\0 ', 148);
  return b;
}
async function* layer(tag) {
  for (let i = 0; i < 2000; i++) {
    const size = 20480;
    yield header('d' + (i % 20) + '/' + tag + i, size);
    yield Buffer.alloc(size, i % 251);
  }
  yield Buffer.alloc(1024);
}
const sn = await openSnapshotter(root, { driver });
await sn.cleanup();
await applyLayer(sn, { name: 'l1', layer: Readable.from(layer('a')) });
await applyLayer(sn, { name: 'l2', parent: 'l1', layer: Readable.from(layer('b')) });
await squash(sn, { names: ['l1', 'l2'], name: 'sq' });
process.stdout.write('done');
`;

describe.each(['overlay', 'naive'] as const)('kill -9 during apply and squash (%s)', (driver) => {
  let dir: string;
  let remove: () => void;
  beforeEach(() => {
    ({ dir, remove } = tempDir());
  });
  afterEach(() => {
    closeDatabases();
    remove();
  });

  const run = (script: string, root: string, killAfter?: number) =>
    new Promise<{ out: string; killed: boolean }>((done) => {
      const child = spawn(process.execPath, [script, root, driver], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      const timer = killAfter === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfter);
      child.on('exit', (_code, signal) => {
        clearTimeout(timer);
        done({ out, killed: signal === 'SIGKILL' });
      });
    });

  it('leaves a store that cleanup() repairs and the next run completes', async () => {
    const script = join(dir, 'child.mjs');
    writeFileSync(script, CHILD);
    const root = join(dir, 'store');
    let kills = 0;
    for (let i = 0; i < 8; i++) {
      const r = await run(script, root, 30 + Math.floor(Math.random() * 1500));
      if (r.killed) kills++;
    }
    expect(kills).toBeGreaterThan(0);
    const finished = await run(script, root);
    expect(finished.out).toBe('done');
    const sn = await openSnapshotter(root, { driver });
    await sn.cleanup();
    const left: string[] = [];
    await sn.walk((i) => {
      left.push(`${i.kind}:${i.name}`);
    });
    expect(left.sort()).toEqual(['committed:l1', 'committed:l2', 'committed:sq']);
    expect(readdirSync(join(root, 'snapshots')).length).toBe(3);
    expect(readdirSync(join(root, 'tmp', 'snapshots'))).toEqual([]);
    // Idempotent: the layer is already there.
    const again = await applyLayer(sn, { name: 'l1', layer: (async function* () {})() });
    expect(again.diffId).toMatch(/^sha256:/);
  }, 300_000);
});
