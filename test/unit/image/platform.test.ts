import { describe, expect, it } from 'vitest';
import { type Descriptor, type ImageIndex, MediaType, type Platform } from '../../../image/oci.js';
import { hostPlatform, normalizePlatform, parsePlatform, selectManifest } from '../../../image/platform.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const entry = (c: string, platform?: Platform, annotations?: Record<string, string>): Descriptor => ({
  mediaType: MediaType.ociManifest,
  digest: D(c),
  size: 1,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
});

describe('platforms', () => {
  it('parses and normalises platform strings', () => {
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('arm')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/amd64/v1')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(normalizePlatform({ os: 'Linux', architecture: 'aarch64' })).toEqual({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    });
    expect(() => parsePlatform('linux//x')).toThrow('invalid platform');
  });

  it('knows this machine', () => {
    expect(hostPlatform().os).toBe('linux');
  });

  it('selects the matching manifest and skips attestations', () => {
    const index: ImageIndex = {
      schemaVersion: 2,
      manifests: [
        entry('a', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
        entry('b', { os: 'linux', architecture: 'amd64' }),
        entry('c', { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
      ],
    };
    expect(selectManifest(index, parsePlatform('linux/amd64')).digest).toBe(D('b'));
    expect(selectManifest(index, parsePlatform('linux/arm64')).digest).toBe(D('a'));
    expect(() => selectManifest(index, parsePlatform('linux/s390x'))).toThrow(
      /no manifest for linux\/s390x.*available: linux\/arm64\/v8, linux\/amd64/,
    );
  });

  it('prefers the exact variant, then the nearest older one', () => {
    const index: ImageIndex = {
      schemaVersion: 2,
      manifests: [
        entry('5', { os: 'linux', architecture: 'arm', variant: 'v5' }),
        entry('6', { os: 'linux', architecture: 'arm', variant: 'v6' }),
        entry('7', { os: 'linux', architecture: 'arm', variant: 'v7' }),
      ],
    };
    expect(selectManifest(index, parsePlatform('linux/arm/v7')).digest).toBe(D('7'));
    expect(selectManifest(index, parsePlatform('linux/arm/v6')).digest).toBe(D('6'));
    expect(() =>
      selectManifest(
        { schemaVersion: 2, manifests: [entry('7', { os: 'linux', architecture: 'arm', variant: 'v7' })] },
        parsePlatform('linux/arm/v6'),
      ),
    ).toThrow('no manifest');
    const amd = {
      schemaVersion: 2 as const,
      manifests: [
        entry('1', { os: 'linux', architecture: 'amd64' }),
        entry('3', { os: 'linux', architecture: 'amd64', variant: 'v3' }),
      ],
    };
    expect(selectManifest(amd, parsePlatform('linux/amd64/v3')).digest).toBe(D('3'));
    expect(selectManifest(amd, parsePlatform('linux/amd64/v2')).digest).toBe(D('1'));
  });

  it('takes an entry without platform only when it is the only image', () => {
    expect(selectManifest({ schemaVersion: 2, manifests: [entry('a')] }, parsePlatform('linux/amd64')).digest).toBe(
      D('a'),
    );
  });
});
