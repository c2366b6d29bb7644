import { describe, expect, it } from 'vitest';
import { isTarHeader, type TarReaderOptions } from '../../../snapshotter/index.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarHeader } from '../../../snapshotter/tar/header.js';
import { makeTar, readTarEntries } from './helpers.js';

function header(h: Partial<TarHeader> & { name: string }): Buffer {
  return encodeHeader({
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1_700_000_000,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
    ...h,
  });
}

/** Writes the checksum of a header block again (after a test changed it), as an unsigned or a signed sum. */
function resum(block: Buffer, signed = false): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += signed && b > 127 ? b - 256 : b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** A header block with another typeflag. */
function retype(block: Buffer, flag: string): Buffer {
  const b = Buffer.from(block.subarray(0, 512));
  b[156] = flag.charCodeAt(0);
  return resum(b);
}

/** A special entry (L, K, x, g) with its data, padded. */
function special(flag: string, data: Buffer): Buffer {
  return Buffer.concat([
    retype(header({ name: '././@LongLink', size: data.length }), flag),
    data,
    Buffer.alloc(padding(data.length)),
  ]);
}

/** PAX records ("<len> <key>=<value>\n"), with binary values as they are. */
function pax(records: [string, string | Buffer][]): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const value = Buffer.from(v);
      const body = 3 + Buffer.byteLength(k) + value.length;
      let len = body + String(body).length;
      if (String(len).length !== String(body).length) len = body + String(len).length;
      return Buffer.concat([Buffer.from(`${len} ${k}=`), value, Buffer.from('\n')]);
    }),
  );
}

function file(name: string, data: string, h: Partial<TarHeader> = {}): Buffer {
  const body = Buffer.from(data);
  return Buffer.concat([header({ name, size: body.length, ...h }), body, Buffer.alloc(padding(body.length))]);
}

async function entries(tar: Buffer, options?: TarReaderOptions) {
  return (await readTarEntries([tar], options)).entries;
}

