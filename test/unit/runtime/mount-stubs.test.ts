import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeMountStubs } from '../../../runtime-native/mount-stubs.js';

describe('removeMountStubs', () => {
  let top: string;
  beforeEach(() => {
    top = mkdtempSync(join(tmpdir(), 'tsb-unit-stubs-'));
  });
  afterEach(() => rmSync(top, { recursive: true, force: true }));

  it('removes empty files and directories it created, deepest first', () => {
    mkdirSync(join(top, 'etc'));
    writeFileSync(join(top, 'etc', 'hosts'), '');
    mkdirSync(join(top, 'new', 'vol'), { recursive: true });
    removeMountStubs(top, ['/etc/hosts', '/new', '/new/vol']);
    expect(existsSync(join(top, 'etc', 'hosts'))).toBe(false);
    expect(existsSync(join(top, 'new'))).toBe(false);
    // /etc was not in the list: it stays.
    expect(existsSync(join(top, 'etc'))).toBe(true);
  });

  it('keeps what the container changed or replaced', () => {
    writeFileSync(join(top, 'written'), 'content');
    mkdirSync(join(top, 'dir'));
    writeFileSync(join(top, 'dir', 'inside'), '');
    const outside = mkdtempSync(join(tmpdir(), 'tsb-unit-stubs-outside-'));
    try {
      writeFileSync(join(outside, 'victim'), '');
      symlinkSync(outside, join(top, 'link'));
      removeMountStubs(top, ['/written', '/dir', '/link/victim', '/gone']);
      expect(existsSync(join(top, 'written'))).toBe(true);
      expect(existsSync(join(top, 'dir', 'inside'))).toBe(true);
      // Never through a symlink the container put in place of a directory.
      expect(existsSync(join(outside, 'victim'))).toBe(true);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
