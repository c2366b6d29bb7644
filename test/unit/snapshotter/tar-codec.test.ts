import { describe, expect, it } from 'vitest';
import { cleanPath } from '../../../snapshotter/extract.js';
import { encodeHeader } from '../../../snapshotter/tar/header.js';
import { makeTar, readTarEntries } from './helpers.js';

async function readAll(buf: Buffer, chunk = 7) {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return readTarEntries(parts);
}

describe('tar codec', () => {
  it('round-trips names, types, owners, devices and data in odd-sized chunks', async () => {
    const tar = makeTar([
      { name: 'dir', type: 'dir', mode: 0o750, uid: 1, gid: 2 },
      { name: 'dir/file', data: 'hello', mode: 0o4755, mtime: 1_600_000_000 },
      { name: 'dir/link', type: 'link', linkname: 'dir/file' },
      { name: 'sym', type: 'symlink', linkname: '../x' },
      { name: 'null', type: 'char', devmajor: 1, devminor: 3 },
      { name: 'fifo', type: 'fifo' },
    ]);
    const { entries, bytes } = await readAll(tar);
    expect(bytes).toBe(tar.length);
    expect(entries.map((e) => [e.name, e.type, e.mode.toString(8), e.uid, e.gid, e.linkname, e.data])).toEqual([
      ['dir', 'dir', '750', 1, 2, '', ''],
      ['dir/file', 'file', '4755', 0, 0, '', 'hello'],
      ['dir/link', 'link', '644', 0, 0, 'dir/file', ''],
      ['sym', 'symlink', '644', 0, 0, '../x', ''],
      ['null', 'char', '644', 0, 0, '', ''],
      ['fifo', 'fifo', '644', 0, 0, '', ''],
    ]);
    expect(entries[1]?.mtime).toBe(1_600_000_000);
    expect([entries[4]?.devmajor, entries[4]?.devminor]).toEqual([1, 3]);
  });

  it('uses PAX for long and non-ASCII names, large ids and binary xattrs', async () => {
    const long = `${'a'.repeat(120)}/${'b'.repeat(120)}/${'c'.repeat(120)}`;
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff, 0x00, 0x0a, 0x3d]);
    const tar = makeTar([
      { name: long, data: 'x' },
      { name: 'héllo wörld', data: 'y', uid: 3_000_000, gid: 4_000_000 },
      { name: 'l', type: 'symlink', linkname: 'z'.repeat(300) },
      {
        name: 'cap',
        data: 'z',
        xattrs: new Map([
          ['security.capability', cap],
          ['user.a', Buffer.from('b')],
        ]),
      },
    ]);
    const { entries } = await readAll(tar, 100);
    expect(entries.map((e) => e.name)).toEqual([long, 'héllo wörld', 'l', 'cap']);
    expect([entries[1]?.uid, entries[1]?.gid]).toEqual([3_000_000, 4_000_000]);
    expect(entries[2]?.linkname).toBe('z'.repeat(300));
    expect(entries[3]?.xattrs.get('security.capability')).toEqual(cap);
    expect(entries[3]?.xattrs.get('user.a')?.toString()).toBe('b');
  });

  it('splits names that fit ustar prefix and name without PAX', () => {
    const name = `${'p'.repeat(120)}/${'n'.repeat(90)}`;
    const block = encodeHeader({
      name,
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
      linkname: '',
      devmajor: 0,
      devminor: 0,
      xattrs: new Map(),
    });
    expect(block.length).toBe(512);
    expect(block.toString('latin1', 345, 465)).toBe('p'.repeat(120));
  });

  it('ends cleanly without an end marker and drains bytes after it', async () => {
    const tar = makeTar([{ name: 'a', data: 'a' }]);
    expect((await readAll(tar.subarray(0, 1024))).entries.length).toBe(1);
    const padded = Buffer.concat([tar, Buffer.alloc(4096)]);
    expect((await readAll(padded)).bytes).toBe(padded.length);
  });

  it('rejects truncated data and bad checksums', async () => {
    const tar = makeTar([{ name: 'a', data: 'a'.repeat(1000) }]);
    await expect(readAll(tar.subarray(0, 700))).rejects.toMatchObject({ code: 'TSB_LAYER_CORRUPT' });
    const bad = Buffer.from(tar);
    bad[0] = 0x62;
    await expect(readAll(bad)).rejects.toMatchObject({ code: 'TSB_LAYER_CORRUPT' });
  });
});

describe('cleanPath', () => {
  it('normalises names and refuses climbing above the root', () => {
    expect(cleanPath('./a//b/./c/')).toEqual(['a', 'b', 'c']);
    expect(cleanPath('a/../b')).toEqual(['b']);
    expect(cleanPath('/../etc/passwd')).toEqual(['etc', 'passwd']);
    expect(() => cleanPath('../x')).toThrow(expect.objectContaining({ code: 'TSB_LAYER_BREAKOUT' }));
    expect(() => cleanPath('a/../../x')).toThrow(expect.objectContaining({ code: 'TSB_LAYER_BREAKOUT' }));
  });
});
