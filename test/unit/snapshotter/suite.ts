import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabases } from '../../../metadata/index.js';
import { type Mount, mountAll, type Snapshotter, unmountAll } from '../../../snapshotter/index.js';
import { OWNER_PID_LABEL } from '../../../snapshotter/snapshot-store.js';
import { tempDir } from './helpers.js';

export interface SuiteOptions {
  /** Mount for real (integration); otherwise bind mounts are used through their source dirs. */
  realMounts: boolean;
}

/**
 * containerd's SnapshotterSuite idea: one set of checks that every driver passes.
 */
export function snapshotterSuite(driver: string, open: (root: string) => Promise<Snapshotter>, o: SuiteOptions): void {
  describe(`snapshotter conformance (${driver})`, () => {
    let root: string;
    let remove: () => void;
    let sn: Snapshotter;
    const targets: string[] = [];

    beforeEach(async () => {
      ({ dir: root, remove } = tempDir());
      sn = await open(join(root, 'store'));
    });
    afterEach(async () => {
      for (const t of targets.splice(0)) await unmountAll(t);
      closeDatabases();
      remove();
    });

    async function within<T>(mounts: Mount[], fn: (dir: string) => T | Promise<T>): Promise<T> {
      const only = mounts[0];
      if (!o.realMounts && mounts.length === 1 && only?.type === 'bind') return fn(only.source);
      const target = join(root, `mnt-${targets.length}`);
      mkdirSync(target);
      targets.push(target);
      await mountAll(mounts, target);
      try {
        return await fn(target);
      } finally {
        await unmountAll(target);
      }
    }

    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return 'no error';
    };

    it('prepare, commit and view show the parent chain', async () => {
      await within(await sn.prepare('k1'), (d) => writeFileSync(join(d, 'a'), 'A'));
      await sn.commit('base', 'k1');
      await within(await sn.prepare('k2', 'base'), (d) => {
        expect(readFileSync(join(d, 'a'), 'utf8')).toBe('A');
        writeFileSync(join(d, 'b'), 'B');
      });
      await sn.commit('top', 'k2');
      const view = await sn.view('v', 'top');
      await within(view, (d) => {
        expect(readdirSync(d).sort()).toEqual(['a', 'b']);
        // Read-only only when really mounted; through the bind source it would write into the parent.
        if (o.realMounts) expect(() => writeFileSync(join(d, 'c'), 'C')).toThrow();
      });
      expect((await sn.stat('top')).parent).toBe('base');
      expect((await sn.stat('v')).kind).toBe('view');
      expect(await sn.mounts('v')).toEqual(view);
    });

    it('mounts of an active snapshot are stable and writable', async () => {
      await within(await sn.prepare('k1'), (d) => writeFileSync(join(d, 'x'), '1'));
      await sn.commit('base', 'k1');
      const m = await sn.prepare('k2', 'base');
      expect(await sn.mounts('k2')).toEqual(m);
      await within(m, (d) => {
        writeFileSync(join(d, 'x'), '2');
      });
      await within(await sn.mounts('k2'), (d) => expect(readFileSync(join(d, 'x'), 'utf8')).toBe('2'));
      await within(await sn.view('v', 'base'), (d) => expect(readFileSync(join(d, 'x'), 'utf8')).toBe('1'));
    });

    it('reports typed errors for bad keys, parents and kinds', async () => {
      await sn.prepare('k1');
      expect(await code(sn.prepare('k1'))).toBe('TSB_SNAPSHOT_EXISTS');
      expect(await code(sn.prepare('k2', 'missing'))).toBe('TSB_SNAPSHOT_NOT_FOUND');
      expect(await code(sn.prepare('k2', 'k1'))).toBe('TSB_SNAPSHOT_INVALID');
      expect(await code(sn.stat('nope'))).toBe('TSB_SNAPSHOT_NOT_FOUND');
      expect(await code(sn.mounts('nope'))).toBe('TSB_SNAPSHOT_NOT_FOUND');
      expect(await code(sn.commit('x', 'nope'))).toBe('TSB_SNAPSHOT_NOT_FOUND');
      await sn.commit('base', 'k1');
      expect(await code(sn.mounts('base'))).toBe('TSB_SNAPSHOT_INVALID');
      await sn.view('v', 'base');
      expect(await code(sn.commit('x', 'v'))).toBe('TSB_SNAPSHOT_INVALID');
      await sn.prepare('k3');
      expect(await code(sn.commit('base', 'k3'))).toBe('TSB_SNAPSHOT_EXISTS');
      expect(await code(sn.prepare(''))).toBe('TSB_SNAPSHOT_INVALID');
    });

    it('remove refuses a snapshot with children and frees its directory', async () => {
      await sn.prepare('k1');
      await sn.commit('base', 'k1');
      await sn.prepare('child', 'base');
      expect(await code(sn.remove('base'))).toBe('TSB_SNAPSHOT_IN_USE');
      await sn.remove('child');
      await sn.remove('base');
      expect(await code(sn.stat('base'))).toBe('TSB_SNAPSHOT_NOT_FOUND');
      expect(readdirSync(join(root, 'store', 'snapshots'))).toEqual([]);
      await sn.prepare('k1');
      expect((await sn.stat('k1')).kind).toBe('active');
    });

    it('walk lists every snapshot with kind, parent and labels', async () => {
      await sn.prepare('k1', undefined, { labels: { a: '1' } });
      await sn.commit('base', 'k1', { labels: { b: '2' } });
      await sn.prepare('k2', 'base');
      await sn.view('v', 'base');
      const seen: string[] = [];
      await sn.walk((i) => {
        seen.push(`${i.kind}:${i.name}:${i.parent ?? '-'}`);
      });
      expect(seen.sort()).toEqual(['active:k2:base', 'committed:base:-', 'view:v:base']);
      expect((await sn.stat('base')).labels).toEqual({ a: '1', b: '2' });
    });

    it('usage counts the bytes and inodes a snapshot adds', async () => {
      await within(await sn.prepare('k1'), (d) => {
        writeFileSync(join(d, 'big'), Buffer.alloc(1 << 20, 1));
        mkdirSync(join(d, 'dir'));
      });
      const active = await sn.usage('k1');
      await sn.commit('base', 'k1');
      const committed = await sn.usage('base');
      expect(committed.size).toBeGreaterThanOrEqual(1 << 20);
      expect(committed.inodes).toBe(2);
      expect(active).toEqual(committed);
    });

    it('mounts 130 layers', async () => {
      let parent: string | undefined;
      for (let i = 0; i < 130; i++) {
        await within(await sn.prepare(`k${i}`, parent), (d) => writeFileSync(join(d, `f${i}`), String(i)));
        await sn.commit(`layer-${i}`, `k${i}`);
        parent = `layer-${i}`;
      }
      const m = await sn.prepare('top', parent);
      await within(m, (d) => {
        expect(readdirSync(d).length).toBe(130);
        expect(readFileSync(join(d, 'f0'), 'utf8')).toBe('0');
        expect(readFileSync(join(d, 'f129'), 'utf8')).toBe('129');
      });
    }, 120_000);

    it('cleanup removes orphans, dead staging dirs and snapshots of dead owners', async () => {
      await sn.prepare('k1');
      await sn.commit('base', 'k1');
      await sn.prepare('live', 'base');
      await sn.prepare('dead', 'base', { labels: { [OWNER_PID_LABEL]: '999999999' } });
      await sn.prepare('mine', 'base', { labels: { [OWNER_PID_LABEL]: String(process.pid) } });
      const store = join(root, 'store');
      mkdirSync(join(store, 'snapshots', '9999', 'fs'), { recursive: true });
      mkdirSync(join(store, 'tmp', 'snapshots', '999999999-abcdef', 'fs'), { recursive: true });
      mkdirSync(join(store, 'tmp', 'snapshots', `${process.pid}-abcdef`), { recursive: true });
      await sn.cleanup();
      expect(existsSync(join(store, 'snapshots', '9999'))).toBe(false);
      expect(existsSync(join(store, 'tmp', 'snapshots', '999999999-abcdef'))).toBe(false);
      expect(existsSync(join(store, 'tmp', 'snapshots', `${process.pid}-abcdef`))).toBe(true);
      expect(await code(sn.stat('dead'))).toBe('TSB_SNAPSHOT_NOT_FOUND');
      for (const k of ['base', 'live', 'mine']) expect((await sn.stat(k)).name).toBe(k);
      await within(await sn.mounts('live'), (d) => expect(readdirSync(d)).toEqual([]));
    });

    it('cleanup drops rows whose directory vanished', async () => {
      await sn.prepare('k1');
      const info = readdirSync(join(root, 'store', 'snapshots'));
      for (const id of info) {
        const { rmSync } = await import('node:fs');
        rmSync(join(root, 'store', 'snapshots', id), { recursive: true });
      }
      await sn.cleanup();
      expect(await code(sn.stat('k1'))).toBe('TSB_SNAPSHOT_NOT_FOUND');
    });

    it('two handles on one root see each other', async () => {
      const other = await open(join(root, 'store'));
      await Promise.all([sn.prepare('a'), other.prepare('b')]);
      expect((await other.stat('a')).kind).toBe('active');
      expect(await code(other.prepare('a'))).toBe('TSB_SNAPSHOT_EXISTS');
    });
  });
}
