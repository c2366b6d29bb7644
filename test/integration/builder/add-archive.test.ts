import { execFileSync } from 'node:child_process';
import { createReadStream, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildContext } from '../../../builder/context/index.js';
import { copyInto } from '../../../builder/ops/copy-into.js';
import { fsOps, type TarHeader, TarReader } from '../../../snapshotter/index.js';
import { requireDocker, requireRoot } from '../../helpers/prereqs.js';
import { makeTar } from '../../unit/snapshotter/helpers.js';
import { BASE_IMAGE, DOCKER, docker, dockerBuild } from '../conformance/support.js';

/** security.capability v2: cap_setuid and cap_net_raw permitted, a byte over 127 among them. */
const CAP = Buffer.from([1, 0, 0, 2, 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const BIN = Buffer.from([0, 0xff, 0x80, 0x0a, 0x3d, 0x7a]);

let base = '';
const tag = `tsb-add-archive-${process.pid}`;

beforeAll(() => {
  requireRoot();
  base = mkdtempSync('/var/tmp/tsb-add-archive-');
});
afterAll(async () => {
  if (base) rmSync(base, { recursive: true, force: true });
  await docker(['rmi', '-f', tag]).catch(() => undefined);
});

/** The entries of an image's layer (`docker save`), `back` from the last (1: the last one). */
async function layerEntries(ref: string, back: number): Promise<Map<string, TarHeader>> {
  const dir = mkdtempSync(join(base, 'save-'));
  execFileSync('sh', ['-ec', `"$1" save "$2" | tar -x -C "$3"`, 'sh', DOCKER, ref, dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  const layers = manifest[0]?.Layers ?? [];
  const reader = new TarReader(createReadStream(join(dir, layers[layers.length - back] as string)));
  const out = new Map<string, TarHeader>();
  for (let h = await reader.next(); h; h = await reader.next()) out.set(h.name, h);
  return out;
}

/** A time as busybox `stat -c %y` shows it in a container (UTC, with nanoseconds). */
function statTime(ns: bigint): string {
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const iso = new Date(Number(sec) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac.toString().padStart(9, '0')} +0000`;
}

/** `/path uid:gid mode mtime`, as `stat -c '%n %u:%g %a %y'` shows it. */
function statLine(root: string, path: string): string {
  const st = lstatSync(join(root, path), { bigint: true });
  return `/${path} ${st.uid}:${st.gid} ${(Number(st.mode) & 0o7777).toString(8)} ${statTime(st.mtimeNs)}`;
}

describe('ADD of an archive as docker build', () => {
  it('keeps binary security.capability, PAX owners, fractional mtimes and the bounds moby puts on old ones', async () => {
    requireDocker();
    const ctxDir = join(base, 'ctx');
    mkdirSync(ctxDir);
    writeFileSync(
      join(ctxDir, 'meta.tar'),
      makeTar([
        { name: 'bin', type: 'dir', mode: 0o755, mtime: 1_500_000_000 },
        {
          name: 'bin/ping',
          data: 'not really ping',
          mode: 0o755,
          uid: 3_000_000,
          gid: 4_000_000,
          xattrs: new Map([
            ['security.capability', CAP],
            ['user.bin', BIN],
          ]),
        },
        { name: 'old', data: 'o', mode: 0o600, mtime: -86_400 },
        { name: 'olddir', type: 'dir', mode: 0o750, mtime: -1 },
        { name: 'oldlink', type: 'symlink', linkname: 'old', mtime: -86_400 },
        { name: '.wh.plain', data: 'w' },
      ]),
    );
    const src = join(base, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'frac'), 'f');
    execFileSync('touch', ['-d', '2017-07-14 02:40:00.25', join(src, 'frac')]);
    execFileSync('tar', ['--format=posix', '-C', src, '-cf', join(ctxDir, 'frac.tar'), 'frac']);
    const paths = ['m/bin/ping', 'm/old', 'm/olddir', 'm/oldlink', 'm/.wh.plain', 'm/frac'];
    writeFileSync(
      join(ctxDir, 'Dockerfile'),
      `FROM ${BASE_IMAGE}\nADD meta.tar frac.tar /m/\nRUN stat -c '%n %u:%g %a %y' ${paths.map((p) => `/${p}`).join(' ')} > /stat\n`,
    );
    await dockerBuild({ context: ctxDir, tag });
    const theirStat = (await docker(['run', '--rm', tag, 'cat', '/stat'])).trim().split('\n');
    const theirLayer = await layerEntries(tag, 2); // ADD's, under RUN's

    const root = join(base, 'root');
    mkdirSync(root);
    const selected = await new BuildContext(ctxDir).select(['meta.tar', 'frac.tar']);
    await copyInto({
      root,
      items: selected.map((source) => ({ kind: 'selected' as const, source, preserveOwnership: false })),
      dest: '/m/',
      workdir: '/',
      unpack: true,
      instruction: 'ADD',
    });

    // The capability survives with its binary value in both; docker's layer writer keeps only security.capability.
    const ops = fsOps();
    expect(ops.getXattr(join(root, 'm/bin/ping'), 'security.capability')).toEqual(CAP);
    expect(ops.getXattr(join(root, 'm/bin/ping'), 'user.bin')).toEqual(BIN);
    expect(theirLayer.get('m/bin/ping')?.xattrs.get('security.capability')).toEqual(CAP);
    // Owners, modes and mtimes (to the nanosecond) as docker's.
    const ours = paths.map((p) => statLine(root, p));
    expect(ours).toEqual(theirStat);
    expect(ours).toEqual([
      '/m/bin/ping 3000000:4000000 755 2023-11-14 22:13:20.000000000 +0000',
      '/m/old 0:0 600 1970-01-01 00:00:00.000000000 +0000',
      '/m/olddir 0:0 750 1970-01-01 00:00:00.000000000 +0000',
      '/m/oldlink 0:0 777 1969-12-31 00:00:00.000000000 +0000',
      '/m/.wh.plain 0:0 644 2023-11-14 22:13:20.000000000 +0000',
      '/m/frac 0:0 644 2017-07-14 02:40:00.250000000 +0000',
    ]);
  });
});
