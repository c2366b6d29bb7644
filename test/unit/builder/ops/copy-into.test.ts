import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyInto } from '../../../../builder/ops/copy-into.js';
import { fsOps } from '../../../../snapshotter/index.js';
import { copyFromContext, listTree, mode, type Sandbox, sandbox } from './helpers.js';

let sb: Sandbox;
const T = 1_600_000_000;

function file(rel: string, content: string, m = 0o644): void {
  const p = join(sb.ctx, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, m);
}

beforeEach(() => {
  sb = sandbox();
  file('f.txt', 'F');
  file('dir/top', 'top', 0o600);
  file('dir/sub/deep', 'deep', 0o640);
  chmodSync(join(sb.ctx, 'dir/sub'), 0o705);
  chmodSync(join(sb.ctx, 'dir'), 0o750);
  symlinkSync('top', join(sb.ctx, 'dir/lnk'));
  for (const p of ['dir/sub/deep', 'dir/sub', 'dir/top', 'dir', 'f.txt']) utimesSync(join(sb.ctx, p), T, T);
});
afterEach(() => sb.cleanup());

describe('COPY path rules', () => {
  it('a directory copies its contents, keeping modes, mtimes and symlinks', async () => {
    const r = await copyFromContext(sb, ['dir'], '/app/');
    expect(listTree(join(sb.root, 'app'))).toEqual([
      'lnk l top',
      'sub d 0705',
      'sub/deep f 0640 deep',
      'top f 0600 top',
    ]);
    expect(r).toEqual({ files: 3, bytes: 7 });
    expect(lstatSync(join(sb.root, 'app/sub/deep')).mtimeMs).toBe(T * 1000);
    expect(lstatSync(join(sb.root, 'app/sub')).mtimeMs).toBe(T * 1000);
  });

  it('the destination directory and its parents are created 0755, not with the source directory mode', async () => {
    await copyFromContext(sb, ['dir'], '/x/y/z');
    expect(mode(join(sb.root, 'x'))).toBe(0o755);
    expect(mode(join(sb.root, 'x/y'))).toBe(0o755);
    expect(mode(join(sb.root, 'x/y/z'))).toBe(0o755);
    expect(readFileSync(join(sb.root, 'x/y/z/top'), 'utf8')).toBe('top');
  });

  it('a file to dest/ goes inside; to a new path without slash it is written at that path', async () => {
    await copyFromContext(sb, ['f.txt'], '/in/');
    await copyFromContext(sb, ['f.txt'], '/p/q/named');
    expect(readFileSync(join(sb.root, 'in/f.txt'), 'utf8')).toBe('F');
    expect(lstatSync(join(sb.root, 'p/q/named')).isFile()).toBe(true);
    expect(mode(join(sb.root, 'p/q'))).toBe(0o755);
  });

  it('a file to an existing directory without slash goes inside it', async () => {
    mkdirSync(join(sb.root, 'existing'));
    await copyFromContext(sb, ['f.txt'], '/existing');
    expect(readFileSync(join(sb.root, 'existing/f.txt'), 'utf8')).toBe('F');
  });

  it('a relative destination is taken from WORKDIR; . is WORKDIR itself', async () => {
    await copyFromContext(sb, ['f.txt'], 'rel/', { workdir: '/work' });
    await copyFromContext(sb, ['dir/top'], '.', { workdir: '/work/dot' });
    expect(readFileSync(join(sb.root, 'work/rel/f.txt'), 'utf8')).toBe('F');
    expect(readFileSync(join(sb.root, 'work/dot/top'), 'utf8')).toBe('top');
  });

  it('several sources go into a directory destination in order', async () => {
    file('other/top', 'other-top');
    await copyFromContext(sb, ['f.txt', 'dir', 'other'], '/many/');
    expect(readdirSync(join(sb.root, 'many')).sort()).toEqual(['f.txt', 'lnk', 'sub', 'top']);
    expect(readFileSync(join(sb.root, 'many/top'), 'utf8')).toBe('other-top');
  });

  it('wildcard matches each go into the destination', async () => {
    file('a.js', 'a');
    file('b.js', 'b');
    await copyFromContext(sb, ['*.js'], '/js/');
    expect(readdirSync(join(sb.root, 'js')).sort()).toEqual(['a.js', 'b.js']);
  });

  it('a symlink named as the source is followed', async () => {
    symlinkSync('f.txt', join(sb.ctx, 'alias'));
    await copyFromContext(sb, ['alias'], '/s/');
    expect(lstatSync(join(sb.root, 's/alias')).isFile()).toBe(true);
  });

  it('COPY --parents keeps the matched paths under the destination', async () => {
    await copyFromContext(sb, ['dir/sub/deep'], '/par/', {}, { parents: true });
    expect(readFileSync(join(sb.root, 'par/dir/sub/deep'), 'utf8')).toBe('deep');
  });
});

