import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabases } from '../../../metadata/index.js';
import {
  configView,
  DOCKER_EXPORT_ARTIFACTS,
  diffTrees,
  dropDockerExportArtifacts,
  formatTree,
  historyView,
  layerCount,
} from '../../helpers/image-tree.js';
import { busyboxFixture, requireDocker, requireRoot } from '../../helpers/prereqs.js';
import {
  BASE_IMAGE,
  DOCKER,
  docker,
  dockerBuild,
  dockerImage,
  dockerRmi,
  type ImageView,
  loadBaseImage,
  tsbuildImage,
} from './support.js';

/**
 * Checks of the comparison itself, on two docker images that differ in known
 * ways: the listing ignores mtimes, sees every kind of difference, and a docker
 * image loaded into tsbuild's store and exported by tsbuild lists the same.
 */

const COMMON = [
  'mkdir -p /t/sub',
  'echo same > /t/same',
  'echo content > /t/content',
  'echo m > /t/mode && chmod 644 /t/mode',
  'echo o > /t/owner',
  'ln -s same /t/link',
  'echo h > /t/h1 && ln /t/h1 /t/h2',
  'echo x > /t/sub/x',
  'busybox mkfifo /t/fifo',
];
const A = `FROM ${BASE_IMAGE}
RUN ${COMMON.join(' && ')}
ENV ONLY_A=1
CMD ["a"]
`;
const B = `FROM ${BASE_IMAGE}
RUN ${COMMON.join(' && ')} && echo changed > /t/content && chmod 4755 /t/mode && chown 1000:1000 /t/owner \\
 && ln -sf other /t/link && rm /t/h2 && echo h > /t/h2 && echo new > /t/new && rm -r /t/sub && rm /bin/ls
LABEL only-b=1
CMD ["b"]
`;

/** The listing's short content digest of `text` plus a newline. */
const d = (text: string) => createHash('sha256').update(`${text}\n`).digest('hex').slice(0, 16);

const tags = { a: `tsb-conf-compare-a-${process.pid}`, b: `tsb-conf-compare-b-${process.pid}` };
let work = '';
let a: ImageView;
let b: ImageView;

beforeAll(async () => {
  requireRoot();
  requireDocker();
  busyboxFixture();
  work = mkdtempSync('/var/tmp/tsb-conf-compare-');
  for (const [name, text] of [
    ['a', A],
    ['b', B],
  ] as const) {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), text);
  }
  await Promise.all([
    dockerBuild({ context: join(work, 'a'), tag: tags.a }),
    dockerBuild({ context: join(work, 'b'), tag: tags.b }),
  ]);
  [a, b] = await Promise.all([dockerImage(tags.a), dockerImage(tags.b)]);
});

