import type { Writable } from 'node:stream';
import { type Digest, digestHex, sha256 } from '../digest.js';
import { ImageError } from '../errors.js';
import { Annotation, type Descriptor, type ImageIndex, MediaType, serializeDocument } from '../oci.js';
import { familiarRepository, familiarString, parseReference } from '../reference.js';
import type { ImageRecord, ImageStore } from '../store/image-store.js';
import { TarWriter } from './write-tar.js';

export interface SaveOptions {
  /** `docker` (default): Docker 25+'s archive, manifest.json and repositories with the OCI layout; `oci`: the OCI layout only. */
  format?: 'docker' | 'oci';
  signal?: AbortSignal;
}

interface Selected {
  image: ImageRecord;
  /** Normalised names to record (the references given by name). */
  names: string[];
}

/**
 * Writes images as a tar, the way Docker Engine 25+ does: blobs/sha256/<hex>
 * (the stored layers, config and manifest bytes, unchanged), oci-layout,
 * index.json (one entry per name, annotated with the full name and the tag),
 * and for the docker format manifest.json (Config, RepoTags, Layers as paths
 * into blobs/) and repositories. Every reference is resolved before anything
 * is written. Images given by ID are saved without names, as Docker does.
 */
export async function saveArchive(
  store: ImageStore,
  refs: string[],
  out: Writable,
  options: SaveOptions = {},
): Promise<void> {
  if (refs.length === 0) throw new ImageError('TSB_IMAGE_NOT_FOUND', 'no image to save');
  const format = options.format ?? 'docker';
  const selected = new Map<string, Selected>();
  for (const ref of refs) {
    const found = store.resolve(ref);
    const entry = selected.get(found.image.digest) ?? { image: found.image, names: [] };
    if (found.via === 'name' && found.name && !entry.names.includes(found.name)) entry.names.push(found.name);
    selected.set(found.image.digest, entry);
  }
  await store.withLease('save', async (lease) => {
    const plan: { image: ImageRecord; names: string[]; layers: Digest[]; blobs: Digest[] }[] = [];
    for (const s of selected.values()) {
      lease.add('image', s.image.digest);
      const layers = store.layers(s.image);
      for (const l of layers) {
        if (!store.content.has(l.digest)) {
          throw new ImageError(
            'TSB_IMAGE_BLOB_NOT_FOUND',
            `cannot save ${s.names[0] ?? s.image.id}: layer ${l.digest} is not in the store (a non-distributable layer)`,
          );
        }
      }
      plan.push({
        image: s.image,
        names: s.names,
        layers: layers.map((l) => l.digest),
        blobs: [...layers.map((l) => l.digest), s.image.id, s.image.digest],
      });
    }
    const tar = new TarWriter(out, options.signal);
    try {
      await tar.directory('blobs/sha256');
      const written = new Set<string>();
      for (const p of plan) {
        for (const digest of p.blobs) {
          if (written.has(digest)) continue;
          written.add(digest);
          const size = store.content.size(digest);
          if (size === undefined)
            throw new ImageError('TSB_IMAGE_BLOB_NOT_FOUND', `blob ${digest} is not in the store`);
          await tar.stream(`blobs/sha256/${digestHex(digest)}`, size, store.content.createReadStream(digest));
        }
      }
      await tar.file('oci-layout', '{"imageLayoutVersion":"1.0.0"}');
      const manifests: Descriptor[] = [];
      for (const p of plan) {
        const base: Descriptor = {
          mediaType: p.image.mediaType,
          digest: p.image.digest,
          size: store.content.size(p.image.digest) as number,
        };
        if (p.names.length === 0) manifests.push(base);
        for (const name of p.names) {
          const ref = parseReference(name);
          const annotations: Record<string, string> = { [Annotation.containerdImageName]: name };
          if (ref.tag !== undefined) annotations[Annotation.refName] = ref.tag;
          manifests.push({ ...base, annotations });
        }
      }
      const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
      await tar.file('index.json', serializeDocument(index));
      if (format === 'docker') {
        const entries = plan.map((p) => ({
          Config: `blobs/sha256/${digestHex(p.image.id)}`,
          RepoTags: p.names.length > 0 ? p.names.map((n) => familiarString(n)) : null,
          Layers: p.layers.map((l) => `blobs/sha256/${digestHex(l)}`),
        }));
        await tar.file('manifest.json', JSON.stringify(entries));
        const repositories: Record<string, Record<string, string>> = {};
        for (const p of plan) {
          const top = store.layers(p.image).at(-1);
          // Docker keys this by the top layer's legacy v1 ID; tsbuild derives a stable one.
          const id = digestHex(sha256(`${top?.chainId ?? ''} ${p.image.id}`));
          for (const name of p.names) {
            const ref = parseReference(name);
            if (ref.tag === undefined) continue;
            const repo = familiarRepository(ref);
            repositories[repo] ??= {};
            (repositories[repo] as Record<string, string>)[ref.tag] = id;
          }
        }
        if (Object.keys(repositories).length > 0) await tar.file('repositories', JSON.stringify(repositories));
      }
      await tar.finish();
    } catch (err) {
      tar.destroy(err as Error);
      throw err;
    }
  });
}