describe('COPY over what exists', () => {
  it('a directory merges into an existing one, which keeps its own metadata; subdirectories take the source', async () => {
    mkdirSync(join(sb.root, 'exist/sub'), { recursive: true });
    chmodSync(join(sb.root, 'exist'), 0o700);
    chmodSync(join(sb.root, 'exist/sub'), 0o700);
    writeFileSync(join(sb.root, 'exist/keep'), 'k');
    writeFileSync(join(sb.root, 'exist/top'), 'old');
    await copyFromContext(sb, ['dir'], '/exist');
    expect(mode(join(sb.root, 'exist'))).toBe(0o700);
    expect(mode(join(sb.root, 'exist/sub'))).toBe(0o705);
    expect(readFileSync(join(sb.root, 'exist/keep'), 'utf8')).toBe('k');
    expect(readFileSync(join(sb.root, 'exist/top'), 'utf8')).toBe('top');
  });

  it('a file replaces a file and a symlink replaces a file', async () => {
    mkdirSync(join(sb.root, 'd'));
    writeFileSync(join(sb.root, 'd/lnk'), 'was a file');
    writeFileSync(join(sb.root, 'd/top'), 'old');
    await copyFromContext(sb, ['dir'], '/d');
    expect(readlinkSync(join(sb.root, 'd/lnk'))).toBe('top');
    expect(readFileSync(join(sb.root, 'd/top'), 'utf8')).toBe('top');
  });

  it('a file inside a tree does not replace a directory', async () => {
    mkdirSync(join(sb.root, 'd/top'), { recursive: true });
    await expect(copyFromContext(sb, ['dir'], '/d')).rejects.toMatchObject({
      code: 'TSB_COPY_REPLACE_DIR',
      message: 'cannot replace to directory /d/top with file',
    });
  });

  it('a symlink inside a tree does not replace a directory', async () => {
    mkdirSync(join(sb.root, 'd/lnk'), { recursive: true });
    await expect(copyFromContext(sb, ['dir'], '/d')).rejects.toThrow('cannot replace to directory /d/lnk with file');
  });

  it('a file named as the destination goes inside an existing directory', async () => {
    mkdirSync(join(sb.root, 'dst/f.txt'), { recursive: true });
    await copyFromContext(sb, ['f.txt'], '/dst/f.txt');
    expect(readFileSync(join(sb.root, 'dst/f.txt/f.txt'), 'utf8')).toBe('F');
  });

  it('a directory over a file fails', async () => {
    writeFileSync(join(sb.root, 'dst'), 'x');
    await expect(copyFromContext(sb, ['dir'], '/dst')).rejects.toMatchObject({
      code: 'TSB_COPY_NOT_DIR',
      message: 'cannot copy to non-directory: /dst',
    });
  });

  it('a subdirectory over a file or a symlink in the tree fails', async () => {
    mkdirSync(join(sb.root, 'dst'));
    writeFileSync(join(sb.root, 'dst/sub'), 'x');
    await expect(copyFromContext(sb, ['dir'], '/dst')).rejects.toThrow('cannot copy to non-directory: /dst/sub');
    mkdirSync(join(sb.root, 'dst2'));
    mkdirSync(join(sb.root, 'elsewhere'));
    symlinkSync('/elsewhere', join(sb.root, 'dst2/sub'));
    await expect(copyFromContext(sb, ['dir'], '/dst2')).rejects.toThrow('cannot copy to non-directory: /dst2/sub');
    expect(readdirSync(join(sb.root, 'elsewhere'))).toEqual([]);
  });

  it('a destination ending in / that is a file fails as mkdir does', async () => {
    writeFileSync(join(sb.root, 'dst'), 'x');
    await expect(copyFromContext(sb, ['f.txt'], '/dst/')).rejects.toMatchObject({
      code: 'TSB_COPY_MKDIR',
      message: 'mkdir /dst: not a directory',
    });
    await expect(copyFromContext(sb, ['f.txt'], '/dst/sub/x')).rejects.toThrow('mkdir /dst: not a directory');
  });

  it('a destination symlink is followed inside the root: to a directory, to a file, dangling', async () => {
    mkdirSync(join(sb.root, 'tgtdir'));
    symlinkSync('/tgtdir', join(sb.root, 'linkdir'));
    writeFileSync(join(sb.root, 'oldfile'), 'old');
    symlinkSync('/oldfile', join(sb.root, 'linkfile'));
    symlinkSync('/nowhere', join(sb.root, 'dangling'));
    await copyFromContext(sb, ['f.txt'], '/linkdir');
    await copyFromContext(sb, ['f.txt'], '/linkfile');
    await copyFromContext(sb, ['f.txt'], '/dangling');
    expect(readFileSync(join(sb.root, 'tgtdir/f.txt'), 'utf8')).toBe('F');
    expect(readlinkSync(join(sb.root, 'linkfile'))).toBe('/oldfile');
    expect(readFileSync(join(sb.root, 'oldfile'), 'utf8')).toBe('F');
    expect(readFileSync(join(sb.root, 'nowhere'), 'utf8')).toBe('F');
  });
});

