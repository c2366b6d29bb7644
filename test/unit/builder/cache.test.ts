import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildCache, builderSchema, cacheKey, explainMiss } from '../../../builder/cache.js';
import { closeDatabases, migrate, openDatabase } from '../../../metadata/index.js';

let dir: string;
let cache: BuildCache;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsb-cache-unit-'));
  const db = openDatabase(join(dir, 'tsbuild.db'));
  migrate(db, builderSchema);
  cache = new BuildCache(db);
});

afterEach(() => {
  closeDatabases();
  rmSync(dir, { recursive: true, force: true });
});

const put = (parent: string, kind: string, op: Record<string, unknown>, content?: Record<string, string>) => {
  const inputs = { op, ...(content ? { content } : {}) };
  const key = cacheKey(parent, inputs);
  cache.put({ key, parent, kind, inputs, created: new Date().toISOString() });
  return key;
};

describe('explainMiss', () => {
  it('names the first op field that differs from a record on the same parent', () => {
    put('image:sha256:aa', 'run', { op: 'run', args: ['a'], user: '' });
    expect(explainMiss(cache, 'image:sha256:aa', 'run', { op: { op: 'run', args: ['a'], user: '1' } })).toBe(
      'user differs: was "", now "1"',
    );
  });

  it('prefers a content difference, and says when a source is new', () => {
    put('p', 'copy', { op: 'copy', sources: ['a'] }, { '0:a': 'sha256:1' });
    expect(
      explainMiss(cache, 'p', 'copy', { op: { op: 'copy', sources: ['a'] }, content: { '0:a': 'sha256:2' } }),
    ).toBe('content of 0:a differs: was sha256:1, now sha256:2');
    expect(
      explainMiss(cache, 'p', 'copy', {
        op: { op: 'copy', sources: ['a'] },
        content: { '0:a': 'sha256:1', '1:b': 'sha256:3' },
      }),
    ).toBe('content of 1:b is new');
  });

  it('names an instruction of another kind, a new base image, and a missed previous step', () => {
    put('p', 'run', { op: 'run' });
    expect(explainMiss(cache, 'p', 'copy', { op: { op: 'copy' } })).toBe('the instruction differs: was RUN, now COPY');
    expect(explainMiss(cache, 'image:sha256:bb', 'run', { op: { op: 'run' } })).toBe(
      'no cached result on base image sha256:bb (the base image is new or changed)',
    );
    expect(explainMiss(cache, 'sha256:cc', 'run', { op: { op: 'run' } })).toBe(
      'no cached result after the previous step (it or an earlier step changed)',
    );
  });
});

describe('content memo', () => {
  it('remembers a digest per stage result and forgets it when the step is made again', () => {
    const key = put('p', 'run', { op: 'run' });
    const memo = cache.contentMemoKey(key, { paths: [[0, '/d']] });
    expect(cache.content(memo)).toBeUndefined();
    cache.putContent(memo, '{"from:0:d":"sha256:1"}');
    expect(cache.content(memo)).toBe('{"from:0:d":"sha256:1"}');
    expect(cache.contentMemoKey(key, { paths: [[0, '/e']] })).not.toBe(memo);
    // --no-cache makes the step again under the same key, at another time: its content may differ.
    const rec = cache.get(key);
    cache.put({ ...(rec as NonNullable<typeof rec>), created: new Date(Date.now() + 1000).toISOString() });
    expect(cache.contentMemoKey(key, { paths: [[0, '/d']] })).not.toBe(memo);
  });

  it('keys an image or scratch result by itself', () => {
    expect(cache.contentMemoKey('image:sha256:aa', 'x')).toBe(cache.contentMemoKey('image:sha256:aa', 'x'));
    expect(cache.contentMemoKey('scratch', 'x')).not.toBe(cache.contentMemoKey('image:sha256:aa', 'x'));
  });
});
