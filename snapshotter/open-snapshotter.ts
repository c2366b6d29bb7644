import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { ownerToken } from '../metadata/index.js';
import { removeTree } from './_fs.js';
import { SnapshotError } from './errors.js';
import { openSnapshotDatabase } from './metadata.js';
import { mountAll, unmountAll } from './mount.js';
import { NaiveSnapshotter } from './naive.js';
import { fsOps } from './native.js';
import { OVERLAY_OPTIONS, OverlaySnapshotter } from './overlay.js';
import type { Snapshotter } from './types.js';

export interface OpenSnapshotterOptions {
  /** `auto` (default): overlay when it works on this root (probed once, cached in the store), else naive. */
  driver?: 'overlay' | 'naive' | 'auto';
}

interface ProbeResult {
  ok: boolean;
  kernel: string;
  reason?: string;
}

const probed = new Map<string, ProbeResult>();

/** Opens the snapshotter of a store root. */
export async function openSnapshotter(root: string, options: OpenSnapshotterOptions = {}): Promise<Snapshotter> {
  const driver = options.driver ?? 'auto';
  if (driver === 'naive') return new NaiveSnapshotter(root);
  const probe = await probeOverlay(root);
  if (probe.ok) return new OverlaySnapshotter(root);
  if (driver === 'overlay') {
    throw new SnapshotError('TSB_SNAPSHOT_DRIVER', `the overlay driver does not work on ${root}: ${probe.reason}`);
  }
  return new NaiveSnapshotter(root);
}

/**
 * Whether overlay works on this root: root privileges, a real overlay mount with
 * two lowers, whiteouts (char 0/0) and opaque dirs honoured. The result is kept in
 * the store (snapshot_settings) for this kernel release, and in memory.
 */
export async function probeOverlay(root: string): Promise<ProbeResult> {
  const kernel = release();
  const cached = probed.get(root);
  if (cached && cached.kernel === kernel) return cached;
  const db = openSnapshotDatabase(root);
  const row = db.prepare(`SELECT value FROM snapshot_settings WHERE name = 'overlay_probe'`).get() as
    | { value: string }
    | undefined;
  if (row) {
    const stored = JSON.parse(row.value) as ProbeResult;
    if (stored.kernel === kernel) {
      probed.set(root, stored);
      return stored;
    }
  }
  const result = await runProbe(root, kernel);
  db.prepare(
    `INSERT INTO snapshot_settings (name, value) VALUES ('overlay_probe', ?)
     ON CONFLICT(name) DO UPDATE SET value = excluded.value`,
  ).run(JSON.stringify(result));
  probed.set(root, result);
  return result;
}

async function runProbe(root: string, kernel: string): Promise<ProbeResult> {
  if (process.getuid?.() !== 0) return { ok: false, kernel, reason: 'overlay mounts need root' };
  const tmp = join(root, 'tmp', 'snapshots');
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const dir = join(tmp, `probe-${ownerToken()}-${Date.now()}`);
  const [l1, l2, upper, work, merged] = ['l1', 'l2', 'upper', 'work', 'merged'].map((d) => join(dir, d)) as [
    string,
    string,
    string,
    string,
    string,
  ];
  try {
    for (const d of [l1, l2, upper, work, merged]) mkdirSync(d, { recursive: true });
    mkdirSync(join(l2, 'd'));
    writeFileSync(join(l2, 'gone'), 'x');
    writeFileSync(join(l2, 'd', 'hidden'), 'x');
    writeFileSync(join(l1, 'a'), 'a');
    const ops = fsOps();
    ops.mknod(join(upper, 'gone'), 0o020000, 0, 0);
    mkdirSync(join(upper, 'd'));
    ops.setXattr(join(upper, 'd'), 'trusted.overlay.opaque', Buffer.from('y'));
    await mountAll(
      [
        {
          type: 'overlay',
          source: 'overlay',
          options: [...OVERLAY_OPTIONS, `workdir=${work}`, `upperdir=${upper}`, `lowerdir=${l1}:${l2}`],
        },
      ],
      merged,
    );
    try {
      const a = readFileSync(join(merged, 'a'), 'utf8');
      const gone = tryRead(join(merged, 'gone'));
      const hidden = tryRead(join(merged, 'd', 'hidden'));
      if (a !== 'a' || gone !== undefined || hidden !== undefined) {
        return { ok: false, kernel, reason: 'overlay does not honour whiteouts or opaque dirs' };
      }
    } finally {
      await unmountAll(merged);
    }
    return { ok: true, kernel };
  } catch (err) {
    return { ok: false, kernel, reason: (err as Error).message };
  } finally {
    await removeTree(dir);
  }
}

function tryRead(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}
