import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';

/**
 * Comparable listings of image root filesystems and configs, for the
 * differential conformance suite (tsbuild versus `docker build`). A tree is read
 * from a flattened rootfs tar (`docker export`, tsbuild's exportRootfs) and
 * describes each path by type, mode (with setuid/setgid/sticky), owner, size,
 * content digest, link target, device numbers and hardlink group; never mtimes.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'dangling-hardlink';

export interface TreeEntry {
  type: EntryType;
  /** Permission bits with setuid, setgid and sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** File size in bytes (0 for everything else). */
  size: number;
  /** sha256 of a file's content. */
  digest?: string;
  /** The content of a small text file (up to 2 KiB), shown when contents differ. */
  text?: string;
  /** A symlink's target, or a dangling hardlink's. */
  link?: string;
  /** `major,minor` of a device. */
  device?: string;
  /** Identity of the inode: paths with the same value are hardlinks of one another. */
  inode: string;
}

export type Tree = Map<string, TreeEntry>;

/** A tar member name as a rootfs path: no `./` or `/` prefix, no trailing `/`; the root itself is ''. */
export function normalizeTarPath(name: string): string {
  let p = name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
  if (p === '.') p = '';
  return p;
}

const TYPES: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

const TEXT_LIMIT = 2048;

function textOf(data: Buffer): string | undefined {
  const text = data.toString('utf8');
  // Only printable text (with tabs and newlines) is worth showing.
  return /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd') ? text : undefined;
}

/** Reads a plain tar stream into a tree (the root entry, if any, is left out). */
export async function treeFromTar(input: Readable): Promise<Tree> {
  const tree: Tree = new Map();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, body, next) => {
      const path = normalizeTarPath(header.name);
      const hash = createHash('sha256');
      const head: Buffer[] = [];
      let seen = 0;
      body.on('data', (chunk: unknown) => {
        const c = chunk as Buffer;
        hash.update(c);
        if (seen <= TEXT_LIMIT) head.push(c);
        seen += c.length;
      });
      body.on('error', reject);
      body.on('end', () => {
        if (path !== '') {
          addEntry(
            tree,
            path,
            header,
            hash.digest('hex'),
            seen <= TEXT_LIMIT ? textOf(Buffer.concat(head)) : undefined,
          );
        }
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
    input.on('error', reject);
  });
  input.pipe(ex);
  await done;
  return tree;
}

interface HeaderLike {
  type?: string | null;
  mode?: number | null;
  uid?: number | null;
  gid?: number | null;
  size?: number | null;
  linkname?: string | null;
  devmajor?: number | null;
  devminor?: number | null;
}

function addEntry(tree: Tree, path: string, h: HeaderLike, digest: string, text: string | undefined): void {
  // A path written again replaces the earlier entry and everything below it.
  const old = tree.get(path);
  if (old?.type === 'dir' && h.type !== 'directory') removeSubtree(tree, path);
  const base = { mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0 };
  if (h.type === 'link') {
    const target = normalizeTarPath(h.linkname ?? '');
    const t = tree.get(target);
    if (t === undefined) {
      tree.set(path, { type: 'dangling-hardlink', ...base, size: 0, link: target, inode: path });
    } else {
      tree.set(path, { ...t });
    }
    return;
  }
  const type = TYPES[h.type ?? 'file'];
  if (type === undefined) throw new Error(`unexpected tar entry type ${h.type} at ${path}`);
  const entry: TreeEntry = { type, ...base, size: type === 'file' ? (h.size ?? 0) : 0, inode: path };
  if (type === 'file') {
    entry.digest = digest;
    if (text !== undefined) entry.text = text;
  }
  if (type === 'symlink') entry.link = h.linkname ?? '';
  if (type === 'char' || type === 'block') entry.device = `${h.devmajor ?? 0},${h.devminor ?? 0}`;
  tree.set(path, entry);
}

function removeSubtree(tree: Tree, dir: string): void {
  const prefix = `${dir}/`;
  for (const p of [...tree.keys()]) if (p.startsWith(prefix)) tree.delete(p);
}

/** The hardlink groups of a tree: inode → sorted paths, for inodes with more than one path. */
function hardlinkGroups(tree: Tree): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [path, e] of tree) {
    const g = groups.get(e.inode);
    if (g) g.push(path);
    else groups.set(e.inode, [path]);
  }
  for (const [k, g] of groups) {
    if (g.length < 2) groups.delete(k);
    else g.sort();
  }
  return groups;
}

/** One line per path, sorted: `path type mode uid:gid [size sha] [-> link] [dev] [links=a,b]`. */
export function formatTree(tree: Tree): string[] {
  const groups = hardlinkGroups(tree);
  return [...tree.keys()].sort().map((path) => formatEntry(path, tree.get(path)!, groups));
}

