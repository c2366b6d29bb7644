import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { sha256 } from '../../../image/digest.js';
import { MediaType } from '../../../image/oci.js';
import { closeDatabases } from '../../../metadata/index.js';

/** A temporary store root, removed by `done()`. */
export function tempRoot(prefix = 'tsb-image-'): { root: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return {
    root,
    done: () => {
      closeDatabases();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface TarFile {
  name: string;
  data?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  mode?: number;
}

/** A tar in memory (tests only: small archives). */
export async function makeTar(files: TarFile[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const f of files) {
    const type = f.type ?? 'file';
    const data = f.data === undefined ? (type === 'file' ? Buffer.alloc(0) : undefined) : Buffer.from(f.data);
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: f.name,
        type,
        mode: f.mode ?? (type === 'directory' ? 0o755 : 0o644),
        mtime: new Date(0),
        linkname: f.linkname,
        size: data?.length ?? 0,
      };
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (data && type === 'file') p.entry(header, data, cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface SyntheticLayer {
  /** The uncompressed tar. */
  tar: Buffer;
  diffId: string;
  /** The blob as stored (gzip or plain). */
  blob: Buffer;
  digest: string;
  mediaType: string;
}

export async function makeLayer(files: TarFile[], gzip = false): Promise<SyntheticLayer> {
  const tar = await makeTar(files);
  const blob = gzip ? gzipSync(tar) : tar;
  return {
    tar,
    diffId: sha256(tar),
    blob,
    digest: sha256(blob),
    mediaType: gzip ? MediaType.ociLayerGzip : MediaType.ociLayer,
  };
}

export interface SyntheticImage {
  layers: SyntheticLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

export function makeImage(
  layers: SyntheticLayer[],
  extra: { architecture?: string; created?: string; cmd?: string[] } = {},
): SyntheticImage {
  const config = Buffer.from(
    JSON.stringify({
      architecture: extra.architecture ?? 'amd64',
      os: 'linux',
      created: extra.created ?? '2024-01-02T03:04:05Z',
      config: { Cmd: extra.cmd ?? ['/bin/sh'], Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: [
        { created: '2024-01-02T03:04:05Z', created_by: 'ENV PATH=/bin', empty_layer: true },
        ...layers.map((_, i) => ({ created: '2024-01-02T03:04:05Z', created_by: `RUN step ${i}` })),
      ],
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
    }),
  );
  return { layers, config, configDigest, manifest, manifestDigest: sha256(manifest) };
}

export const hex = (digest: string) => digest.slice(7);
