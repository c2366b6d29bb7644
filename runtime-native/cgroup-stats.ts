import { readFile } from 'node:fs/promises';

/** The cgroup directories of a container, as the helper reports them. */
export interface CgroupInfo {
  version: 1 | 2;
  memory?: string;
  cpu?: string;
  cpuacct?: string;
  pids?: string;
  unified?: string;
}

/** A container's resource use (what `tsbuild stats` shows). */
export interface ContainerStats {
  /** Bytes of memory in use (page cache included, as the cgroup counts it). */
  memoryUsage: number;
  /** The highest memory use seen, when the kernel tracks it. */
  memoryPeak?: number;
  /** The memory limit in bytes; undefined when unlimited. */
  memoryLimit?: number;
  /** CPU time used by all processes, in nanoseconds. */
  cpuTimeNs: number;
  /** Number of processes and threads. */
  pids?: number;
}

async function readNumber(path: string | undefined): Promise<number | undefined> {
  if (!path) return undefined;
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (text === 'max') return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function readKey(path: string, key: string): Promise<number | undefined> {
  try {
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      const [k, v] = line.split(' ');
      if (k === key && v !== undefined) return Number(v);
    }
  } catch {
    // missing file
  }
  return undefined;
}

/** Memory, CPU and pids from cgroup v1 files, or from the v2 directory. */
export async function readCgroupStats(cg: CgroupInfo): Promise<ContainerStats> {
  if (cg.version === 2 && cg.unified) {
    const dir = cg.unified;
    const usec = await readKey(`${dir}/cpu.stat`, 'usage_usec');
    return {
      memoryUsage: (await readNumber(`${dir}/memory.current`)) ?? 0,
      memoryPeak: await readNumber(`${dir}/memory.peak`),
      memoryLimit: await readNumber(`${dir}/memory.max`),
      cpuTimeNs: (usec ?? 0) * 1000,
      pids: await readNumber(`${dir}/pids.current`),
    };
  }
  const mem = cg.memory;
  const limit = await readNumber(mem && `${mem}/memory.limit_in_bytes`);
  return {
    memoryUsage: (await readNumber(mem && `${mem}/memory.usage_in_bytes`)) ?? 0,
    memoryPeak: await readNumber(mem && `${mem}/memory.max_usage_in_bytes`),
    // v1 reports "no limit" as a huge page-aligned number.
    memoryLimit: limit !== undefined && limit < 2 ** 62 ? limit : undefined,
    cpuTimeNs: (await readNumber(cg.cpuacct && `${cg.cpuacct}/cpuacct.usage`)) ?? 0,
    pids: await readNumber(cg.pids && `${cg.pids}/pids.current`),
  };
}