function formatEntry(path: string, e: TreeEntry, groups: Map<string, string[]>): string {
  let line = `${path} ${e.type} ${e.mode.toString(8).padStart(4, '0')} ${e.uid}:${e.gid}`;
  if (e.type === 'file') line += ` ${e.size} ${e.digest?.slice(0, 16)}`;
  if (e.link !== undefined) line += ` -> ${e.link}`;
  if (e.device !== undefined) line += ` dev=${e.device}`;
  const g = groups.get(e.inode);
  if (g) line += ` links=${g.join(',')}`;
  return line;
}

/** Differences between two trees as readable lines (`- path …` only in `a`, `+ path …` only in `b`, `~` changed). */
export function diffTrees(a: Tree, b: Tree, labels: [string, string] = ['docker', 'tsbuild']): string[] {
  const ga = hardlinkGroups(a);
  const gb = hardlinkGroups(b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: string[] = [];
  for (const p of paths) {
    const ea = a.get(p);
    const eb = b.get(p);
    if (ea === undefined) out.push(`only in ${labels[1]}: ${formatEntry(p, eb!, gb)}`);
    else if (eb === undefined) out.push(`only in ${labels[0]}: ${formatEntry(p, ea, ga)}`);
    else {
      const la = formatEntry(p, ea, ga);
      const lb = formatEntry(p, eb, gb);
      if (la === lb) continue;
      let line = `${p}: ${labels[0]} "${la}" vs ${labels[1]} "${lb}"`;
      if (ea.digest !== eb.digest && ea.text !== undefined && eb.text !== undefined) {
        line += ` (content ${labels[0]} ${JSON.stringify(ea.text)} vs ${labels[1]} ${JSON.stringify(eb.text)})`;
      }
      out.push(line);
    }
  }
  return out;
}

/**
 * What `docker export` adds to a container's filesystem by itself, and so is
 * never compared (the files of dockerd's init layer, daemon/initlayer):
 * - `/.dockerenv`, `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`: empty files
 *   (bind-mount targets of a running container);
 * - `/etc/mtab`: a symlink to /proc/mounts;
 * - `/dev/console`, `/dev/pts`, `/dev/shm`: mount targets.
 * The init layer also creates `/dev`, `/proc`, `/sys` and `/etc` when the image
 * lacks them (a FROM scratch image); those are ignored only when the other tree
 * lacks them too. The same paths are dropped from the other tree, so that a case
 * that writes one of them does not count as a difference.
 */
export const DOCKER_EXPORT_ARTIFACTS = [
  '.dockerenv',
  'etc/hostname',
  'etc/hosts',
  'etc/resolv.conf',
  'etc/mtab',
  'dev/console',
  'dev/pts',
  'dev/shm',
] as const;
const INIT_LAYER_PARENTS = ['dev', 'proc', 'sys', 'etc'];

/** Drops docker export's own additions (DOCKER_EXPORT_ARTIFACTS) from both trees; returns the paths dropped. */
export function dropDockerExportArtifacts(docker: Tree, other: Tree): string[] {
  const dropped: string[] = [];
  for (const p of DOCKER_EXPORT_ARTIFACTS) {
    for (const t of [docker, other]) {
      if (t.has(p)) {
        if (t.get(p)?.type === 'dir') removeSubtree(t, p);
        t.delete(p);
        if (t === docker) dropped.push(p);
      }
    }
  }
  for (const p of INIT_LAYER_PARENTS) {
    const e = docker.get(p);
    if (e?.type === 'dir' && !other.has(p) && ![...docker.keys()].some((k) => k.startsWith(`${p}/`))) {
      docker.delete(p);
      dropped.push(p);
    }
  }
  return dropped;
}

/** The config fields the suite compares (Docker's names, as in the image config's `config`). */
export const CONFIG_FIELDS = [
  'Env',
  'Cmd',
  'Entrypoint',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'Labels',
  'StopSignal',
  'Healthcheck',
  'OnBuild',
  'Shell',
] as const;

export type ConfigView = Partial<Record<(typeof CONFIG_FIELDS)[number], unknown>>;

/**
 * The compared part of an image config's `config` object. null, '' and {}
 * count as absent (Docker treats them alike); lists are kept as they are
 * (an empty Cmd differs from none).
 */
export function configView(config: Record<string, unknown> | undefined | null): ConfigView {
  const view: ConfigView = {};
  for (const f of CONFIG_FIELDS) {
    const v = config?.[f];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    view[f] = v;
  }
  return view;
}

export interface HistoryView {
  created_by: string;
  empty_layer: boolean;
}

/** The compared part of an image config's history: created_by and empty_layer per entry. */
export function historyView(history: unknown): HistoryView[] {
  if (!Array.isArray(history)) return [];
  return history.map((h: { created_by?: string; empty_layer?: boolean }) => ({
    created_by: h.created_by ?? '',
    empty_layer: h.empty_layer === true,
  }));
}

/** The number of layers of an image config (rootfs.diff_ids). */
export function layerCount(config: { rootfs?: { diff_ids?: unknown[] } }): number {
  return config.rootfs?.diff_ids?.length ?? 0;
}
