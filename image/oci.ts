/**
 * The OCI image model: media types, descriptors, manifests (OCI and Docker
 * schema 2), indexes and manifest lists, image configs (with Docker's extra
 * fields), and validation of untrusted JSON into these types.
 *
 * Validation never re-serializes: callers keep the exact bytes (and their
 * digest) and use the parsed value only to read fields.
 */

import { isOciDigest } from './digest.js';
import { ImageError, type ImageErrorCode } from './errors.js';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociLayout: 'application/vnd.oci.layout.header.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Annotations tsbuild reads and writes. */
export const Annotation = {
  refName: 'org.opencontainers.image.ref.name',
  containerdImageName: 'io.containerd.image.name',
  dockerReferenceType: 'vnd.docker.reference.type',
  dockerReferenceDigest: 'vnd.docker.reference.digest',
} as const;

export type Compression = 'none' | 'gzip' | 'zstd';

const LAYER_COMPRESSION: Record<string, Compression> = {
  [MediaType.ociLayer]: 'none',
  [MediaType.ociLayerGzip]: 'gzip',
  [MediaType.ociLayerZstd]: 'zstd',
  [MediaType.ociLayerNondistributable]: 'none',
  [MediaType.ociLayerNondistributableGzip]: 'gzip',
  [MediaType.ociLayerNondistributableZstd]: 'zstd',
  [MediaType.dockerLayer]: 'none',
  [MediaType.dockerLayerGzip]: 'gzip',
  [MediaType.dockerLayerZstd]: 'zstd',
  [MediaType.dockerForeignLayerGzip]: 'gzip',
};

/** The compression of a layer media type, or `undefined` when it is no layer type tsbuild knows. */
export function layerCompression(mediaType: string): Compression | undefined {
  return LAYER_COMPRESSION[mediaType];
}

export function isLayerMediaType(mediaType: string): boolean {
  return mediaType in LAYER_COMPRESSION;
}

/** Foreign (Docker) and non-distributable (OCI) layers: their blobs may be absent from archives and registries. */
export function isNondistributable(mediaType: string): boolean {
  return mediaType === MediaType.dockerForeignLayerGzip || mediaType.includes('.nondistributable.');
}

export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

/** An OCI image manifest or a Docker schema 2 manifest (same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An OCI image index or a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** Docker's HEALTHCHECK settings; durations are nanoseconds. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` of an image: the OCI fields and Docker's extensions. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Memory?: number;
  MemorySwap?: number;
  CpuShares?: number;
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[];
  StopTimeout?: number;
  Hostname?: string;
  Domainname?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Image?: string;
  NetworkDisabled?: boolean;
  MacAddress?: string;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface RootFs {
  type: 'layers';
  diff_ids: string[];
}

/** An image configuration (`application/vnd.oci.image.config.v1+json` or Docker's). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: RootFs;
  history?: HistoryEntry[];
  // Docker's legacy fields, kept as they come.
  id?: string;
  parent?: string;
  comment?: string;
  container?: string;
  container_config?: ContainerConfig;
  docker_version?: string;
}

/** Parsed JSON of untrusted origin; the exact bytes stay with the caller. */
export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; index: ImageIndex };

// ---- validation -------------------------------------------------------------------------------

class Checker {
  constructor(
    readonly code: ImageErrorCode,
    readonly what: string,
  ) {}

  fail(field: string, message: string): never {
    throw new ImageError(this.code, `invalid ${this.what}: ${field ? `${field}: ` : ''}${message}`);
  }

  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, `expected an object, got ${kind(v)}`);
    return v as Record<string, unknown>;
  }

  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, `expected an array, got ${kind(v)}`);
    return v;
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, `expected a string, got ${kind(v)}`);
    return v;
  }

  optString(v: unknown, field: string): void {
    if (v !== undefined) this.string(v, field);
  }

  optBool(v: unknown, field: string): void {
    if (v !== undefined && typeof v !== 'boolean') this.fail(field, `expected a boolean, got ${kind(v)}`);
  }

  optInt(v: unknown, field: string): void {
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v))) {
      this.fail(field, `expected an integer, got ${kind(v)}`);
    }
  }

  optStrings(v: unknown, field: string, nullable = false): void {
    if (v === undefined || (nullable && v === null)) return;
    this.array(v, field).forEach((s, i) => {
      this.string(s, `${field}[${i}]`);
    });
  }

  optStringMap(v: unknown, field: string, nullable = false): void {
    if (v === undefined || (nullable && v === null)) return;
    for (const [k, s] of Object.entries(this.object(v, field))) this.string(s, `${field}.${k}`);
  }

  optObjectMap(v: unknown, field: string, nullable = false): void {
    if (v === undefined || (nullable && v === null)) return;
    for (const [k, s] of Object.entries(this.object(v, field))) this.object(s, `${field}.${k}`);
  }

  digest(v: unknown, field: string): string {
    const s = this.string(v, field);
    if (!isOciDigest(s)) this.fail(field, `invalid digest ${JSON.stringify(s)}`);
    return s;
  }

  platform(v: unknown, field: string): void {
    const p = this.object(v, field);
    this.string(p.architecture, `${field}.architecture`);
    this.string(p.os, `${field}.os`);
    this.optString(p['os.version'], `${field}.os.version`);
    this.optStrings(p['os.features'], `${field}.os.features`);
    this.optString(p.variant, `${field}.variant`);
    this.optStrings(p.features, `${field}.features`);
  }

  descriptor(v: unknown, field: string): Descriptor {
    const d = this.object(v, field);
    const mediaType = this.string(d.mediaType, `${field}.mediaType`);
    if (!MEDIA_TYPE.test(mediaType)) this.fail(`${field}.mediaType`, `invalid media type ${JSON.stringify(mediaType)}`);
    this.digest(d.digest, `${field}.digest`);
    if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
      this.fail(`${field}.size`, `expected a non-negative integer, got ${kind(d.size)}`);
    }
    this.optStrings(d.urls, `${field}.urls`);
    this.optStringMap(d.annotations, `${field}.annotations`);
    this.optString(d.data, `${field}.data`);
    this.optString(d.artifactType, `${field}.artifactType`);
    if (d.platform !== undefined) this.platform(d.platform, `${field}.platform`);
    return d as unknown as Descriptor;
  }
}

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (v === undefined) return 'nothing';
  return `${typeof v} ${String(v)}`;
}

