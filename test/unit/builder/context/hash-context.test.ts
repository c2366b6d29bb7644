import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabases, openDatabase } from '../../../../metadata/index.js';
import {
  BuildContext,
  type ContextFs,
  digestFile,
  hashContextSources,
  hashSources,
  MemoryStatCache,
  nodeContextFs,
  openStatCache,
  SqliteStatCache,
} from './helpers.js';

let dir: string;
let ctxDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-hash-'));
  ctxDir = join(dir, 'ctx');
  mkdirSync(ctxDir);
});
afterEach(() => {
  closeDatabases();
  rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(ctxDir, p)), { recursive: true });
    writeFileSync(join(ctxDir, p), content);
  }
}

/** Lets freshly written files age past a clock skew, so that a zero racy window trusts them. */
const age = () => new Promise((r) => setTimeout(r, 20));

/** A ContextFs that counts file reads. */
function countingFs(): ContextFs & { reads: string[] } {
  const reads: string[] = [];
  return {
    ...nodeContextFs,
    reads,
    readChunks: (p, onChunk) => {
      reads.push(p);
      return nodeContextFs.readChunks(p, onChunk);
    },
    createReadStream: (p) => {
      reads.push(p);
      return nodeContextFs.createReadStream(p);
    },
  };
}

async function digestOf(sources: string[], options: Parameters<typeof hashContextSources>[2] = {}) {
  return (await hashContextSources(new BuildContext(ctxDir, { fs: options.fs }), sources, options)).digest;
}

