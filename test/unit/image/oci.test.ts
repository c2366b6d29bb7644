import { describe, expect, it } from 'vitest';
import { chainIds, sha256 } from '../../../image/digest.js';
import { MediaType, parseImageConfig, parseManifest, validateDescriptor } from '../../../image/oci.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected an error');
}

const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: D('a'), size: 10 },
  layers: [{ mediaType: MediaType.ociLayerGzip, digest: D('b'), size: 20 }],
};

describe('OCI model validation', () => {
  it('parses an OCI manifest and a Docker schema 2 manifest', () => {
    const oci = parseManifest(JSON.stringify(manifest));
    expect(oci.kind).toBe('manifest');
    const docker = parseManifest(
      JSON.stringify({
        ...manifest,
        mediaType: MediaType.dockerManifest,
        config: { ...manifest.config, mediaType: MediaType.dockerConfig },
      }),
    );
    expect(docker.mediaType).toBe(MediaType.dockerManifest);
  });

  it('tells an index from a manifest when mediaType is absent', () => {
    const index = { schemaVersion: 2, manifests: [{ mediaType: MediaType.ociManifest, digest: D('c'), size: 3 }] };
    expect(parseManifest(JSON.stringify(index)).kind).toBe('index');
    const { mediaType: _, ...bare } = manifest;
    expect(parseManifest(JSON.stringify(bare)).mediaType).toBe(MediaType.ociManifest);
  });

  it('names the field at fault', () => {
    const bad = { ...manifest, layers: [{ ...manifest.layers[0], digest: 'sha256:xyz' }] };
    const e = errorOf(() => parseManifest(JSON.stringify(bad)));
    expect(e.code).toBe('TSB_IMAGE_INVALID_MANIFEST');
    expect(e.message).toContain('layers[0].digest');
    const size = errorOf(() =>
      parseManifest(JSON.stringify({ ...manifest, config: { ...manifest.config, size: -1 } })),
    );
    expect(size.message).toContain('config.size');
    const version = errorOf(() => parseManifest(JSON.stringify({ ...manifest, schemaVersion: 3 })));
    expect(version.message).toContain('schemaVersion');
  });

  it('refuses unknown media types and schema 1', () => {
    expect(errorOf(() => parseManifest(JSON.stringify({ ...manifest, mediaType: 'application/x-nope' }))).code).toBe(
      'TSB_IMAGE_UNKNOWN_MEDIA_TYPE',
    );
    expect(errorOf(() => parseManifest(JSON.stringify({ schemaVersion: 1, name: 'x', fsLayers: [] }))).code).toBe(
      'TSB_IMAGE_UNKNOWN_MEDIA_TYPE',
    );
    expect(
      errorOf(() => parseManifest(JSON.stringify(manifest), { mediaType: MediaType.dockerManifest })).message,
    ).toContain('differs');
  });

  it('reports malformed JSON as such', () => {
    expect(errorOf(() => parseManifest('{"schemaVersion": 2,')).code).toBe('TSB_IMAGE_MALFORMED_JSON');
    expect(errorOf(() => parseImageConfig('nope')).code).toBe('TSB_IMAGE_MALFORMED_JSON');
  });

  it('validates descriptors on their own', () => {
    expect(validateDescriptor({ mediaType: 'a/b', digest: D('1'), size: 0 }).size).toBe(0);
    expect(errorOf(() => validateDescriptor({ mediaType: 'nope', digest: D('1'), size: 0 })).message).toContain(
      'mediaType',
    );
    expect(
      errorOf(() => validateDescriptor({ mediaType: 'a/b', digest: D('1'), size: 1, platform: { os: 'linux' } }))
        .message,
    ).toContain('platform.architecture');
  });

  it('parses configs with every Docker field', () => {
    const config = {
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-02T03:04:05.123456789Z',
      config: {
        User: '1000:1000',
        ExposedPorts: { '80/tcp': {} },
        Env: ['A=1'],
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: null,
        Volumes: { '/data': {} },
        WorkingDir: '/w',
        Labels: { a: 'b' },
        StopSignal: 'SIGTERM',
        ArgsEscaped: true,
        Healthcheck: {
          Test: ['CMD', 'true'],
          Interval: 30_000_000_000,
          Timeout: 1,
          StartPeriod: 2,
          StartInterval: 3,
          Retries: 3,
        },
        OnBuild: ['RUN x'],
        Shell: ['/bin/bash', '-c'],
      },
      rootfs: { type: 'layers', diff_ids: [D('1')] },
      history: [{ created_by: 'x', empty_layer: true }, { created_by: 'y' }],
    };
    const parsed = parseImageConfig(JSON.stringify(config));
    expect(parsed.config?.Healthcheck?.Retries).toBe(3);
    expect(parsed.config?.Shell).toEqual(['/bin/bash', '-c']);
    const bad = { ...config, config: { ...config.config, Healthcheck: { Test: 'true' } } };
    expect(errorOf(() => parseImageConfig(JSON.stringify(bad))).message).toContain('config.Healthcheck.Test');
    expect(
      errorOf(() => parseImageConfig(JSON.stringify({ ...config, rootfs: { type: 'x', diff_ids: [] } }))).message,
    ).toContain('rootfs.type');
    expect(errorOf(() => parseImageConfig(JSON.stringify({ ...config, created: 'yesterday' }))).code).toBe(
      'TSB_IMAGE_INVALID_CONFIG',
    );
  });
});

describe('chain IDs', () => {
  it('follows the OCI definition', () => {
    const a = D('1');
    const b = D('2');
    const c = D('3');
    const ab = sha256(`${a} ${b}`);
    expect(chainIds([a, b, c])).toEqual([a, ab, sha256(`${ab} ${c}`)]);
    expect(chainIds([])).toEqual([]);
  });
});