describe('TarReader', () => {
  it('reads GNU long names and long link targets (L and K entries)', async () => {
    const long = `${'d'.repeat(150)}/${'n'.repeat(120)}`;
    const target = 't'.repeat(300);
    const tar = Buffer.concat([
      special('L', Buffer.from(`${long}\0`)),
      file(long.slice(0, 99), 'long'),
      special('K', Buffer.from(`${target}\0`)),
      special('L', Buffer.from('link-with-a-long-name\0')),
      header({ name: 'short', type: 'symlink', linkname: target.slice(0, 99) }),
      file('after', 'a'),
      END_OF_ARCHIVE,
    ]);
    const got = await entries(tar);
    expect(got.map((e) => [e.name, e.type, e.linkname, e.data])).toEqual([
      [long, 'file', '', 'long'],
      ['link-with-a-long-name', 'symlink', target, ''],
      ['after', 'file', '', 'a'],
    ]);
  });

  it('gives whiteout entries as they are written (interpreting them is the caller’s)', async () => {
    const tar = makeTar([
      { name: '.wh.foo', data: 'w' },
      { name: 'd', type: 'dir' },
      { name: 'd/.wh..wh..opq' },
      { name: '.wh..wh.plnk/1', data: 'x' },
    ]);
    expect((await entries(tar)).map((e) => [e.name, e.type, e.data])).toEqual([
      ['.wh.foo', 'file', 'w'],
      ['d', 'dir', ''],
      ['d/.wh..wh..opq', 'file', ''],
      ['.wh..wh.plnk/1', 'file', 'x'],
    ]);
  });

  it('reads PAX times with fractions and before 1970, large ids and binary xattrs', async () => {
    const cap = Buffer.from([1, 0, 0, 2, 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const records = pax([
      ['mtime', '1500000000.25'],
      ['uid', '3000000'],
      ['gid', '4000000'],
      ['SCHILY.xattr.security.capability', cap],
      ['SCHILY.xattr.user.bin', Buffer.from([0, 0xff, 0x0a, 0x3d])],
    ]);
    const tar = Buffer.concat([
      special('x', records),
      file('f', 'x'),
      file('old', 'o', { mtime: -86_400 }),
      END_OF_ARCHIVE,
    ]);
    const [f, old] = await entries(tar);
    expect([f?.mtime, f?.uid, f?.gid]).toEqual([1_500_000_000.25, 3_000_000, 4_000_000]);
    expect(f?.xattrs.get('security.capability')).toEqual(cap);
    expect(f?.xattrs.get('user.bin')).toEqual(Buffer.from([0, 0xff, 0x0a, 0x3d]));
    expect(old?.mtime).toBe(-86_400);
    expect(old?.xattrs.size).toBe(0);
  });

  it('applies a global PAX header to the entries after it, under their own records', async () => {
    const tar = Buffer.concat([
      special('g', pax([['uid', '7']])),
      file('a', 'a'),
      special('x', pax([['uid', '9']])),
      file('b', 'b'),
      END_OF_ARCHIVE,
    ]);
    expect((await entries(tar)).map((e) => [e.name, e.uid])).toEqual([
      ['a', 7],
      ['b', 9],
    ]);
  });

  it('accepts header checksums summed over signed bytes, as old tars wrote them', async () => {
    // A name with a byte over 127 in the header block itself: the signed and unsigned sums differ.
    const plain = header({ name: 'x', size: 1 });
    plain.write('\xf1ame\0', 0, 'latin1');
    const signed = resum(plain, true);
    expect(isTarHeader(signed)).toBe(true);
    const got = await entries(Buffer.concat([signed, Buffer.from('n'), Buffer.alloc(511), END_OF_ARCHIVE]));
    expect(got.map((e) => e.data)).toEqual(['n']);
  });

  it('reads octal fields padded with spaces or NULs and refuses other bytes in them', async () => {
    const padded = header({ name: 'p' });
    padded.write(' 00644 \0', 100, 8, 'latin1');
    expect((await entries(Buffer.concat([resum(padded), END_OF_ARCHIVE])))[0]?.mode).toBe(0o644);
    const garbage = header({ name: 'g' });
    garbage.write('00x644\0\0', 100, 8, 'latin1');
    expect(isTarHeader(resum(garbage))).toBe(false);
    await expect(entries(Buffer.concat([garbage, END_OF_ARCHIVE]))).rejects.toMatchObject({
      code: 'TSB_LAYER_CORRUPT',
      message: expect.stringContaining('bad mode field'),
    });
  });

  it('refuses unknown entry types, naming the type and the entry', async () => {
    const tar = Buffer.concat([retype(header({ name: 'vol' }), 'V'), END_OF_ARCHIVE]);
    await expect(entries(tar)).rejects.toMatchObject({
      code: 'TSB_LAYER_UNSUPPORTED',
      message: 'unsupported tar entry type "V" for vol',
    });
  });

  it('names what it reads in truncation errors', async () => {
    const tar = makeTar([{ name: 'a', data: 'a'.repeat(1000) }]).subarray(0, 700);
    await expect(entries(tar)).rejects.toMatchObject({ message: 'unexpected end of layer inside a file' });
    await expect(entries(tar, { subject: 'archive' })).rejects.toMatchObject({
      code: 'TSB_LAYER_CORRUPT',
      message: 'unexpected end of archive inside a file',
    });
  });
});

describe('isTarHeader', () => {
  it('takes a block with a valid checksum and fields; not a broken, short or zero one', () => {
    const tar = makeTar([{ name: 'x', data: 'x' }]);
    expect(isTarHeader(tar.subarray(0, 512))).toBe(true);
    const broken = Buffer.from(tar.subarray(0, 512));
    broken[0] = 0x41;
    expect(isTarHeader(broken)).toBe(false);
    expect(isTarHeader(tar.subarray(0, 300))).toBe(false);
    expect(isTarHeader(Buffer.alloc(512))).toBe(false);
  });
});