describe('context content hashing', () => {
  it('the same content gives the same digest, and changing one byte changes it', async () => {
    tree({ 'src/a': 'hello', 'src/b': 'world' });
    const first = await digestOf(['src']);
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await digestOf(['src'])).toBe(first);
    writeFileSync(join(ctxDir, 'src/b'), 'worle');
    expect(await digestOf(['src'])).not.toBe(first);
  });

  it('touching mtime does not change the digest', async () => {
    tree({ 'src/a': 'hello' });
    const before = await digestOf(['src']);
    utimesSync(join(ctxDir, 'src/a'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    utimesSync(join(ctxDir, 'src'), new Date(2002, 1, 1), new Date(2002, 1, 1));
    expect(await digestOf(['src'])).toBe(before);
  });

  it('mode, names, symlink targets and empty directories change the digest', async () => {
    tree({ 'src/a': 'x' });
    const base = await digestOf(['src']);
    chmodSync(join(ctxDir, 'src/a'), 0o755);
    const moded = await digestOf(['src']);
    expect(moded).not.toBe(base);
    mkdirSync(join(ctxDir, 'src/empty'));
    const withDir = await digestOf(['src']);
    expect(withDir).not.toBe(moded);
    symlinkSync('a', join(ctxDir, 'src/l'));
    const withLink = await digestOf(['src']);
    expect(withLink).not.toBe(withDir);
    rmSync(join(ctxDir, 'src/l'));
    symlinkSync('b', join(ctxDir, 'src/l'));
    expect(await digestOf(['src'])).not.toBe(withLink);
  });

  it('the digest covers the matched paths: another source or order differs, another spelling does not', async () => {
    tree({ a: '1', b: '2' });
    expect(await digestOf(['a', 'b'])).not.toBe(await digestOf(['b', 'a']));
    expect(await digestOf(['a'])).not.toBe(await digestOf(['b']));
    expect(await digestOf(['./a', '/b'])).toBe(await digestOf(['a', '../b']));
  });

  it('sets the content digest of every file', async () => {
    tree({ 'd/a': 'hello' });
    const sel = await new BuildContext(ctxDir).select(['d']);
    await hashSources(sel);
    expect(sel[0]?.entries[0]?.digest).toBe('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it('the stat cache avoids reading unchanged files', async () => {
    tree({ 'src/a': 'a', 'src/b': 'b', 'src/c': 'c' });
    await age();
    const cache = new MemoryStatCache();
    const fs = countingFs();
    const cold = await hashContextSources(new BuildContext(ctxDir, { fs }), ['src'], {
      fs,
      statCache: cache,
      racyWindowMs: 0,
    });
    expect(cold).toMatchObject({ files: 3, filesRead: 3, cacheHits: 0, bytesRead: 3 });
    expect(fs.reads).toHaveLength(3);
    fs.reads.length = 0;
    const warm = await hashContextSources(new BuildContext(ctxDir, { fs }), ['src'], {
      fs,
      statCache: cache,
      racyWindowMs: 0,
    });
    expect(warm).toMatchObject({ files: 3, filesRead: 0, cacheHits: 3, digest: cold.digest });
    expect(fs.reads).toEqual([]);
    writeFileSync(join(ctxDir, 'src/b'), 'B');
    await age();
    const changed = await hashContextSources(new BuildContext(ctxDir, { fs }), ['src'], {
      fs,
      statCache: cache,
      racyWindowMs: 0,
    });
    expect(fs.reads).toEqual([join(ctxDir, 'src/b')]);
    expect(changed.digest).not.toBe(cold.digest);
  });

  it('a file changed just before it was hashed is read again (racily clean)', async () => {
    tree({ a: 'a' });
    const cache = new MemoryStatCache();
    const fs = countingFs();
    await hashContextSources(new BuildContext(ctxDir, { fs }), ['a'], { fs, statCache: cache, racyWindowMs: 60_000 });
    const again = await hashContextSources(new BuildContext(ctxDir, { fs }), ['a'], {
      fs,
      statCache: cache,
      racyWindowMs: 60_000,
    });
    expect(again.filesRead).toBe(1);
    expect(fs.reads).toHaveLength(2);
  });

  it('the stat cache persists in the store database', async () => {
    tree({ 'src/a': 'a', 'src/b': 'b' });
    await age();
    const root = join(dir, 'store');
    const first = await hashContextSources(new BuildContext(ctxDir), ['src'], {
      statCache: openStatCache(root),
      racyWindowMs: 0,
    });
    expect(first.filesRead).toBe(2);
    closeDatabases();
    const fs = countingFs();
    const second = await hashContextSources(new BuildContext(ctxDir, { fs }), ['src'], {
      fs,
      statCache: openStatCache(root),
      racyWindowMs: 0,
    });
    expect(second).toMatchObject({ filesRead: 0, cacheHits: 2, digest: first.digest });
    // One packed set of records for the context directory.
    const rows = openDatabase(join(root, 'tsbuild.db')).prepare('SELECT dir FROM context_stat_sets').all();
    expect(rows).toEqual([{ dir: ctxDir }]);
    const direct = openStatCache(root);
    expect(direct).toBeInstanceOf(SqliteStatCache);
    const sel = await new BuildContext(ctxDir).select(['src/a']);
    const e = sel[0]?.root;
    if (!e) throw new Error('src/a not selected');
    const key = { absPath: e.absPath, dev: e.dev, ino: e.ino, size: e.size, mtimeNs: e.mtimeNs, ctimeNs: e.ctimeNs };
    expect(direct.get(key)?.digest).toBe('sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    expect(direct.get({ ...key, mtimeNs: e.mtimeNs + 1000 })).toBeUndefined();
    expect(direct.get({ ...key, size: 2 })).toBeUndefined();
    expect(openStatCache()).toBeInstanceOf(MemoryStatCache);
  });

  it('large files are streamed, not read whole', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    writeFileSync(join(ctxDir, 'big'), big);
    let whole = 0;
    let streamed = 0;
    const fs: ContextFs = {
      ...nodeContextFs,
      readChunks: (p, onChunk) => {
        whole++;
        return nodeContextFs.readChunks(p, onChunk);
      },
      createReadStream: (p) => {
        streamed++;
        return nodeContextFs.createReadStream(p);
      },
    };
    const { digest, bytes } = await digestFile(join(ctxDir, 'big'), big.length, fs);
    expect({ whole, streamed, bytes }).toEqual({ whole: 0, streamed: 1, bytes: big.length });
    const { createHash } = await import('node:crypto');
    expect(digest).toBe(`sha256:${createHash('sha256').update(big).digest('hex')}`);
  });

  it('hard-linked files are read once', async () => {
    tree({ 'd/a': 'same' });
    const { linkSync } = await import('node:fs');
    linkSync(join(ctxDir, 'd/a'), join(ctxDir, 'd/b'));
    const fs = countingFs();
    const r = await hashContextSources(new BuildContext(ctxDir, { fs }), ['d', 'd/a'], { fs });
    expect(r.files).toBe(3);
    expect(r.filesRead).toBe(1);
    expect(fs.reads).toHaveLength(1);
  });
});
