import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveRoot } from '../../../metadata/index.js';

describe('resolveRoot', () => {
  const saved = process.env.TSBUILD_ROOT;
  afterEach(() => {
    if (saved === undefined) delete process.env.TSBUILD_ROOT;
    else process.env.TSBUILD_ROOT = saved;
  });

  it('a relative --root is made absolute from the working directory', () => {
    expect(resolveRoot('store')).toBe(join(process.cwd(), 'store'));
    expect(resolveRoot('/var/lib/x/')).toBe('/var/lib/x');
  });

  it('a relative $TSBUILD_ROOT is made absolute too', () => {
    process.env.TSBUILD_ROOT = 'env-store';
    expect(resolveRoot()).toBe(join(process.cwd(), 'env-store'));
  });
});