describe('COPY file attributes', () => {
  it('keeps setuid, setgid and sticky bits', async () => {
    file('suid', 's', 0o4755);
    file('sgid', 's', 0o2711);
    mkdirSync(join(sb.ctx, 'sticky'));
    chmodSync(join(sb.ctx, 'sticky'), 0o1777);
    file('sticky/in', 'i');
    await copyFromContext(sb, ['suid', 'sgid'], '/bits/');
    await copyFromContext(sb, ['.'], '/all/', {}, {});
    expect(mode(join(sb.root, 'bits/suid'))).toBe(0o4755);
    expect(mode(join(sb.root, 'bits/sgid'))).toBe(0o2711);
    expect(mode(join(sb.root, 'all/sticky'))).toBe(0o1777);
  });

  it('--chmod sets the mode bits of copied files and directories, not of symlinks or the destination', async () => {
    file('suid', 's', 0o4755);
    await copyFromContext(sb, ['dir'], '/chm/', { chmod: 0o700 });
    await copyFromContext(sb, ['suid'], '/chm2/', { chmod: 0o711 });
    file('plain', 'p');
    await copyFromContext(sb, ['plain'], '/chm3/', { chmod: 0o4755 });
    expect(mode(join(sb.root, 'chm'))).toBe(0o755);
    expect(mode(join(sb.root, 'chm/sub'))).toBe(0o700);
    expect(mode(join(sb.root, 'chm/sub/deep'))).toBe(0o700);
    expect(mode(join(sb.root, 'chm/top'))).toBe(0o700);
    expect(lstatSync(join(sb.root, 'chm/lnk')).isSymbolicLink()).toBe(true);
    // BuildKit replaces only the permission bits: setuid comes from the source, never from --chmod.
    // The --chmod value replaces the special bits too (current BuildKit, tonistiigi/fsutil#168).
    expect(mode(join(sb.root, 'chm2/suid'))).toBe(0o711);
    expect(mode(join(sb.root, 'chm3/plain'))).toBe(0o4755);
  });

  it('hardlinks within one directory source stay hardlinks; across sources they do not', async () => {
    file('hl/a', 'same');
    linkSync(join(sb.ctx, 'hl/a'), join(sb.ctx, 'hl/b'));
    linkSync(join(sb.ctx, 'hl/a'), join(sb.ctx, 'hl2'));
    await copyFromContext(sb, ['hl'], '/hl/');
    await copyFromContext(sb, ['hl/a', 'hl2'], '/sep/');
    const a = lstatSync(join(sb.root, 'hl/a'));
    const b = lstatSync(join(sb.root, 'hl/b'));
    expect(a.ino).toBe(b.ino);
    expect(a.nlink).toBe(2);
    expect(lstatSync(join(sb.root, 'sep/a')).ino).not.toBe(lstatSync(join(sb.root, 'sep/hl2')).ino);
  });

  it('extended attributes are copied', async () => {
    file('xa', 'x');
    fsOps().setXattr(join(sb.ctx, 'xa'), 'user.tsbuild', Buffer.from('value'));
    fsOps().setXattr(join(sb.ctx, 'dir/sub'), 'user.dir', Buffer.from('d'));
    await copyFromContext(sb, ['xa', 'dir'], '/xattr/');
    expect(fsOps().getXattr(join(sb.root, 'xattr/xa'), 'user.tsbuild')?.toString()).toBe('value');
    expect(fsOps().getXattr(join(sb.root, 'xattr/sub'), 'user.dir')?.toString()).toBe('d');
  });

  it('a socket of the build context becomes an empty file with its mode, as the context reaches BuildKit', async () => {
    const { execFileSync } = await import('node:child_process');
    mkdirSync(join(sb.ctx, 'sockdir'));
    execFileSync('perl', [
      '-MIO::Socket::UNIX',
      '-e',
      'IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 1) or die "$!"',
      join(sb.ctx, 'sockdir/s'),
    ]);
    chmodSync(join(sb.ctx, 'sockdir/s'), 0o751);
    await copyFromContext(sb, ['sockdir'], '/sock/');
    const st = lstatSync(join(sb.root, 'sock/s'));
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(0);
    expect(st.mode & 0o7777).toBe(0o751);
  });

  it('fifos are left out, alone or in a directory, as BuildKit copies them', async () => {
    const { execFileSync } = await import('node:child_process');
    mkdirSync(join(sb.ctx, 'withpipe'));
    file('withpipe/x', 'x');
    execFileSync('mkfifo', ['-m', '0620', join(sb.ctx, 'pipe'), join(sb.ctx, 'withpipe/p')]);
    await copyFromContext(sb, ['pipe'], '/fifo/');
    await copyFromContext(sb, ['withpipe'], '/fifo-dir/');
    expect(readdirSync(join(sb.root, 'fifo'))).toEqual([]);
    expect(readdirSync(join(sb.root, 'fifo-dir'))).toEqual(['x']);
  });

  it('empty files and empty directories are copied', async () => {
    file('empty/e', '');
    mkdirSync(join(sb.ctx, 'empty/d'));
    await copyFromContext(sb, ['empty'], '/e/');
    expect(listTree(join(sb.root, 'e'))).toEqual(['d d 0755', 'e f 0644 ']);
  });
});

