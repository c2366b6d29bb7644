import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, tsbuild } from '../../helpers/cli.js';
import { busyboxFixture, requireCommand, requireRoot } from '../../helpers/prereqs.js';
import { expectNoLeaks, type LeakSnapshot, leakSnapshot, tempDir } from './support.js';

describe('tsbuild run', () => {
  let before: LeakSnapshot;
  let rootfs: string;
  beforeEach(() => {
    requireRoot();
    rootfs = busyboxFixture().rootfs;
    before = leakSnapshot();
  });
  afterEach(() => expectNoLeaks(before));

  it("exits with the container's status, 127 for a missing command and 125 for its own errors", () => {
    expect(tsbuild(['run', rootfs, 'sh', '-c', 'exit 3']).status).toBe(3);
    const missing = tsbuild(['run', rootfs, 'nosuch']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toContain('"nosuch": executable file not found in $PATH');
    const noRootfs = tsbuild(['run', '/nonexistent/rootfs', 'true']);
    expect(noRootfs.status).toBe(125);
    expect(noRootfs.stderr).toContain('no such rootfs directory: /nonexistent/rootfs');
    expect(tsbuild(['run', '--bogus', rootfs, 'true']).status).toBe(125);
    expect(tsbuild(['run']).status).toBe(125);
    expect(tsbuild(['run', '--memory', 'lots', rootfs, 'true']).status).toBe(125);
  });

  it('passes -e, --env-file, -w, -u, --hostname and the command options through', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'env'), '# comment\nFROM_FILE=1\nOVERRIDE=file\n\n');
      const r = tsbuild(
        [
          'run',
          '--env-file',
          join(t.dir, 'env'),
          '-e',
          'A=1',
          '--env=OVERRIDE=flag',
          '-w',
          '/tmp/wd',
          '-u',
          'app',
          '--hostname',
          'cli-box',
        ].concat([
          rootfs,
          'sh',
          '-c',
          'echo $A $FROM_FILE $OVERRIDE; pwd; id -un; hostname; printf "%s|" "$@"',
          'sh',
          '-e',
          '-u',
        ]),
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('1 1 flag\n/tmp/wd\napp\ncli-box\n-e|-u|');
      expect(r.status).toBe(0);
    } finally {
      t.cleanup();
    }
  });

  it('binds volumes, honours --read-only and never writes to the rootfs directory', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'in'), 'data\n');
      const listing = readdirSync(rootfs).sort();
      const r = tsbuild([
        'run',
        '-v',
        `${t.dir}:/data`,
        '-v',
        `${t.dir}:/ro:ro`,
        rootfs,
        'sh',
        '-c',
        'cat /data/in; echo made > /data/out; touch /ro/x 2>/dev/null || echo ro; touch /new && echo rootfs-writable',
      ]);
      expect(r.stdout).toBe('data\nro\nrootfs-writable\n');
      expect(readdirSync(t.dir).sort()).toEqual(['in', 'out']);
      const ro = tsbuild(['run', '--read-only', rootfs, 'sh', '-c', 'touch /new 2>/dev/null || echo read-only']);
      expect(ro.stdout).toBe('read-only\n');
      expect(readdirSync(rootfs).sort()).toEqual(listing);
    } finally {
      t.cleanup();
    }
  });

  it('applies --memory, --pids-limit and --cpus', () => {
    const oom = tsbuild([
      'run',
      '-m',
      '16m',
      '--memory-swap',
      '16m',
      rootfs,
      'sh',
      '-c',
      'head -c 100m /dev/zero | tail',
    ]);
    expect(oom.status).toBe(137);
    const pids = tsbuild(['run', '--pids-limit', '5', rootfs, 'sh', '-c', 'while :; do sleep 5 & done']);
    expect(pids.status).toBe(2);
    expect(pids.stderr).toContain("can't fork");
    expect(tsbuild(['run', '--cpus', '0.5', rootfs, 'true']).status).toBe(0);
    expect(tsbuild(['run', '--cpus', '99', rootfs, 'true']).stderr).toContain('range of CPUs is from 0.01');
  });

  it('feeds stdin with -i only, and runs --init, --entrypoint and --network host', () => {
    expect(tsbuild(['run', '-i', rootfs, 'cat'], { input: 'typed\n' }).stdout).toBe('typed\n');
    expect(tsbuild(['run', rootfs, 'cat'], { input: 'typed\n' }).stdout).toBe('');
    expect(tsbuild(['run', '--init', rootfs, 'sh', '-c', 'echo $$']).stdout).toBe('2\n');
    expect(tsbuild(['run', '--entrypoint', '/bin/echo', rootfs, 'via', 'entrypoint']).stdout).toBe('via entrypoint\n');
    const hostIfs = readdirSync('/sys/class/net').length;
    const net = tsbuild(['run', '--network', 'host', rootfs, 'sh', '-c', 'ls /sys/class/net | wc -l']);
    expect(Number(net.stdout)).toBe(hostIfs);
    expect(tsbuild(['run', '--network', 'bridge', rootfs, 'true']).status).toBe(125);
  });

  it('allocates a terminal with -t', () => {
    requireCommand('script', 'bsdutils');
    const r = spawnSync(
      'script',
      ['-qec', `${process.execPath} ${CLI} run -t ${rootfs} sh -c 'tty; echo TERM=$TERM; exit 4'`, '/dev/null'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stdout.replace(/\r/g, '')).toContain('/dev/pts/0\nTERM=xterm\n');
    expect(r.status).toBe(4);
  });

  it('runs an image from the store with its config', () => {
    const t = tempDir();
    try {
      const root = join(t.dir, 'store');
      const imp = tsbuild(['--root', root, 'import', busyboxFixture().tar, 'busy:test']);
      expect(imp.status).toBe(0);
      const r = tsbuild(['--root', root, 'run', '--rm', 'busy:test', 'sh', '-c', 'echo from-image; touch /x; ls /x']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('from-image\n/x\n');
      // No active snapshot is left behind.
      const again = tsbuild(['--root', root, 'run', 'busy:test', 'ls', '/x']);
      expect(again.status).toBe(1);
      expect(tsbuild(['--root', root, 'run', 'nosuch:image', 'true']).status).toBe(125);
      execFileSync('true');
    } finally {
      t.cleanup();
    }
  });

  it('keeps the image and the writable layer while the container runs, and leaves no snapshot', async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, 'store');
      expect(tsbuild(['--root', root, 'import', busyboxFixture().tar, 'busy:test']).status).toBe(0);
      // The first run unpacks the layer; the second finds it unpacked (the light path).
      expect(tsbuild(['--root', root, 'run', '--rm', 'busy:test', 'true']).status).toBe(0);
      const snapshotsBefore = readdirSync(join(root, 'snapshots')).sort();
      const child = spawn(
        process.execPath,
        [
          CLI,
          '--root',
          root,
          'run',
          '--rm',
          '-i',
          'busy:test',
          'sh',
          '-c',
          'echo ready; read x; echo data >/z; cat /z',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
      });
      const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      await new Promise<void>((res) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('ready\n')) res();
        });
      });
      // While it runs: rmi is refused, and a prune takes neither the image's snapshots nor the writable layer.
      const rmi = tsbuild(['--root', root, 'rmi', 'busy:test']);
      expect(rmi.status).not.toBe(0);
      expect(rmi.stderr).toContain('image is being used');
      expect(tsbuild(['--root', root, 'prune', '--all']).status).toBe(0);
      expect(readdirSync(join(root, 'snapshots')).length).toBe(snapshotsBefore.length + 1);
      child.stdin.end('go\n');
      expect(await exited).toBe(0);
      expect(err).toBe('');
      expect(out).toBe('ready\ndata\n');
      expect(readdirSync(join(root, 'snapshots')).sort()).toEqual(snapshotsBefore);
      expect(tsbuild(['--root', root, 'rmi', 'busy:test']).status).toBe(0);
    } finally {
      t.cleanup();
    }
  });
});
