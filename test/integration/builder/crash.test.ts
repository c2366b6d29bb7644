import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxFixture, requireRoot } from '../../helpers/prereqs.js';
import { readTarEntries, type TarEntry, tsb } from '../image/support.js';
import { cgroupsNamed, type KilledBuild, list, mountsOf, processAlive, runKilled, settle } from './crash-support.js';

let dir: string;
let archive: string;
let ctx: string;
let secret: string;

/**
 * A build with every kind of work a kill can interrupt: context hashing and a
 * COPY of ~1,500 files, a RUN that writes 1,500 files with a locked cache
 * mount, a writable bind of the context (an overlay of the build's) and a
 * secret (a tmpfs), a RUN that writes a large file, layer commit and export,
 * tagging. `files/nonce` selects which of a few variants is built.
 */
const DOCKERFILE = `FROM tsbuild-busybox
COPY files/ /files/
RUN --mount=type=cache,target=/cache,sharing=locked --mount=type=bind,source=data,target=/data,rw --mount=type=secret,id=s,target=/s sh -c 'cat /s > /dev/null && cp /data/blob /cache/blob && mkdir -p /gen && i=0; while [ $i -lt 1500 ]; do echo $i > /gen/f$i; i=$((i+1)); done; touch -d @0 /gen /gen/*'
RUN sh -c 'head -c 3000000 /dev/urandom > /big && cat /files/nonce >> /big && touch -d @0 /big'
`;

function writeContext(): void {
  ctx = join(dir, 'ctx');
  for (let d = 0; d < 15; d++) {
    mkdirSync(join(ctx, 'files', `d${d}`), { recursive: true });
    for (let i = 0; i < 100; i++) writeFileSync(join(ctx, 'files', `d${d}`, `f${i}`), `file ${d} ${i}\n`);
  }
  writeFileSync(join(ctx, 'files', 'big'), Buffer.alloc(2 * 1024 * 1024, 7));
  mkdirSync(join(ctx, 'data'));
  writeFileSync(join(ctx, 'data', 'blob'), Buffer.alloc(1024 * 1024, 3));
  writeFileSync(join(ctx, 'Dockerfile'), DOCKERFILE);
  secret = join(dir, 'secret');
  writeFileSync(secret, 'secret\n');
}

const buildArgs = (extra: string[] = []) => [
  'build',
  '--progress',
  'plain',
  '-t',
  'crash:1',
  '--secret',
  `id=s,src=${secret}`,
  '--build-arg',
  'SOURCE_DATE_EPOCH=0',
  ...extra,
  ctx,
];

function setNonce(nonce: string): void {
  writeFileSync(join(ctx, 'files', 'nonce'), `${nonce}\n`);
}

/** The image's ID from the build's plain progress. */
function imageId(output: string): string {
  const id = /writing image (sha256:[0-9a-f]{64})/.exec(output)?.[1];
  expect(id, output).toBeDefined();
  return id as string;
}

/** Where kills land: after the line that starts a phase, within the time that phase took in a build run to the end. */
const PHASES: { name: string; after?: RegExp; until: RegExp }[] = [
  { name: 'start and context hashing', until: /\[2\/4\] COPY/ },
  { name: 'COPY of 1,500 files', after: /\[2\/4\] COPY/, until: /\[3\/4\] RUN/ },
  { name: 'RUN with cache, bind and secret mounts', after: /\[3\/4\] RUN/, until: /\[4\/4\] RUN/ },
  { name: 'RUN writing a large file, commit', after: /\[4\/4\] RUN/, until: /exporting to image/ },
  { name: 'export and tagging', after: /exporting to image/, until: /naming to .* done/ },
];

function phaseLength(lines: { t: number; line: string }[], phase: (typeof PHASES)[number]): number {
  const at = (re: RegExp) => lines.find((l) => re.test(l.line))?.t;
  const from = phase.after ? at(phase.after) : 0;
  const to = at(phase.until);
  expect(from !== undefined && to !== undefined, `phase ${phase.name} in ${JSON.stringify(lines)}`).toBe(true);
  return Math.max(1, (to as number) - (from as number));
}