afterAll(async () => {
  await dockerRmi([tags.a, tags.b]);
  closeDatabases();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the rootfs listing', () => {
  it('lists type, mode, owner, size, digest, link target and hardlink group of each path', () => {
    const lines = formatTree(a.tree).filter((l) => l.startsWith('t/') || l.startsWith('t '));
    expect(lines).toEqual([
      't dir 0755 0:0',
      `t/content file 0644 0:0 8 ${d('content')}`,
      't/fifo fifo 0644 0:0',
      `t/h1 file 0644 0:0 2 ${d('h')} links=t/h1,t/h2`,
      `t/h2 file 0644 0:0 2 ${d('h')} links=t/h1,t/h2`,
      't/link symlink 0777 0:0 -> same',
      `t/mode file 0644 0:0 2 ${d('m')}`,
      `t/owner file 0644 0:0 2 ${d('o')}`,
      `t/same file 0644 0:0 5 ${d('same')}`,
      't/sub dir 0755 0:0',
      `t/sub/x file 0644 0:0 2 ${d('x')}`,
    ]);
  });

  it('is the same for the same image exported twice (no mtimes)', async () => {
    const again = await dockerImage(tags.a);
    expect(diffTrees(a.tree, again.tree)).toEqual([]);
  });

  it('reports each kind of difference between two images and nothing else', () => {
    const x = new Map(a.tree);
    const y = new Map(b.tree);
    dropDockerExportArtifacts(x, y);
    expect(diffTrees(x, y, ['a', 'b'])).toEqual([
      'only in a: bin/ls symlink 0777 0:0 -> /bin/busybox',
      `t/content: a "t/content file 0644 0:0 8 ${d('content')}" vs b "t/content file 0644 0:0 8 ${d('changed')}" (content a "content\\n" vs b "changed\\n")`,
      `t/h1: a "t/h1 file 0644 0:0 2 ${d('h')} links=t/h1,t/h2" vs b "t/h1 file 0644 0:0 2 ${d('h')}"`,
      `t/h2: a "t/h2 file 0644 0:0 2 ${d('h')} links=t/h1,t/h2" vs b "t/h2 file 0644 0:0 2 ${d('h')}"`,
      't/link: a "t/link symlink 0777 0:0 -> same" vs b "t/link symlink 0777 0:0 -> other"',
      `t/mode: a "t/mode file 0644 0:0 2 ${d('m')}" vs b "t/mode file 4755 0:0 2 ${d('m')}"`,
      `only in b: t/new file 0644 0:0 4 ${d('new')}`,
      `t/owner: a "t/owner file 0644 0:0 2 ${d('o')}" vs b "t/owner file 0644 1000:1000 2 ${d('o')}"`,
      'only in a: t/sub dir 0755 0:0',
      `only in a: t/sub/x file 0644 0:0 2 ${d('x')}`,
    ]);
  });

  it("drops only what docker export adds by itself (dockerd's init layer)", () => {
    const x = new Map(a.tree);
    const dropped = dropDockerExportArtifacts(x, new Map(a.tree));
    expect(dropped.sort()).toEqual([...DOCKER_EXPORT_ARTIFACTS].sort());
    for (const p of ['dev', 'proc', 'sys', 'etc', 'etc/passwd']) expect(x.has(p), p).toBe(true);
  });
});

describe('the config and history views', () => {
  it('keep the compared config fields, with empty values as absent', () => {
    expect(configView(a.config.config)).toEqual({
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'ONLY_A=1'],
      Cmd: ['a'],
      Labels: { 'org.tsbuild.fixture.sha256': expect.any(String) },
    });
    expect(configView(b.config.config)).not.toEqual(configView(a.config.config));
    expect(configView({ WorkingDir: '', Volumes: null, Labels: {}, Cmd: [] })).toEqual({ Cmd: [] });
  });

  it('list created_by and empty_layer per history entry, and the layers', () => {
    expect(historyView(a.config.history).slice(1)).toEqual([
      { created_by: `RUN /bin/sh -c ${COMMON.join(' && ')} # buildkit`, empty_layer: false },
      { created_by: 'ENV ONLY_A=1', empty_layer: true },
      { created_by: 'CMD ["a"]', empty_layer: true },
    ]);
    expect(layerCount(a.config)).toBe(2);
  });
});

describe("tsbuild's export of a docker image", () => {
  it('lists the same rootfs and config as docker export and docker save', async () => {
    const root = join(work, 'root');
    await loadBaseImage(root, tags.b);
    const ours = await tsbuildImage(root, tags.b);
    const x = new Map(b.tree);
    const y = new Map(ours.tree);
    dropDockerExportArtifacts(x, y);
    expect(diffTrees(x, y)).toEqual([]);
    expect(configView(ours.config.config)).toEqual(configView(b.config.config));
    expect(historyView(ours.config.history)).toEqual(historyView(b.config.history));
  });

  it('docker is the one at /usr/bin/docker with BuildKit', async () => {
    expect(DOCKER).toBe('/usr/bin/docker');
    expect((await docker(['version', '--format', '{{.Server.Version}}'])).trim()).toMatch(/^\d+\.\d+/);
  });
});