describe('COPY heredoc and downloaded items', () => {
  it('a heredoc becomes a file with its mode and mtime, inside a directory destination', async () => {
    const mtime = new Date(T * 1000);
    const r = await copyInto({
      root: sb.root,
      items: [{ kind: 'file', name: 'hello.sh', content: 'echo hi\n', mode: 0o644, mtime }],
      dest: '/scripts/',
      workdir: '/',
      unpack: false,
      instruction: 'COPY',
    });
    expect(r).toEqual({ files: 1, bytes: 8 });
    expect(readFileSync(join(sb.root, 'scripts/hello.sh'), 'utf8')).toBe('echo hi\n');
    expect(mode(join(sb.root, 'scripts/hello.sh'))).toBe(0o644);
    expect(lstatSync(join(sb.root, 'scripts/hello.sh')).mtimeMs).toBe(T * 1000);
  });

  it('a heredoc to a file path replaces it; --chmod applies', async () => {
    writeFileSync(join(sb.root, 'target'), 'old');
    await copyInto({
      root: sb.root,
      items: [{ kind: 'file', name: 'EOF', content: Buffer.from('new'), mode: 0o644 }],
      dest: 'target',
      workdir: '/',
      chmod: 0o755,
      unpack: false,
      instruction: 'COPY',
    });
    expect(readFileSync(join(sb.root, 'target'), 'utf8')).toBe('new');
    expect(mode(join(sb.root, 'target'))).toBe(0o755);
  });

  it('a downloaded file is copied from its path with mode 0600', async () => {
    const src = join(sb.base, 'download');
    writeFileSync(src, 'payload');
    await copyInto({
      root: sb.root,
      items: [{ kind: 'file', name: 'pkg.tar.gz', path: src, mode: 0o600, mtime: new Date(T * 1000) }],
      dest: '/dl/',
      workdir: '/',
      unpack: true,
      instruction: 'ADD',
    });
    expect(readFileSync(join(sb.root, 'dl/pkg.tar.gz'), 'utf8')).toBe('payload');
    expect(mode(join(sb.root, 'dl/pkg.tar.gz'))).toBe(0o600);
  });
});

