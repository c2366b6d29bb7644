import type { Schema } from '../../metadata/index.js';

/**
 * The image module's tables in tsbuild.db. Migration i brings the schema to
 * version i+1; add new migrations at the end, never edit old ones.
 *
 * - image_records: one row per stored image manifest (digest = manifest digest,
 *   config_digest = Docker's image ID)
 * - image_layers: the manifest's layers with their diff IDs and chain IDs (snapshot names)
 * - image_blobs: every blob an image keeps alive (manifest, config, layers, the index it came from)
 * - image_names: normalised references → image (tags); a name points at one image
 * - image_repo_digests: `repository@digest` references known for an image (pull and push)
 * - image_leases, image_lease_resources: what running work (a load, a build, a container)
 *   protects from rmi and garbage collection; a lease whose process died is stale
 * - image_layer_usage: a layer's unpacked size as Docker counts it (by diff ID), worked out on first display
 * - image_gc_roots: durable references from other modules (the build cache's layers and
 *   snapshots), kept by garbage collection until their owner removes them
 */
export const imageSchema: Schema = {
  module: 'images',
  migrations: [
    `CREATE TABLE image_records (
       digest TEXT PRIMARY KEY,
       media_type TEXT NOT NULL,
       config_digest TEXT NOT NULL,
       created TEXT,
       platform TEXT NOT NULL,
       size INTEGER NOT NULL,
       added INTEGER NOT NULL
     );
     CREATE INDEX image_records_config ON image_records(config_digest);
     CREATE TABLE image_layers (
       image TEXT NOT NULL REFERENCES image_records(digest) ON DELETE CASCADE,
       position INTEGER NOT NULL,
       digest TEXT NOT NULL,
       media_type TEXT NOT NULL,
       size INTEGER NOT NULL,
       diff_id TEXT NOT NULL,
       chain_id TEXT NOT NULL,
       PRIMARY KEY (image, position)
     );
     CREATE INDEX image_layers_chain ON image_layers(chain_id);
     CREATE TABLE image_blobs (
       image TEXT NOT NULL REFERENCES image_records(digest) ON DELETE CASCADE,
       digest TEXT NOT NULL,
       PRIMARY KEY (image, digest)
     );
     CREATE INDEX image_blobs_digest ON image_blobs(digest);
     CREATE TABLE image_names (
       name TEXT PRIMARY KEY,
       image TEXT NOT NULL REFERENCES image_records(digest),
       tagged INTEGER NOT NULL
     );
     CREATE INDEX image_names_image ON image_names(image);
     CREATE TABLE image_repo_digests (
       repository TEXT NOT NULL,
       image TEXT NOT NULL REFERENCES image_records(digest) ON DELETE CASCADE,
       PRIMARY KEY (repository, image)
     );
     CREATE TABLE image_leases (
       id TEXT PRIMARY KEY,
       pid INTEGER NOT NULL,
       start TEXT NOT NULL,
       label TEXT NOT NULL,
       created INTEGER NOT NULL
     );
     CREATE TABLE image_lease_resources (
       lease TEXT NOT NULL REFERENCES image_leases(id) ON DELETE CASCADE,
       kind TEXT NOT NULL,
       ref TEXT NOT NULL,
       PRIMARY KEY (lease, kind, ref)
     );
     CREATE INDEX image_lease_resources_ref ON image_lease_resources(kind, ref);`,
    `CREATE TABLE image_gc_roots (
       owner TEXT NOT NULL,
       kind TEXT NOT NULL,
       ref TEXT NOT NULL,
       PRIMARY KEY (owner, kind, ref)
     );
     CREATE INDEX image_gc_roots_ref ON image_gc_roots(kind, ref);`,
    `CREATE TABLE image_layer_usage (
       diff_id TEXT PRIMARY KEY,
       size INTEGER NOT NULL
     );`,
  ],
};