/** Parses JSON bytes, or throws `TSB_IMAGE_MALFORMED_JSON` naming `what`. */
export function parseJson(bytes: Uint8Array | string, what: string): unknown {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ImageError('TSB_IMAGE_MALFORMED_JSON', `malformed JSON in ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Validates a descriptor from untrusted JSON. */
export function validateDescriptor(value: unknown, field = 'descriptor'): Descriptor {
  return new Checker('TSB_IMAGE_INVALID_DESCRIPTOR', 'descriptor').descriptor(value, field);
}

/**
 * Validates a manifest or an index. `mediaType` is the type the document was
 * announced with (a descriptor, a Content-Type), when known; the document's own
 * `mediaType` field wins when present and they must agree.
 */
export function parseManifest(
  bytes: Uint8Array | string,
  options: { mediaType?: string; what?: string } = {},
): ParsedManifest {
  const what = options.what ?? 'manifest';
  const value = parseJson(bytes, what);
  const probe: Checker = new Checker('TSB_IMAGE_INVALID_MANIFEST', what);
  const doc = probe.object(value, '');
  const own = doc.mediaType;
  if (own !== undefined) probe.string(own, 'mediaType');
  if (own !== undefined && options.mediaType !== undefined && own !== options.mediaType) {
    probe.fail(
      'mediaType',
      `${JSON.stringify(own)} differs from the descriptor's ${JSON.stringify(options.mediaType)}`,
    );
  }
  let mediaType = (own as string | undefined) ?? options.mediaType;
  if (mediaType === undefined) {
    // OCI documents may omit mediaType: tell them apart by their fields.
    if (Array.isArray(doc.manifests)) mediaType = MediaType.ociIndex;
    else if (doc.config !== undefined) mediaType = MediaType.ociManifest;
    else if (doc.schemaVersion === 1) mediaType = MediaType.dockerSchema1;
    else probe.fail('mediaType', 'missing, and the document is neither a manifest nor an index');
  }
  if (mediaType === MediaType.dockerSchema1 || mediaType === MediaType.dockerSchema1Signed) {
    throw new ImageError('TSB_IMAGE_UNKNOWN_MEDIA_TYPE', `${what}: docker schema 1 manifests are not supported`);
  }
  if (isIndexMediaType(mediaType)) return { kind: 'index', mediaType, index: validateIndex(doc, what) };
  if (isManifestMediaType(mediaType)) return { kind: 'manifest', mediaType, manifest: validateManifest(doc, what) };
  throw new ImageError('TSB_IMAGE_UNKNOWN_MEDIA_TYPE', `${what}: unknown media type ${JSON.stringify(mediaType)}`);
}

function validateManifest(doc: Record<string, unknown>, what: string): ImageManifest {
  const c = new Checker('TSB_IMAGE_INVALID_MANIFEST', what);
  if (doc.schemaVersion !== 2) c.fail('schemaVersion', `expected 2, got ${kind(doc.schemaVersion)}`);
  if (Array.isArray(doc.manifests)) c.fail('manifests', 'an image manifest has no manifests field');
  c.optString(doc.artifactType, 'artifactType');
  c.descriptor(doc.config, 'config');
  c.array(doc.layers, 'layers').forEach((l, i) => {
    c.descriptor(l, `layers[${i}]`);
  });
  if (doc.subject !== undefined) c.descriptor(doc.subject, 'subject');
  c.optStringMap(doc.annotations, 'annotations');
  return doc as unknown as ImageManifest;
}