/** The rootfs of an image, as content: type, mode, owner, size, link and content digest by path (not times). */
async function rootfsOf(root: string, ref: string): Promise<Map<string, TarEntry>> {
  const out = join(
    dir,
    `rootfs-${createHash('sha256')
      .update(root + ref)
      .digest('hex')
      .slice(0, 8)}.tar`,
  );
  tsb(root, ['export', ref, '-o', out]);
  const entries = await readTarEntries(out);
  rmSync(out);
  return entries;
}

/** Blobs already found whole (a blob never changes once named). */
const verified = new Set<string>();

/** Blobs whose content is not their name (a half-written blob under blobs/). */
function corruptBlobs(root: string): string[] {
  const blobs = join(root, 'blobs', 'sha256');
  const bad: string[] = [];
  for (const hex of list(blobs)) {
    const path = join(blobs, hex);
    if (verified.has(path)) continue;
    if (createHash('sha256').update(readFileSync(path)).digest('hex') === hex) verified.add(path);
    else bad.push(hex);
  }
  return bad;
}

/** Blobs that neither an image nor the build cache refers to. */
function unreferencedBlobs(root: string): string[] {
  const db = new Database(join(root, 'tsbuild.db'), { readonly: true, fileMustExist: true });
  try {
    const keep = new Set(
      (
        db
          .prepare(`SELECT digest AS d FROM image_blobs UNION SELECT ref AS d FROM image_gc_roots WHERE kind = 'blob'`)
          .all() as { d: string }[]
      ).map((r) => r.d),
    );
    return list(join(root, 'blobs', 'sha256')).filter((hex) => !keep.has(`sha256:${hex}`));
  } finally {
    db.close();
  }
}

