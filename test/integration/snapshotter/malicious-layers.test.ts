import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabases } from '../../../metadata/index.js';
import { applyLayer, openSnapshotter, type Snapshotter } from '../../../snapshotter/index.js';
import { fsOps } from '../../../snapshotter/native.js';
import type { SnapshotStore } from '../../../snapshotter/snapshot-store.js';
import { requireRoot } from '../../helpers/prereqs.js';
import { makeTar, stream, type TarEntry, tempDir } from '../../unit/snapshotter/helpers.js';

beforeAll(() => requireRoot());

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const HOST_PASSWD = sha('/etc/passwd');

describe.each(['overlay', 'naive'] as const)('malicious layers are contained (%s, runtime.md §7 23–32)', (driver) => {
  let top: string;
  let remove: () => void;
  let sn: Snapshotter;
  let victim: string;
  let victimState: string;

  const snapshotVictim = () =>
    readdirSync(victim)
      .sort()
      .map((n) => {
        const st = lstatSync(join(victim, n));
        return `${n} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${sha(join(victim, n))}`;
      })
      .join('\n');

  beforeEach(async () => {
    ({ dir: top, remove } = tempDir());
    victim = join(top, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, 'hello'), 'hello');
    victimState = snapshotVictim();
    sn = await openSnapshotter(join(top, 'store'), { driver });
    await applyLayer(sn, {
      name: 'base',
      layer: stream(
        makeTar([
          { name: 'etc', type: 'dir' },
          { name: 'etc/os', data: 'x' },
        ]),
      ),
    });
  });
  afterEach(() => {
    // Nothing outside the store changed: the victim dir, the temp dir and the host's /etc/passwd.
    expect(snapshotVictim()).toBe(victimState);
    expect(readdirSync(top).sort()).toEqual(['store', 'victim']);
    expect(sha('/etc/passwd')).toBe(HOST_PASSWD);
    closeDatabases();
    remove();
  });

  let n = 0;
  async function apply(entries: TarEntry[], o: { parent?: string; rootless?: boolean; limits?: object } = {}) {
    const name = `l${n++}`;
    await applyLayer(sn, { name, parent: o.parent ?? 'base', layer: stream(makeTar(entries)), ...o });
    return name;
  }
  async function fails(entries: TarEntry[] | Buffer, code: string, o: { limits?: object; diffId?: string } = {}) {
    const layer = Buffer.isBuffer(entries) ? entries : makeTar(entries);
    const err = await applyLayer(sn, { name: 'bad', parent: 'base', layer: stream(layer), ...o }).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(err?.code).toBe(code);
    // Nothing half-made: only base remains.
    const left: string[] = [];
    await sn.walk((i) => {
      left.push(i.name);
    });
    expect(left).toEqual(['base']);
  }
  /** The merged content of a committed snapshot, through the snapshot dirs (no mount needed). */
  function fsOf(name: string): string {
    return (sn as SnapshotStore).paths(name).fs;
  }

  it('23: ../ names are a breakout; rooted /../ names stay inside', async () => {
    await fails([{ name: '../victim/dotdot', data: 'x' }], 'TSB_LAYER_BREAKOUT');
    await fails([{ name: 'a/../../victim/x', data: 'x' }], 'TSB_LAYER_BREAKOUT');
    const l = await apply([{ name: '/../victim/slash-dotdot', data: 'x' }]);
    expect(readFileSync(join(fsOf(l), 'victim/slash-dotdot'), 'utf8')).toBe('x');
  });

  it('24: symlinks that lead outside are never followed', async () => {
    await fails(
      [
        { name: 'loophole', type: 'symlink', linkname: '../victim' },
        { name: 'loophole/file', data: 'x' },
      ],
      'TSB_LAYER_BREAKOUT',
    );
    await fails(
      [
        { name: 'dir', type: 'dir' },
        { name: 'dir/loophole', type: 'symlink', linkname: '../../victim' },
        { name: 'dir/loophole/newdir/newfile', data: 'x' },
      ],
      'TSB_LAYER_BREAKOUT',
    );
    // An absolute link resolves inside the root, as in a chroot.
    const abs = await apply([
      { name: 'etc2', type: 'symlink', linkname: '/etc' },
      { name: 'etc2/passwd', data: 'evil' },
    ]);
    expect(existsSync(join(fsOf(abs), 'etc/passwd')) || existsSync(join(fsOf('base'), 'etc/passwd'))).toBe(true);
    // A link to the host's victim by absolute path lands inside the root too.
    const hostPath = await apply([
      { name: 'v', type: 'symlink', linkname: victim },
      { name: 'v/hello', data: 'evil' },
    ]);
    expect(readFileSync(join(fsOf(hostPath), victim, 'hello'), 'utf8')).toBe('evil');
    // A link made by a lower layer is not followed out either.
    const lower = await apply([{ name: 'up', type: 'symlink', linkname: '../../../../../../../../victim' }]);
    const err = await applyLayer(sn, {
      name: 'x',
      parent: lower,
      layer: stream(makeTar([{ name: 'up/file', data: 'x' }])),
    }).catch((e: { code: string }) => e.code);
    expect(err).toBe('TSB_LAYER_BREAKOUT');
  });

  it('25: hardlinks to outside, through symlinks, and to symlinks are contained', async () => {
    await fails([{ name: 'h', type: 'link', linkname: '../victim/hello' }], 'TSB_LAYER_BREAKOUT');
    await fails([{ name: 'h', type: 'link', linkname: '/../victim/hello' }], 'TSB_LAYER_INVALID');
    await fails(
      [
        { name: 'sym', type: 'symlink', linkname: '../victim' },
        { name: 'h', type: 'link', linkname: 'sym/hello' },
      ],
      'TSB_LAYER_BREAKOUT',
    );
    const l = await apply([
      { name: 's', type: 'symlink', linkname: join(victim, 'hello') },
      { name: 'h', type: 'link', linkname: 's' },
      { name: 'h2', type: 'link', linkname: 's' },
      { name: 'h2', data: 'replaced, not written through' },
    ]);
    expect(lstatSync(join(fsOf(l), 'h')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(fsOf(l), 'h2'), 'utf8')).toBe('replaced, not written through');
  });

  it('26: chmod, chown and utimes never follow a symlink entry', async () => {
    await apply([
      { name: 'link', type: 'symlink', linkname: join(victim, 'hello'), mode: 0o777, uid: 1234, gid: 1234, mtime: 1 },
      { name: 'link2', type: 'symlink', linkname: '/etc/passwd', mode: 0o4777, uid: 1234, mtime: 1 },
    ]);
    // A file entry over a symlink replaces the link.
    const l = await apply([
      { name: 'link', type: 'symlink', linkname: join(victim, 'hello') },
      { name: 'link', data: 'new', mode: 0o600 },
    ]);
    expect(lstatSync(join(fsOf(l), 'link')).isFile()).toBe(true);
  });

  it('27: whiteouts only delete inside the root', async () => {
    await fails(
      [
        { name: '.wh..wh.plnk', type: 'dir' },
        { name: '.wh..wh.plnk/1', data: 'x' },
        { name: 'h', type: 'link', linkname: '.wh..wh.plnk/1' },
      ],
      'TSB_LAYER_INVALID',
    );
    await fails([{ name: '.wh...', data: '' }], 'TSB_LAYER_BREAKOUT');
    await fails([{ name: 'etc/.wh.', data: '' }], 'TSB_LAYER_BREAKOUT');
    await fails(
      [
        { name: 'link', type: 'symlink', linkname: '../victim' },
        { name: 'link/.wh.hello', data: '' },
      ],
      'TSB_LAYER_BREAKOUT',
    );
    const abs = await apply([
      { name: 'link', type: 'symlink', linkname: victim },
      { name: 'link/.wh.hello', data: '' },
    ]);
    expect(existsSync(join(fsOf(abs), 'link'))).toBe(true);
    const opq = await apply([
      { name: '.wh..wh..opq', data: '' },
      { name: 'new', data: 'n' },
    ]);
    expect(readFileSync(join(fsOf(opq), 'new'), 'utf8')).toBe('n');
    const same = await apply([
      { name: 'etc/.wh.os', data: '' },
      { name: 'etc/os', data: 'back' },
    ]);
    expect(readFileSync(join(fsOf(same), 'etc/os'), 'utf8')).toBe('back');
  });

  it('28: device nodes only as root; fifos always; storage dirs are 0700', async () => {
    const rootful = await apply([
      { name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'p', type: 'fifo', mode: 0o644 },
    ]);
    expect(statSync(join(fsOf(rootful), 'null')).rdev).toBe(0x103);
    const rootless = await apply(
      [
        { name: 'null', type: 'char', devmajor: 1, devminor: 3 },
        { name: 'sda', type: 'block', devmajor: 8, devminor: 0 },
        { name: 'p', type: 'fifo' },
      ],
      { rootless: true },
    );
    expect(existsSync(join(fsOf(rootless), 'null'))).toBe(false);
    expect(existsSync(join(fsOf(rootless), 'sda'))).toBe(false);
    expect(lstatSync(join(fsOf(rootless), 'p')).isFIFO()).toBe(true);
    expect(statSync(join(top, 'store', 'snapshots')).mode & 0o777).toBe(0o700);
  });

  it('29: forged overlay and unknown security xattrs are stripped; setuid kept only as root', async () => {
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const xattrs = new Map([
      ['trusted.overlay.opaque', Buffer.from('y')],
      ['trusted.overlay.redirect', Buffer.from('/etc')],
      ['security.evil', Buffer.from('1')],
      ['user.ok', Buffer.from([0x80, 0xff])],
    ]);
    const l = await apply([
      { name: 'etc', type: 'dir', xattrs },
      { name: 'ping', data: 'x', mode: 0o4755, xattrs: new Map([['security.capability', cap]]) },
    ]);
    const ops = fsOps();
    const etc = join(fsOf(l), 'etc');
    expect(ops.getXattr(etc, 'trusted.overlay.opaque')).toBeNull();
    expect(ops.getXattr(etc, 'trusted.overlay.redirect')).toBeNull();
    expect(ops.getXattr(etc, 'security.evil')).toBeNull();
    expect(ops.getXattr(etc, 'user.ok')).toEqual(Buffer.from([0x80, 0xff]));
    expect(ops.getXattr(join(fsOf(l), 'ping'), 'security.capability')).toEqual(cap);
    expect(statSync(join(fsOf(l), 'ping')).mode & 0o7777).toBe(0o4755);
    const rl = await apply(
      [{ name: 'ping', data: 'x', mode: 0o6755, uid: 0, xattrs: new Map([['security.capability', cap]]) }],
      { rootless: true },
    );
    expect(statSync(join(fsOf(rl), 'ping')).mode & 0o7777).toBe(0o755);
    expect(ops.getXattr(join(fsOf(rl), 'ping'), 'security.capability')).toBeNull();
  });

  it('30: bombs and oversized layers hit caps and leave nothing behind', async () => {
    // A gzip bomb: a small blob that inflates to a huge file.
    const header = makeTar([{ name: 'big', data: Buffer.alloc(0) }]).subarray(0, 512);
    const big = Buffer.from(header);
    big.write('77777777777 ', 124, 'ascii'); // size field: 8 GiB - 1
    let sum = 0;
    big.fill(0x20, 148, 156);
    for (const b of big) sum += b;
    big.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    const bomb = gzipSync(Buffer.concat([big, Buffer.alloc(8 << 20)]), { level: 9 });
    expect(bomb.length).toBeLessThan(64 * 1024);
    await fails(bomb, 'TSB_LAYER_LIMIT', { limits: { maxBytes: 1 << 20 } });
    const deep = Array.from({ length: 5000 }, () => 'd').join('/');
    await fails([{ name: deep, data: 'x' }], 'TSB_LAYER_LIMIT');
    await fails([{ name: `${'x'.repeat(5000)}`, data: 'x' }], 'TSB_LAYER_LIMIT');
    await fails(
      Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, data: '' })),
      'TSB_LAYER_LIMIT',
      { limits: { maxEntries: 10 } },
    );
    await fails([{ name: 'a', data: 'a' }], 'TSB_LAYER_DIGEST', { diffId: `sha256:${'0'.repeat(64)}` });
  });

  it('31: truncated, corrupt and unsupported layers give typed errors', async () => {
    const good = makeTar([{ name: 'a', data: 'x'.repeat(2000) }]);
    await fails(good.subarray(0, 1000), 'TSB_LAYER_CORRUPT');
    const bad = Buffer.from(good);
    bad[10] = 0x41;
    await fails(bad, 'TSB_LAYER_CORRUPT');
    await fails(gzipSync(good).subarray(0, 40), 'TSB_LAYER_CORRUPT');
    const sparse = Buffer.from(makeTar([{ name: 's', data: '' }]));
    sparse[156] = 0x53; // GNU sparse
    let sum = 0;
    sparse.fill(0x20, 148, 156);
    for (const b of sparse.subarray(0, 512)) sum += b;
    sparse.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    await fails(sparse, 'TSB_LAYER_UNSUPPORTED');
    await fails(Buffer.from('BZh91AY&SY this is bzip2'), 'TSB_LAYER_UNSUPPORTED');
  });

  it('32: a symlink swapped in for a directory is not followed by later entries', async () => {
    await fails(
      [
        { name: 'a', type: 'dir' },
        { name: 'a', type: 'symlink', linkname: '../victim' },
        { name: 'a/hello', data: 'evil' },
      ],
      'TSB_LAYER_BREAKOUT',
    );
    const l = await apply([
      { name: 'a', type: 'dir' },
      { name: 'a/x', data: 'x' },
      { name: 'a', type: 'symlink', linkname: victim },
      { name: 'a/hello', data: 'inside' },
    ]);
    expect(readFileSync(join(fsOf(l), victim, 'hello'), 'utf8')).toBe('inside');
  });
});
