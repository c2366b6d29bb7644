import { describe, expect, it } from 'vitest';
import { familiarString, formatReference, normalizeReference, parseReference } from '../../../image/reference.js';

describe('image references', () => {
  it('normalises official images to docker.io/library with latest', () => {
    expect(normalizeReference('busybox')).toBe('docker.io/library/busybox:latest');
    expect(normalizeReference('docker.io/busybox:1.36')).toBe('docker.io/library/busybox:1.36');
    expect(normalizeReference('index.docker.io/library/busybox')).toBe('docker.io/library/busybox:latest');
    expect(normalizeReference('me/app')).toBe('docker.io/me/app:latest');
  });

  it('recognises domains by a dot, a port or localhost', () => {
    expect(parseReference('ghcr.io/a/b:1')).toEqual({ domain: 'ghcr.io', path: 'a/b', tag: '1' });
    expect(parseReference('127.0.0.1:5000/x')).toEqual({ domain: '127.0.0.1:5000', path: 'x' });
    expect(parseReference('localhost/x')).toEqual({ domain: 'localhost', path: 'x' });
    expect(parseReference('localhost:5000')).toEqual({ domain: 'docker.io', path: 'library/localhost', tag: '5000' });
    expect(parseReference('[::1]:5000/img:v')).toEqual({ domain: '[::1]:5000', path: 'img', tag: 'v' });
  });

  it('keeps digests, with or without a tag', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`busybox@${d}`)).toEqual({ domain: 'docker.io', path: 'library/busybox', digest: d });
    expect(formatReference(parseReference(`busybox:1@${d}`))).toBe(`docker.io/library/busybox:1@${d}`);
    expect(normalizeReference(`busybox@${d}`)).toBe(`docker.io/library/busybox@${d}`);
  });

  it('prints the familiar form Docker shows', () => {
    expect(familiarString('docker.io/library/busybox:latest')).toBe('busybox:latest');
    expect(familiarString('docker.io/me/app:1')).toBe('me/app:1');
    expect(familiarString('127.0.0.1:5000/x:2')).toBe('127.0.0.1:5000/x:2');
    expect(familiarString('docker.io/library/a/b:1')).toBe('library/a/b:1');
  });

  it('says invalid reference format, as Docker does', () => {
    expect(() => parseReference('H3up')).toThrow(
      '"H3up" is not a valid reference: invalid reference format: repository name must be lowercase',
    );
    expect(() => parseReference('h3:bad:port')).toThrow(
      '"h3:bad:port" is not a valid reference: invalid reference format (invalid repository name component "h3:bad")',
    );
  });

  it.each([
    ['', 'empty'],
    ['Busybox', 'must be lowercase'],
    ['a b', 'invalid repository name'],
    ['busybox:', 'invalid tag'],
    ['busybox:-x', 'invalid tag'],
    ['busybox@sha256:abc', 'invalid digest'],
    ['a'.repeat(64).replace(/a/g, 'f'), '64-byte hexadecimal'],
    ['a//b', 'invalid repository name'],
    ['-a', 'invalid repository name'],
    [`x/${'a'.repeat(300)}`, 'repository name must not be more than 255 characters'],
  ])('rejects %j (%s)', (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
    try {
      parseReference(input);
    } catch (err) {
      expect((err as { code: string }).code).toBe('TSB_IMAGE_INVALID_REFERENCE');
    }
  });
});