describe('COPY into a hostile image tree', () => {
  it('absolute and relative symlinks in the destination path stay inside the root', async () => {
    symlinkSync(sb.outside, join(sb.root, 'hostabs'));
    symlinkSync('../outside', join(sb.root, 'rel'));
    symlinkSync('/../../../../..', join(sb.root, 'up'));
    await copyFromContext(sb, ['dir'], '/hostabs/a/');
    await copyFromContext(sb, ['f.txt'], '/rel/');
    await copyFromContext(sb, ['f.txt'], '/up/tmp/x');
    await copyFromContext(sb, ['f.txt'], '/rel');
    expect(readdirSync(sb.outside)).toEqual([]);
    expect(readFileSync(join(sb.root, sb.outside, 'a/top'), 'utf8')).toBe('top');
    expect(readFileSync(join(sb.root, 'outside/f.txt'), 'utf8')).toBe('F');
    expect(readFileSync(join(sb.root, 'tmp/x'), 'utf8')).toBe('F');
  });

  it('a symlink to outside at a file target is replaced, never written through', async () => {
    writeFileSync(join(sb.outside, 'victim'), 'safe');
    mkdirSync(join(sb.root, 'd'));
    symlinkSync(join(sb.outside, 'victim'), join(sb.root, 'd/top'));
    symlinkSync(join(sb.outside, 'victim'), join(sb.root, 'd/f.txt'));
    await copyFromContext(sb, ['dir'], '/d');
    await copyFromContext(sb, ['f.txt'], '/d/');
    expect(readFileSync(join(sb.outside, 'victim'), 'utf8')).toBe('safe');
    expect(lstatSync(join(sb.root, 'd/top')).isFile()).toBe(true);
    expect(lstatSync(join(sb.root, 'd/f.txt')).isFile()).toBe(true);
  });

  it('a host-absolute symlink named as the destination file resolves inside the root', async () => {
    writeFileSync(join(sb.outside, 'victim'), 'safe');
    symlinkSync(join(sb.outside, 'victim'), join(sb.root, 'evil'));
    await copyFromContext(sb, ['f.txt'], '/evil');
    expect(readFileSync(join(sb.outside, 'victim'), 'utf8')).toBe('safe');
    expect(readFileSync(join(sb.root, sb.outside, 'victim'), 'utf8')).toBe('F');
  });

  it('a symlinked subdirectory in the way fails instead of writing through it', async () => {
    mkdirSync(join(sb.root, 'app'));
    symlinkSync(sb.outside, join(sb.root, 'app/sub'));
    await expect(copyFromContext(sb, ['dir'], '/app')).rejects.toMatchObject({ code: 'TSB_COPY_NOT_DIR' });
    expect(readdirSync(sb.outside)).toEqual([]);
  });

  it('a symlink loop in the destination fails cleanly', async () => {
    symlinkSync('/l2', join(sb.root, 'l1'));
    symlinkSync('/l1', join(sb.root, 'l2'));
    await expect(copyFromContext(sb, ['f.txt'], '/l1/x')).rejects.toMatchObject({ code: 'TSB_COPY_LINKS' });
  });

  it('the copy stops when the signal fires', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(copyFromContext(sb, ['dir'], '/x/', { signal: ac.signal })).rejects.toMatchObject({
      code: 'TSB_COPY_ABORTED',
    });
  });
});