/** What a store holds in its tables, read directly. */
function tables(root: string): { holders: { pid: number }[]; rootsWithoutCache: number; cacheWithoutBlob: number } {
  const db = new Database(join(root, 'tsbuild.db'), { readonly: true, fileMustExist: true });
  try {
    const has = (t: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type='table' AND name=?`).get(t);
    const holders = has('cache_mount_holders')
      ? (db.prepare('SELECT pid FROM cache_mount_holders').all() as { pid: number }[])
      : [];
    // A build killed before it set up its tables leaves none.
    if (!has('build_cache')) return { holders, rootsWithoutCache: 0, cacheWithoutBlob: 0 };
    const rootsWithoutCache = (
      db
        .prepare(
          `SELECT count(*) AS n FROM image_gc_roots r WHERE r.owner LIKE 'cache:%'
           AND NOT EXISTS (SELECT 1 FROM build_cache c WHERE 'cache:' || c.key = r.owner)`,
        )
        .get() as { n: number }
    ).n;
    const blobs = new Set(list(join(root, 'blobs', 'sha256')).map((h) => `sha256:${h}`));
    const cacheWithoutBlob = (
      db.prepare('SELECT blob FROM build_cache WHERE blob IS NOT NULL').all() as { blob: string }[]
    ).filter((r) => !blobs.has(r.blob)).length;
    return { holders, rootsWithoutCache, cacheWithoutBlob };
  } finally {
    db.close();
  }
}

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync('/var/tmp/tsb-build-crash-it-');
  writeContext();
  // One base image, loaded from one archive into every root, so that every root has the same base ID.
  const seed = join(dir, 'seed');
  tsb(seed, ['import', busyboxFixture().tar, 'tsbuild-busybox:latest']);
  archive = join(dir, 'busybox.tar');
  tsb(seed, ['save', '-o', archive, 'tsbuild-busybox:latest']);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('crash safety of build', () => {
  it('a build killed at random moments leaves no mount, process or cgroup, and the next build and prune work', async () => {
    const reference = join(dir, 'reference');
    const root = join(dir, 'root');
    tsb(reference, ['load', '-q', '-i', archive]);
    tsb(root, ['load', '-q', '-i', archive]);

    // One uninterrupted build (the first in a fresh root: it also unpacks the base) sets the time scale.
    setNonce('n0');
    const first = await runKilled(reference, buildArgs());
    expect(first.status, first.output).toBe(0);
    const lengths = PHASES.map((p) => phaseLength(first.lines, p));

    // A few variants of the context: a variant's steps done by one attempt are cached for the
    // next attempt at it, so kills hit both fresh work and builds that reuse a killed build's cache.
    // A variant that was built to the end is replaced, so that attempts keep having work to do.
    let variants = ['n0', 'n1', 'n2'];
    let next = 3;
    const killedAt = new Map<string, number>();
    const killedBuilds: KilledBuild[] = [];
    let killed = 0;
    let attempts = 0;
    let staleHolders = 0;
    let leftMounted = 0;
    const stray: string[] = [];
    const perPhase = PHASES.map(() => 0);
    // Phases take turns, the one with the fewest kills first (a short phase may need a few tries).
    while ((killed < 8 || perPhase.includes(0)) && attempts < 40) {
      const phase = perPhase.indexOf(Math.min(...perPhase));
      attempts++;
      const variant = variants[Math.floor(Math.random() * variants.length)] as string;
      setNonce(variant);
      const at = { after: PHASES[phase]?.after, ms: Math.floor((lengths[phase] as number) * Math.random()) };
      const r = await runKilled(root, buildArgs(), at);
      if (!r.killed) {
        expect(r.status, r.output).toBe(0);
        variants = variants.map((v) => (v === variant ? `n${next++}` : v));
      } else {
        killed++;
        perPhase[phase] = (perPhase[phase] as number) + 1;
        killedAt.set(variant, (killedAt.get(variant) ?? 0) + 1);
        killedBuilds.push(r);
        // Right after the kill: no process of the build, no cgroup of it.
        const procs = await settle(() => [...r.helpers].filter(processAlive));
        stray.push(...procs.map((p) => `process ${p} of build ${r.pid}`));
        const cgroups = await settle(() => cgroupsNamed(r.cgroups));
        stray.push(...cgroups.map((c) => `cgroup ${c} of build ${r.pid}`));
        if (tables(root).holders.some((h) => h.pid === r.pid)) staleHolders++;
        if (mountsOf(dir, [r.pid]).length > 0) leftMounted++;
      }
      // Once a later build has run, nothing of an earlier killed build is mounted.
      if (!r.killed) {
        const pids = killedBuilds.map((b) => b.pid);
        stray.push(...mountsOf(dir, pids).map((m) => `mount ${m} after build ${r.pid} ran`));
      }
      // A cache entry never names a blob that is not there, nor a blob that is half written.
      expect(tables(root).cacheWithoutBlob).toBe(0);
      expect(corruptBlobs(root)).toEqual([]);
    }
    const summary = `${killed} of ${attempts} builds killed in flight; by phase ${perPhase}; ${killedBuilds.filter((b) => b.helpers.size).length} while a sandbox ran; ${leftMounted} left mounts; ${staleHolders} left a cache mount holder`;
    expect(killed, summary).toBeGreaterThanOrEqual(8);
    expect(perPhase.includes(0), summary).toBe(false);
    expect(stray).toEqual([]);

    // What the last kills left mounted, a prune removes.
    tsb(root, ['prune']);
    expect(
      mountsOf(
        dir,
        killedBuilds.map((b) => b.pid),
      ),
    ).toEqual([]);

    // The variant killed most often and never finished (its cache holds only what killed builds
    // finished) is built to the end.
    const unfinished = [...killedAt].filter(([v]) => variants.includes(v));
    const variant = (unfinished.length ? unfinished : [...killedAt]).sort((a, b) => b[1] - a[1])[0]?.[0] as string;
    setNonce(variant);
    const done = await runKilled(root, buildArgs());
    expect(done.status, done.output).toBe(0);
    const id = imageId(done.output);
    expect(
      mountsOf(
        dir,
        killedBuilds.map((b) => b.pid),
      ),
    ).toEqual([]);
    // Locked cache mounts held by killed builds did not block it (it finished); their rows are gone.
    expect(tables(root).holders).toEqual([]);
    // Built again: every step is cached, the same image.
    const again = await runKilled(root, buildArgs());
    expect(imageId(again.output)).toBe(id);
    // Its content is what an uninterrupted build in a fresh store makes, and what a build without the cache makes.
    const ref = await runKilled(reference, buildArgs());
    expect(ref.status, ref.output).toBe(0);
    const expected = await rootfsOf(reference, imageId(ref.output));
    const big = (m: Map<string, TarEntry>) => ({ ...m.get('big'), sha256: '' });
    const same = (m: Map<string, TarEntry>) => new Map([...m].filter(([p]) => p !== 'big'));
    const got = await rootfsOf(root, id);
    expect(same(got)).toEqual(same(expected));
    expect(big(got)).toEqual(big(expected));
    const fresh = await runKilled(root, buildArgs(['--no-cache']));
    expect(fresh.status, fresh.output).toBe(0);
    const rebuilt = await rootfsOf(root, imageId(fresh.output));
    expect(same(rebuilt)).toEqual(same(expected));
    expect(big(rebuilt)).toEqual(big(expected));

    // prune leaves nothing that nothing refers to: no stray blob, snapshot dir, staging or tmp file.
    tsb(root, ['prune']);
    const second = tsb(root, ['prune']).stdout;
    expect(second).toContain('Deleted 0 blobs and 0 snapshots');
    expect(corruptBlobs(root)).toEqual([]);
    const t = tables(root);
    expect(t.rootsWithoutCache).toBe(0);
    expect(t.cacheWithoutBlob).toBe(0);
    expect(list(join(root, 'tmp')).filter((n) => n !== 'snapshots')).toEqual([]);
    expect(list(join(root, 'tmp', 'snapshots'))).toEqual([]);
    const info = JSON.parse(tsb(root, ['info', '--format', 'json']).stdout);
    expect(info).toMatchObject({ Leases: 0, ActiveSnapshots: 0 });
    expect(list(join(root, 'snapshots')).length).toBe(info.Snapshots);
    expect(
      mountsOf(
        dir,
        killedBuilds.map((b) => b.pid),
      ),
    ).toEqual([]);
    // Every blob left is an image's or the build cache's.
    expect(unreferencedBlobs(root)).toEqual([]);
  }, 120_000);

  it('a build killed while its RUN holds a locked cache mount and a secret does not block the next one nor leave its mounts', async () => {
    const root = join(dir, 'locked');
    tsb(root, ['load', '-q', '-i', archive]);
    const context = join(dir, 'locked-ctx');
    mkdirSync(context);
    const dockerfile = (cmd: string) =>
      `FROM tsbuild-busybox\nRUN --mount=type=cache,id=shared,target=/c,sharing=locked --mount=type=secret,id=s ${cmd}\n`;
    writeFileSync(join(context, 'Dockerfile'), dockerfile('sh -c "echo held > /c/f && sleep 600"'));
    // Killed once the sandbox runs (its holder row is written before the sandbox starts).
    const args = ['build', '--progress', 'plain', '--secret', `id=s,src=${secret}`, context];
    const held = await runKilled(root, args, {
      after: /\[2\/2\] RUN/,
      ms: 1500,
    });
    expect(held.killed, held.output).toBe(true);
    expect(held.helpers.size, held.output).toBeGreaterThan(0);
    expect(tables(root).holders.map((h) => h.pid)).toEqual([held.pid]);
    expect(await settle(() => [...held.helpers].filter(processAlive))).toEqual([]);
    expect(await settle(() => cgroupsNamed(held.cgroups))).toEqual([]);
    // Its secret's tmpfs stays mounted until the next command that opens the store.
    expect(mountsOf(dir, [held.pid]).length).toBeGreaterThan(0);
    // The next build takes the same locked cache at once (a live holder would make it wait 600 s).
    writeFileSync(join(context, 'Dockerfile'), dockerfile('cat /c/f'));
    const next = await runKilled(root, args);
    expect(next.status, next.output).toBe(0);
    expect(next.output).toContain('held');
    expect(tables(root).holders).toEqual([]);
    expect(mountsOf(dir, [held.pid])).toEqual([]);
  }, 60_000);
});
