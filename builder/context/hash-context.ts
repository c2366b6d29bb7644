import { createHash } from 'node:crypto';
import type { BuildContext, SelectedSource } from './build-context.js';
import { type ContextEntry, inodeKey } from './context-entry.js';
import { type ContextFs, nodeContextFs, yielder } from './context-fs.js';
import { contextReadError } from './errors.js';
import { MemoryStatCache, type StatCache, type StatRecord } from './stat-cache.js';

export interface HashOptions {
  /** Where content digests are remembered between runs; default: a fresh in-memory cache. */
  statCache?: StatCache;
  fs?: ContextFs;
  /** Large files streamed at once. Default 4. */
  concurrency?: number;
  /**
   * A cached digest is trusted only if the file's ctime was at least this
   * long before the digest was computed (a change within the file system's
   * timestamp granularity could keep the same stat). Default 100 ms.
   */
  racyWindowMs?: number;
  /** Files larger than this are streamed instead of read whole. Default 1 MiB. */
  streamThreshold?: number;
}

export interface HashResult {
  /** `sha256:…` over every selected entry: path, type, mode, owner, content digest or link target; not times. */
  digest: string;
  /** Regular files among the entries. */
  files: number;
  /** Files whose content was read (the rest came from the stat cache). */
  filesRead: number;
  bytesRead: number;
  cacheHits: number;
}

/** The `sha256:…` digest of a small file's content, read synchronously. */
export function digestSmallFile(path: string, fs: ContextFs = nodeContextFs): { digest: string; bytes: number } {
  const hash = createHash('sha256');
  let bytes: number;
  try {
    bytes = fs.readChunks(path, (chunk) => hash.update(chunk));
  } catch (err) {
    throw contextReadError('read', path, err);
  }
  return { digest: `sha256:${hash.digest('hex')}`, bytes };
}

/** The `sha256:…` digest of a file's content: read in one go when small, streamed when large. */
export async function digestFile(
  path: string,
  size: number,
  fs: ContextFs = nodeContextFs,
  streamThreshold = 1 << 20,
): Promise<{ digest: string; bytes: number }> {
  if (size <= streamThreshold) return digestSmallFile(path, fs);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of fs.createReadStream(path)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (err) {
    throw contextReadError('read', path, err);
  }
  return { digest: `sha256:${hash.digest('hex')}`, bytes };
}

