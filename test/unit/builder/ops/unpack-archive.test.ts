import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectArchive, detectCompression } from '../../../../builder/ops/unpack-archive.js';
import { fsOps } from '../../../../snapshotter/index.js';
import { requireCommand } from '../../../helpers/prereqs.js';
import { makeTar } from '../../snapshotter/helpers.js';
import { copyFromContext, listTree, mode, type Sandbox, sandbox } from './helpers.js';

let sb: Sandbox;
const T = 1_500_000_000;

interface E {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  body?: string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

async function tarOf(entries: E[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      mtime: new Date(T * 1000),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      linkname: e.linkname,
    };
    if (type === 'file') p.entry(header, e.body ?? '');
    else p.entry(header);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sample: E[] = [
  { name: './', type: 'directory', mode: 0o700 },
  { name: './sub/', type: 'directory', mode: 0o750, uid: 1234, gid: 5678 },
  { name: './sub/a', body: 'A', mode: 0o640, uid: 1234, gid: 5678 },
  { name: './b', body: 'BB', mode: 0o4755 },
  { name: './abs', type: 'symlink', linkname: '/etc' },
  { name: './hard', type: 'link', linkname: './b' },
];

function compress(tar: Buffer, how: 'gzip' | 'bzip2' | 'xz' | 'zstd'): Buffer {
  if (how === 'gzip') return gzipSync(tar);
  if (how === 'zstd') requireCommand('zstd', 'zstd');
  return execFileSync(how, ['-c'], { input: tar, maxBuffer: 1 << 26 });
}

async function add(names: string[], dest: string, unpack = true) {
  return copyFromContext(sb, names, dest, { unpack, instruction: unpack ? 'ADD' : 'COPY' });
}

beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

describe('ADD unpacks local archives', () => {
  // zstd unpacks on every Node: through zlib from 22.15, through the zstd command before.
  for (const how of ['none', 'gzip', 'bzip2', 'xz', 'zstd'] as const) {
    it(`unpacks a ${how === 'none' ? 'plain' : how} tar into the destination`, async () => {
      const tar = await tarOf(sample);
      writeFileSync(join(sb.ctx, 'a.bin'), how === 'none' ? tar : compress(tar, how));
      expect(await detectArchive(join(sb.ctx, 'a.bin'))).toBe(how);
      const r = await add(['a.bin'], '/t/');
      expect(listTree(join(sb.root, 't'))).toEqual([
        'abs l /etc',
        'b f 4755 BB',
        'hard f 4755 BB',
        'sub d 0750',
        'sub/a f 0640 A',
      ]);
      // The destination is made by ADD (0755); the archive's `./` does not change it.
      expect(mode(join(sb.root, 't'))).toBe(0o755);
      expect(lstatSync(join(sb.root, 't/b')).ino).toBe(lstatSync(join(sb.root, 't/hard')).ino);
      expect(lstatSync(join(sb.root, 't/sub')).mtimeMs).toBe(T * 1000);
      expect(lstatSync(join(sb.root, 't/sub/a')).mtimeMs).toBe(T * 1000);
      expect(r.files).toBe(4);
    });
  }

  it('a destination without a slash becomes the directory it unpacks into', async () => {
    writeFileSync(join(sb.ctx, 'a.tgz'), gzipSync(await tarOf(sample)));
    await add(['a.tgz'], '/newdir');
    expect(lstatSync(join(sb.root, 'newdir')).isDirectory()).toBe(true);
    expect(readFileSync(join(sb.root, 'newdir/sub/a'), 'utf8')).toBe('A');
  });

  it('non-archives are copied as files, compressed or not', async () => {
    writeFileSync(join(sb.ctx, 'hello.gz'), gzipSync('hello, not a tar'));
    writeFileSync(join(sb.ctx, 'plain.txt'), 'text');
    writeFileSync(join(sb.ctx, 'empty'), '');
    writeFileSync(join(sb.ctx, 'zeros.tar'), Buffer.alloc(2048));
    await add(['hello.gz', 'plain.txt', 'empty', 'zeros.tar'], '/f/');
    expect(readdirSync(join(sb.root, 'f')).sort()).toEqual(['empty', 'hello.gz', 'plain.txt', 'zeros.tar']);
    expect(readFileSync(join(sb.root, 'f/hello.gz'))).toEqual(readFileSync(join(sb.ctx, 'hello.gz')));
  });

  it('COPY never unpacks', async () => {
    writeFileSync(join(sb.ctx, 'a.tar'), await tarOf(sample));
    await add(['a.tar'], '/c/', false);
    expect(readdirSync(join(sb.root, 'c'))).toEqual(['a.tar']);
  });

  it('merges into existing directories and replaces other things', async () => {
    mkdirSync(join(sb.root, 't/sub'), { recursive: true });
    writeFileSync(join(sb.root, 't/sub/keep'), 'k');
    mkdirSync(join(sb.root, 't/b/nested'), { recursive: true });
    writeFileSync(join(sb.ctx, 'a.tar'), await tarOf(sample));
    await add(['a.tar'], '/t');
    expect(readFileSync(join(sb.root, 't/sub/keep'), 'utf8')).toBe('k');
    expect(readFileSync(join(sb.root, 't/b'), 'utf8')).toBe('BB');
    expect(mode(join(sb.root, 't/sub'))).toBe(0o750);
  });

  it('GNU sparse files in PAX form (0.0, 0.1, 1.0) unpack as whole files of their real name, as docker', async () => {
    requireCommand('tar', 'tar');
    const src = join(sb.base, 'sparse-src');
    mkdirSync(src);
    const data = Buffer.alloc(3 * 1024 * 1024 + 3);
    data.write('middle', 1_000_000);
    data.write('end', 3 * 1024 * 1024);
    writeFileSync(join(src, 'sp'), Buffer.alloc(0));
    execFileSync('truncate', ['-s', String(data.length), join(src, 'sp')]);
    execFileSync('dd', ['of=sp', 'bs=1', 'seek=1000000', 'conv=notrunc', 'status=none'], { cwd: src, input: 'middle' });
    execFileSync('dd', [`of=sp`, 'bs=1', `seek=${3 * 1024 * 1024}`, 'conv=notrunc', 'status=none'], {
      cwd: src,
      input: 'end',
    });
    for (const version of ['0.0', '0.1', '1.0']) {
      const tar = join(sb.ctx, `s${version}.tar`);
      execFileSync('tar', ['--sparse', `--sparse-version=${version}`, '--format=pax', '-cf', tar, '-C', src, 'sp']);
      await add([`s${version}.tar`], `/v${version}/`);
      expect(readdirSync(join(sb.root, `v${version}`)), version).toEqual(['sp']);
      expect(readFileSync(join(sb.root, `v${version}/sp`)).equals(data), version).toBe(true);
    }
  });

  it('a directory met twice in the archive takes its later mode and owner, as moby untar', async () => {
    writeFileSync(
      join(sb.ctx, 'twice.tar'),
      await tarOf([
        { name: 'dir/', type: 'directory', mode: 0o700, uid: 1, gid: 1 },
        { name: 'dir/x', body: 'X' },
        { name: 'dir/', type: 'directory', mode: 0o750, uid: 2, gid: 3 },
      ]),
    );
    await add(['twice.tar'], '/t/');
    const st = lstatSync(join(sb.root, 't/dir'));
    expect(st.mode & 0o7777).toBe(0o750);
    expect([st.uid, st.gid]).toEqual([2, 3]);
    expect(readFileSync(join(sb.root, 't/dir/x'), 'utf8')).toBe('X');
  });

  it('whiteout and AUFS metadata names are ordinary files, as docker build unpacks them', async () => {
    writeFileSync(
      join(sb.ctx, 'w.tar'),
      await tarOf([
        { name: '.wh.foo', body: 'w' },
        { name: 'd/', type: 'directory' },
        { name: 'd/.wh..wh..opq', body: '' },
        { name: 'd/.wh.keep', body: 'k' },
        { name: '.wh..wh.plnk/1', body: 'x' },
      ]),
    );
    writeFileSync(join(sb.root, 'foo'), 'keep');
    mkdirSync(join(sb.root, 'd'));
    writeFileSync(join(sb.root, 'd/keep'), 'keep');
    writeFileSync(join(sb.root, 'd/old'), 'old');
    await add(['w.tar'], '/');
    expect(readFileSync(join(sb.root, '.wh.foo'), 'utf8')).toBe('w');
    expect(readFileSync(join(sb.root, 'foo'), 'utf8')).toBe('keep');
    expect(readdirSync(join(sb.root, 'd')).sort()).toEqual(['.wh..wh..opq', '.wh.keep', 'keep', 'old']);
    expect(readFileSync(join(sb.root, '.wh..wh.plnk/1'), 'utf8')).toBe('x');
  });

  it('sets extended attributes from PAX records, binary values as they are', async () => {
    const bin = Buffer.from([0, 0xff, 0x80, 0x0a, 0x3d, 0x7a]);
    writeFileSync(
      join(sb.ctx, 'x.tar'),
      makeTar([
        { name: 'd', type: 'dir', xattrs: new Map([['user.dir', Buffer.from('on a dir')]]) },
        {
          name: 'd/f',
          data: 'f',
          xattrs: new Map([
            ['user.bin', bin],
            ['trusted.overlay.opaque', Buffer.from('y')],
            ['user.overlay.opaque', Buffer.from('y')],
          ]),
        },
      ]),
    );
    await add(['x.tar'], '/x/');
    const ops = fsOps();
    expect(ops.getXattr(join(sb.root, 'x/d/f'), 'user.bin')).toEqual(bin);
    expect(ops.getXattr(join(sb.root, 'x/d'), 'user.dir')?.toString()).toBe('on a dir');
    // Overlay's own attributes would change the merged view of the image: never set.
    expect(ops.listXattrs(join(sb.root, 'x/d/f')).filter((n) => n.includes('overlay'))).toEqual([]);
  });

  it('reads GNU tar long names and link targets, and PAX fractional mtimes', async () => {
    const src = join(sb.base, 'src');
    const long = `${'l'.repeat(150)}/${'n'.repeat(120)}`;
    mkdirSync(join(src, 'l'.repeat(150)), { recursive: true });
    writeFileSync(join(src, long), 'long');
    symlinkTo('t'.repeat(200), join(src, 'lnk'));
    writeFileSync(join(src, 'frac'), 'f');
    execFileSync('touch', ['-d', '2017-07-14 02:40:00.25', join(src, 'frac')]);
    execFileSync('tar', ['--format=gnu', '-C', src, '-cf', join(sb.ctx, 'gnu.tar'), 'lnk', 'l'.repeat(150)]);
    execFileSync('tar', ['--format=posix', '-C', src, '-cf', join(sb.ctx, 'posix.tar'), 'frac']);
    await add(['gnu.tar', 'posix.tar'], '/g/');
    expect(readFileSync(join(sb.root, 'g', long), 'utf8')).toBe('long');
    expect(readlinkSync(join(sb.root, 'g/lnk'))).toBe('t'.repeat(200));
    expect(lstatSync(join(sb.root, 'g/frac')).mtimeMs).toBe(1_500_000_000_250);
  });

  it('mtimes before 1970 become the epoch, but for symlinks, as moby untar sets them', async () => {
    writeFileSync(
      join(sb.ctx, 'old.tar'),
      makeTar([
        { name: 'od', type: 'dir', mtime: -86_400 },
        { name: 'od/f', data: 'o', mtime: -1 },
        { name: 'od/l', type: 'symlink', linkname: 'f', mtime: -86_400 },
      ]),
    );
    await add(['old.tar'], '/o/');
    expect(lstatSync(join(sb.root, 'o/od')).mtimeMs).toBe(0);
    expect(lstatSync(join(sb.root, 'o/od/f')).mtimeMs).toBe(0);
    expect(lstatSync(join(sb.root, 'o/od/l')).mtimeMs).toBe(-86_400_000);
  });

  it('an entry type moby does not unpack fails, naming it', async () => {
    const vol = Buffer.from(makeTar([{ name: 'vol' }]).subarray(0, 512));
    vol[156] = 'V'.charCodeAt(0);
    vol.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of vol) sum += b;
    vol.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    writeFileSync(join(sb.ctx, 'v.tar'), Buffer.concat([vol, Buffer.alloc(1024)]));
    await expect(add(['v.tar'], '/v/')).rejects.toMatchObject({
      code: 'TSB_COPY_ARCHIVE',
      message: 'unpacking v.tar: unsupported tar entry type "V" for vol',
    });
  });

  it('a contiguous file (type 7) unpacks as a regular file', async () => {
    const tar = await tarOf([{ name: 'c', body: 'cc' }]);
    tar[156] = '7'.charCodeAt(0);
    tar.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += tar[i] as number;
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    writeFileSync(join(sb.ctx, 'c.tar'), tar);
    await add(['c.tar'], '/c/');
    expect(readFileSync(join(sb.root, 'c/c'), 'utf8')).toBe('cc');
  });

  it('a truncated archive fails with TSB_COPY_ARCHIVE, naming it', async () => {
    const tar = await tarOf([{ name: 'big', body: 'x'.repeat(10_000) }]);
    writeFileSync(join(sb.ctx, 'cut.tar'), tar.subarray(0, 4096));
    await expect(add(['cut.tar'], '/x/')).rejects.toMatchObject({
      code: 'TSB_COPY_ARCHIVE',
      message: 'unpacking cut.tar: unexpected end of archive inside a file',
    });
  });

  it('a corrupt compressed archive fails with TSB_COPY_ARCHIVE', async () => {
    const good = gzipSync(await tarOf([{ name: 'big', body: 'x'.repeat(100_000) }]));
    const bad = Buffer.concat([good.subarray(0, 200), Buffer.alloc(200, 7)]);
    writeFileSync(join(sb.ctx, 'bad.tgz'), bad);
    const xzBad = compress(await tarOf([{ name: 'big', body: 'y'.repeat(100_000) }]), 'xz');
    writeFileSync(join(sb.ctx, 'bad.txz'), Buffer.concat([xzBad.subarray(0, 100), Buffer.alloc(100, 3)]));
    await expect(add(['bad.tgz'], '/x/')).rejects.toMatchObject({ code: 'TSB_COPY_ARCHIVE' });
    await expect(add(['bad.txz'], '/y/')).rejects.toMatchObject({
      code: 'TSB_COPY_ARCHIVE',
      message: expect.stringMatching(/^unpacking bad\.txz: xz failed: /),
    });
  });
});

describe('ADD unpacks hostile archives inside the destination', () => {
  it('absolute symlinks, .. and climbing relative symlinks stay inside the destination', async () => {
    writeFileSync(
      join(sb.ctx, 'evil.tar'),
      await tarOf([
        { name: 'abslink', type: 'symlink', linkname: '/etc' },
        { name: 'abslink/pwned', body: 'x' },
        { name: '../up', body: 'y' },
        { name: '../../../../abs-up', body: 'y2' },
        { name: 'reldir', type: 'symlink', linkname: '../../../../outside' },
        { name: 'reldir/pwned2', body: 'z' },
        { name: 'hostlink', type: 'symlink', linkname: sb.outside },
        { name: 'hostlink/pwned3', body: 'w' },
        { name: 'hl', type: 'link', linkname: '../../../../../up' },
      ]),
    );
    mkdirSync(join(sb.root, 't/etc'), { recursive: true });
    mkdirSync(join(sb.root, 't/outside'), { recursive: true });
    mkdirSync(join(sb.root, 't', sb.outside), { recursive: true });
    await add(['evil.tar'], '/t/');
    expect(readdirSync(sb.outside)).toEqual([]);
    expect(readdirSync(sb.root)).toEqual(['t']);
    expect(readFileSync(join(sb.root, 't/etc/pwned'), 'utf8')).toBe('x');
    expect(readFileSync(join(sb.root, 't/up'), 'utf8')).toBe('y');
    expect(readFileSync(join(sb.root, 't/abs-up'), 'utf8')).toBe('y2');
    expect(readFileSync(join(sb.root, 't/outside/pwned2'), 'utf8')).toBe('z');
    expect(readFileSync(join(sb.root, 't', sb.outside, 'pwned3'), 'utf8')).toBe('w');
    expect(lstatSync(join(sb.root, 't/hl')).ino).toBe(lstatSync(join(sb.root, 't/up')).ino);
    expect(readlinkSync(join(sb.root, 't/abslink'))).toBe('/etc');
  });

  it("a directory's deferred mode never lands outside when a later entry turns a parent into a symlink", async () => {
    mkdirSync(join(sb.outside, 'v'), { mode: 0o755 });
    chmodSync(join(sb.outside, 'v'), 0o755);
    writeFileSync(
      join(sb.ctx, 'swap.tar'),
      await tarOf([
        { name: 'x/', type: 'directory' },
        { name: 'x/v/', type: 'directory', mode: 0o700 },
        { name: 'x', type: 'symlink', linkname: sb.outside },
      ]),
    );
    await add(['swap.tar'], '/t/');
    expect(statSync(join(sb.outside, 'v')).mode & 0o7777).toBe(0o755);
    expect(readlinkSync(join(sb.root, 't/x'))).toBe(sb.outside);
  });

  it('an entry never writes through an existing symlink of the image', async () => {
    writeFileSync(join(sb.outside, 'victim'), 'safe');
    mkdirSync(join(sb.root, 't'));
    symlinkTo(join(sb.outside, 'victim'), join(sb.root, 't/f'));
    writeFileSync(join(sb.ctx, 'a.tar'), await tarOf([{ name: 'f', body: 'evil' }]));
    await add(['a.tar'], '/t/');
    expect(readFileSync(join(sb.outside, 'victim'), 'utf8')).toBe('safe');
    expect(readFileSync(join(sb.root, 't/f'), 'utf8')).toBe('evil');
  });

  it('an entry below a symlink to a missing directory fails, as moby untar', async () => {
    writeFileSync(
      join(sb.ctx, 'a.tar'),
      await tarOf([
        { name: 'abslink', type: 'symlink', linkname: '/etc' },
        { name: 'abslink/pwned', body: 'x' },
      ]),
    );
    await expect(add(['a.tar'], '/t/')).rejects.toMatchObject({
      code: 'TSB_COPY_ARCHIVE',
      message: 'unpacking a.tar: open /abslink/pwned: no such file or directory',
    });
    expect(readdirSync(join(sb.root, 't'))).toEqual(['abslink']);
  });

  it('a hardlink to a missing target fails', async () => {
    writeFileSync(join(sb.ctx, 'a.tar'), await tarOf([{ name: 'h', type: 'link', linkname: 'missing' }]));
    await expect(add(['a.tar'], '/t/')).rejects.toMatchObject({ code: 'TSB_COPY_ARCHIVE' });
  });
});

describe('archive detection', () => {
  it('detects compression by magic bytes', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0]))).toBe('gzip');
    expect(detectCompression(Buffer.from('BZh91AY'))).toBe('bzip2');
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from('plain'))).toBe('none');
  });

  it('takes a tar as Go does: a valid first header (signed checksums too), never a zero block first', async () => {
    const tar = await tarOf([{ name: 'x', body: 'x' }]);
    writeFileSync(join(sb.ctx, 'zero-first.tar'), Buffer.concat([Buffer.alloc(512), tar]));
    expect(await detectArchive(join(sb.ctx, 'zero-first.tar'))).toBeUndefined();
    const signed = Buffer.from(tar);
    signed.write('\xf1', 0, 'latin1');
    signed.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++)
      sum += (signed[i] as number) > 127 ? (signed[i] as number) - 256 : (signed[i] as number);
    signed.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    writeFileSync(join(sb.ctx, 'signed.tar'), signed);
    expect(await detectArchive(join(sb.ctx, 'signed.tar'))).toBe('none');
    const broken = Buffer.from(tar);
    broken[0] = 0x41;
    writeFileSync(join(sb.ctx, 'broken.tar'), broken);
    expect(await detectArchive(join(sb.ctx, 'broken.tar'))).toBeUndefined();
    await add(['zero-first.tar'], '/z/');
    expect(readdirSync(join(sb.root, 'z'))).toEqual(['zero-first.tar']);
  });
});

function symlinkTo(target: string, path: string): void {
  execFileSync('ln', ['-s', target, path]);
}
