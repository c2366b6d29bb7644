import type { ImageRecord, ImageStore, Lease } from '../image/index.js';
import { sha256 } from '../image/index.js';
import type { GraphImageConfig as ImageConfig, Stage } from '../parser/index.js';
import { type GoJsonValue, goJson } from './go-json.js';
import { LAYER_MEDIA_TYPE } from './solver.js';
import type { FsState, HistoryItem } from './state.js';

const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const CONFIG_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json';
const UNCOMPRESSED_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';

export interface ExportOptions {
  store: ImageStore;
  lease: Lease;
  stage: Stage;
  state: FsState;
  labels?: Record<string, string>;
  tags?: string[];
  /** SOURCE_DATE_EPOCH as an RFC 3339 time (BuildGraph.epoch): no history entry nor the image is newer. */
  epoch?: string;
}

/**
 * Writes the image of the target stage: the config as BuildKit's image exporter
 * writes it (top-level keys in sorted order, history with `created` times taken
 * from the cache records so that a fully cached build yields the same image ID),
 * a Docker schema 2 manifest, and the names.
 */
export async function exportImage(o: ExportOptions): Promise<{ record: ImageRecord; config: Buffer }> {
  const { stage, state } = o;
  const history =
    o.epoch === undefined ? fillCreated(state.history) : clampCreated(fillCreated(state.history), o.epoch);
  const created = history.at(-1)?.created;
  const config: ImageConfig = { ...stage.config };
  if (o.labels && Object.keys(o.labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...o.labels };
  // BuildKit's exporter edits the config as a Go map: its top-level keys come out sorted
  const image = new Map<string, GoJsonValue>([
    ['architecture', stage.platform.architecture],
    ['config', configDocument(config)],
    ['history', history as unknown as GoJsonValue[]],
    ['os', stage.platform.os],
    ['rootfs', { type: 'layers', diff_ids: state.layers.map((l) => l.diffId) }],
  ]);
  if (stage.author !== undefined) image.set('author', stage.author);
  if (created !== undefined) image.set('created', created);
  if (stage.platform.variant !== undefined) image.set('variant', stage.platform.variant);
  const configBytes = Buffer.from(goJson(image));
  const configDigest = sha256(configBytes);
  // A cached rebuild makes the same config: it is in the store already.
  o.lease.add('blob', configDigest);
  if (o.store.content.size(configDigest) !== configBytes.length) {
    await o.store.putBlob(configBytes, { lease: o.lease, expected: { digest: configDigest } });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: { mediaType: CONFIG_MEDIA_TYPE, size: configBytes.length, digest: configDigest },
    layers: state.layers.map((l) => ({ mediaType: dockerLayerType(l.mediaType), size: l.size, digest: l.digest })),
  };
  const record = await o.store.addImage({
    manifest: Buffer.from(JSON.stringify(manifest)),
    mediaType: MANIFEST_MEDIA_TYPE,
    names: o.tags,
    lease: o.lease,
  });
  return { record, config: configBytes };
}

/** Docker's media type for a layer of any origin (OCI or Docker). */
function dockerLayerType(mediaType: string): string {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return LAYER_MEDIA_TYPE;
  if (mediaType.endsWith('.tar') || mediaType === 'application/vnd.oci.image.layer.v1.tar') return UNCOMPRESSED_LAYER;
  return mediaType;
}

/**
 * The `config` of the image as BuildKit writes it (dockerspec.DockerOCIImageConfig): its fields in
 * that struct's order, empty ones left out, and none of the Docker engine's container fields
 * (Hostname, AttachStdin, Image, …) a base image's config may carry.
 */
export function configDocument(c: ImageConfig): GoJsonValue {
  const list = (l: readonly string[] | null | undefined) => (l && l.length > 0 ? l : undefined);
  const map = <T extends GoJsonValue>(m: Record<string, T> | null | undefined) =>
    m && Object.keys(m).length > 0 ? new Map<string, GoJsonValue>(Object.entries(m)) : undefined;
  const h = c.Healthcheck;
  return {
    User: c.User || undefined,
    ExposedPorts: map(c.ExposedPorts),
    Env: list(c.Env),
    Entrypoint: list(c.Entrypoint),
    Cmd: list(c.Cmd),
    Volumes: map(c.Volumes),
    WorkingDir: c.WorkingDir || undefined,
    Labels: map(c.Labels),
    StopSignal: c.StopSignal || undefined,
    ArgsEscaped: c.ArgsEscaped || undefined,
    Healthcheck: h
      ? {
          Test: list(h.Test),
          Interval: h.Interval || undefined,
          Timeout: h.Timeout || undefined,
          StartPeriod: h.StartPeriod || undefined,
          StartInterval: h.StartInterval || undefined,
          Retries: h.Retries || undefined,
        }
      : undefined,
    OnBuild: list(c.OnBuild),
    Shell: list(c.Shell),
  };
}

/**
 * Fills in the times of history entries without one as BuildKit's exporter does: the entries
 * before the first new layer take that layer's time (not the base image's), and the others
 * the time of the layer before them.
 */
export function fillCreated(history: HistoryItem[]): HistoryItem[] {
  let fill: string | undefined;
  let untimed = false;
  for (const h of history) {
    if (h.created !== undefined) {
      fill = h.created;
      if (untimed) break;
    } else {
      untimed = true;
    }
  }
  untimed = false;
  return history.map((h) => {
    if (h.created === undefined) untimed = true;
    else if (untimed) fill = h.created;
    const out: HistoryItem = {};
    const created = h.created ?? fill;
    if (created !== undefined) out.created = created;
    if (h.created_by !== undefined) out.created_by = h.created_by;
    if (h.author !== undefined) out.author = h.author;
    if (h.comment !== undefined) out.comment = h.comment;
    if (h.empty_layer) out.empty_layer = true;
    return out;
  });
}

/**
 * BuildKit's exporter with an epoch (SOURCE_DATE_EPOCH): a history entry without a time, or newer
 * than the epoch, takes the epoch; the image's own time is then the last entry's.
 */
export function clampCreated(history: HistoryItem[], epoch: string): HistoryItem[] {
  return history.map((h) => (h.created === undefined || isAfter(h.created, epoch) ? { ...h, created: epoch } : h));
}

/** True when RFC 3339 time `a` is later than `b`, to the nanosecond (Date keeps only milliseconds). */
function isAfter(a: string, b: string): boolean {
  const ma = Date.parse(a);
  const mb = Date.parse(b);
  if (Number.isNaN(ma) || Number.isNaN(mb)) return false;
  if (ma !== mb) return ma > mb;
  return subMillisecond(a) > subMillisecond(b);
}

/** The nanoseconds below the millisecond of an RFC 3339 time (`.123456789` → 456789). */
function subMillisecond(t: string): number {
  const frac = /T\d\d:\d\d:\d\d\.(\d+)/.exec(t)?.[1] ?? '';
  return Number(frac.padEnd(9, '0').slice(3, 9));
}