/** Octal permission strings, made once per mode. */
const octal: string[] = [];
/** Strings that JSON.stringify leaves as they are (quotes aside): printable ASCII without `"` or `\\`. */
const plain = /^[^"\\\u0000-\u001f\u007f-\uffff]*$/;

function quote(s: string): string {
  return plain.test(s) ? `"${s}"` : JSON.stringify(s);
}

function entryLine(e: ContextEntry): string {
  let content = '';
  if (e.type === 'file')
    content = e.hardlinkOf === undefined ? (e.digest as string) : `${e.digest} link=${quote(e.hardlinkOf)}`;
  else if (e.type === 'symlink') content = quote(e.linkTarget ?? '');
  else if (e.type === 'char' || e.type === 'block') content = String(e.rdev ?? 0);
  const mode = e.mode;
  let modeText = octal[mode];
  if (modeText === undefined) {
    modeText = mode.toString(8);
    octal[mode] = modeText;
  }
  return `${e.type} ${quote(e.path)} ${modeText} ${e.uid}:${e.gid} ${content}\n`;
}

/**
 * Computes the content digest of selected COPY/ADD sources for a cache key,
 * and sets `digest` on every regular file. A file whose stat matches the stat
 * cache is not read; the others are read with bounded concurrency (large ones
 * streamed) and remembered.
 */
export async function hashSources(sources: readonly SelectedSource[], options: HashOptions = {}): Promise<HashResult> {
  const fs = options.fs ?? nodeContextFs;
  const cache: StatCache = options.statCache ?? new MemoryStatCache();
  const racyNs = (options.racyWindowMs ?? 100) * 1e6;
  const threshold = options.streamThreshold ?? 1 << 20;
  const result: HashResult = { digest: '', files: 0, filesRead: 0, bytesRead: 0, cacheHits: 0 };

  const first = sources[0]?.root;
  if (first && cache.preload) {
    const cp = first.contextPath;
    cache.preload(cp === '.' ? first.absPath : first.absPath.slice(0, first.absPath.length - cp.length - 1));
  }
  // Entries still to read, grouped by inode: hard links and repeated sources are read once.
  const toRead = new Map<string, ContextEntry[]>();
  const lookup = (e: ContextEntry) => {
    result.files++;
    if (e.digest !== undefined) return;
    const hit = cache.get(e);
    if (hit && hit.hashedAtNs - e.ctimeNs > racyNs) {
      e.digest = hit.digest;
      result.cacheHits++;
      return;
    }
    const key = e.nlink > 1 ? inodeKey(e, (p) => fs.lstatBigint(p)) : e.absPath;
    const group = toRead.get(key);
    if (group) group.push(e);
    else toRead.set(key, [e]);
  };
  for (const s of sources) {
    if (s.root.type === 'file' && !s.parents) lookup(s.root);
    const entries = s.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as ContextEntry;
      if (e.type === 'file') lookup(e);
    }
  }

  const fresh: StatRecord[] = [];
  const settle = (group: ContextEntry[], digest: string, bytes: number, hashedAtNs: number) => {
    result.filesRead++;
    result.bytesRead += bytes;
    const recorded = new Set<string>();
    for (const e of group) {
      e.digest = digest;
      if (recorded.has(e.absPath)) continue;
      recorded.add(e.absPath);
      fresh.push({
        absPath: e.absPath,
        dev: e.dev,
        ino: e.ino,
        size: e.size,
        mtimeNs: e.mtimeNs,
        ctimeNs: e.ctimeNs,
        digest,
        hashedAtNs,
      });
    }
  };
  // Wall-clock time in ns, finer than Date.now() so that a file written in the same millisecond compares right.
  const now = () => (performance.timeOrigin + performance.now()) * 1e6;
  // Small files are read synchronously (no thread-pool round trips), yielding now and then; large ones stream.
  const large: ContextEntry[][] = [];
  const pause = yielder();
  for (const group of toRead.values()) {
    const first = group[0] as ContextEntry;
    if (first.size > threshold) {
      large.push(group);
      continue;
    }
    const hashedAtNs = now();
    const { digest, bytes } = digestSmallFile(first.absPath, fs);
    settle(group, digest, bytes, hashedAtNs);
    await pause();
  }
  let next = 0;
  const worker = async () => {
    while (next < large.length) {
      const group = large[next++] as ContextEntry[];
      const first = group[0] as ContextEntry;
      const hashedAtNs = now();
      const { digest, bytes } = await digestFile(first.absPath, first.size, fs, threshold);
      settle(group, digest, bytes, hashedAtNs);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  cache.put(fresh);
  cache.flush();

  const hash = createHash('sha256');
  let text = '';
  for (const s of sources) {
    text += `source ${JSON.stringify(s.path)}${s.parents ? ' parents' : ''}\n${entryLine(s.root)}`;
    for (const e of s.entries) {
      text += entryLine(e);
      if (text.length > 1 << 16) {
        hash.update(text);
        text = '';
      }
    }
  }
  hash.update(text);
  result.digest = `sha256:${hash.digest('hex')}`;
  return result;
}

/** Selects the sources of one COPY/ADD and hashes them: the two steps a cache key needs. */
export async function hashContextSources(
  context: BuildContext,
  sources: readonly string[],
  options: HashOptions & Parameters<BuildContext['select']>[1] = {},
): Promise<HashResult & { selection: SelectedSource[] }> {
  const selection = await context.select(sources, options);
  return { ...(await hashSources(selection, options)), selection };
}