function validateIndex(doc: Record<string, unknown>, what: string): ImageIndex {
  const c = new Checker('TSB_IMAGE_INVALID_INDEX', what);
  if (doc.schemaVersion !== 2) c.fail('schemaVersion', `expected 2, got ${kind(doc.schemaVersion)}`);
  if (doc.config !== undefined || doc.layers !== undefined) c.fail('config', 'an index has no config or layers');
  c.optString(doc.artifactType, 'artifactType');
  c.array(doc.manifests, 'manifests').forEach((m, i) => {
    c.descriptor(m, `manifests[${i}]`);
  });
  if (doc.subject !== undefined) c.descriptor(doc.subject, 'subject');
  c.optStringMap(doc.annotations, 'annotations');
  return doc as unknown as ImageIndex;
}

/** Validates an image config; the bytes stay the caller's (the config digest is the image ID). */
export function parseImageConfig(bytes: Uint8Array | string, what = 'image config'): ImageConfig {
  const c = new Checker('TSB_IMAGE_INVALID_CONFIG', what);
  const doc = c.object(parseJson(bytes, what), '');
  c.optString(doc.created, 'created');
  if (typeof doc.created === 'string' && Number.isNaN(Date.parse(doc.created))) {
    c.fail('created', `invalid timestamp ${JSON.stringify(doc.created)}`);
  }
  c.optString(doc.author, 'author');
  c.string(doc.architecture, 'architecture');
  c.string(doc.os, 'os');
  c.optString(doc['os.version'], 'os.version');
  c.optStrings(doc['os.features'], 'os.features');
  c.optString(doc.variant, 'variant');
  if (doc.config !== undefined && doc.config !== null) checkContainerConfig(c, doc.config, 'config');
  if (doc.container_config !== undefined && doc.container_config !== null) {
    checkContainerConfig(c, doc.container_config, 'container_config');
  }
  const rootfs = c.object(doc.rootfs, 'rootfs');
  if (rootfs.type !== 'layers') c.fail('rootfs.type', `expected "layers", got ${kind(rootfs.type)}`);
  c.array(rootfs.diff_ids, 'rootfs.diff_ids').forEach((d, i) => {
    c.digest(d, `rootfs.diff_ids[${i}]`);
  });
  if (doc.history !== undefined && doc.history !== null) {
    c.array(doc.history, 'history').forEach((h, i) => {
      const e = c.object(h, `history[${i}]`);
      c.optString(e.created, `history[${i}].created`);
      c.optString(e.created_by, `history[${i}].created_by`);
      c.optString(e.author, `history[${i}].author`);
      c.optString(e.comment, `history[${i}].comment`);
      c.optBool(e.empty_layer, `history[${i}].empty_layer`);
    });
  }
  return doc as unknown as ImageConfig;
}

function checkContainerConfig(c: Checker, value: unknown, field: string): void {
  const o = c.object(value, field);
  for (const k of ['User', 'WorkingDir', 'StopSignal', 'Hostname', 'Domainname', 'Image', 'MacAddress']) {
    c.optString(o[k], `${field}.${k}`);
  }
  for (const k of ['Env', 'Entrypoint', 'Cmd', 'OnBuild']) c.optStrings(o[k], `${field}.${k}`, true);
  c.optStrings(o.Shell, `${field}.Shell`, true);
  c.optObjectMap(o.ExposedPorts, `${field}.ExposedPorts`, true);
  c.optObjectMap(o.Volumes, `${field}.Volumes`, true);
  c.optStringMap(o.Labels, `${field}.Labels`, true);
  for (const k of ['ArgsEscaped', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce']) {
    c.optBool(o[k], `${field}.${k}`);
  }
  c.optBool(o.NetworkDisabled, `${field}.NetworkDisabled`);
  for (const k of ['Memory', 'MemorySwap', 'CpuShares', 'StopTimeout']) c.optInt(o[k], `${field}.${k}`);
  if (o.Healthcheck !== undefined && o.Healthcheck !== null) {
    const h = c.object(o.Healthcheck, `${field}.Healthcheck`);
    c.optStrings(h.Test, `${field}.Healthcheck.Test`, true);
    for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) {
      c.optInt(h[k], `${field}.Healthcheck.${k}`);
    }
  }
}

/** The platform an image config declares. */
export function configPlatform(config: ImageConfig): Platform {
  const p: Platform = { architecture: config.architecture, os: config.os };
  if (config.variant) p.variant = config.variant;
  if (config['os.version']) p['os.version'] = config['os.version'];
  return p;
}

/** Manifest and index bytes as tsbuild writes new ones: compact JSON, fields in spec order. */
export function serializeDocument(doc: ImageManifest | ImageIndex | ImageConfig | Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(doc), 'utf8');
}
