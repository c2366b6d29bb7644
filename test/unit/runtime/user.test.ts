import { describe, expect, it } from 'vitest';
import { parseGroup, parsePasswd, resolveUser } from '../../../runtime-native/index.js';

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'u2:x:2000:3000::/h2:/bin/sh',
  'broken line',
  '',
].join('\n');
const group = ['root:x:0:', 'wheel:x:10:app,nobody', 'staff:x:50:app', 'app:x:1000:', 'nogroup:x:65534:'].join('\n');
const files = { passwd, group };

describe('resolveUser (Docker semantics, checked against docker run -u)', () => {
  it('resolves a name to its uid, gid, home and member groups', () => {
    expect(resolveUser('app', files)).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [10, 50, 1000],
      home: '/home/app',
    });
  });
  it('resolves a numeric uid through passwd', () => {
    expect(resolveUser('1000', files)).toEqual(resolveUser('app', files));
    expect(resolveUser('2000', files)).toEqual({ uid: 2000, gid: 3000, additionalGids: [3000], home: '/h2' });
  });
  it('runs an unknown numeric uid with gid 0 and HOME=/', () => {
    expect(resolveUser('3333', files)).toEqual({ uid: 3333, gid: 0, additionalGids: [0], home: '/' });
  });
  it('replaces the supplementary groups with an explicit group', () => {
    expect(resolveUser('app:staff', files)).toEqual({ uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' });
    expect(resolveUser('1000:10', files)).toEqual({ uid: 1000, gid: 10, additionalGids: [10], home: '/home/app' });
    expect(resolveUser('3333:10', files)).toEqual({ uid: 3333, gid: 10, additionalGids: [10], home: '/' });
    expect(resolveUser('0:4', files)).toEqual({ uid: 0, gid: 4, additionalGids: [4], home: '/root' });
  });
  it('defaults to root', () => {
    expect(resolveUser(undefined, files)).toEqual({ uid: 0, gid: 0, additionalGids: [0], home: '/root' });
    expect(resolveUser('', {})).toEqual({ uid: 0, gid: 0, additionalGids: [0], home: '/' });
  });
  it('fails with Docker’s messages for unknown names', () => {
    expect(() => resolveUser('daemon', files)).toThrow(
      'unable to find user daemon: no matching entries in passwd file',
    );
    expect(() => resolveUser('root:adm', files)).toThrow('unable to find group adm: no matching entries in group file');
    expect(() => resolveUser('a\0b', files)).toThrow(/NUL/);
  });
  it('skips malformed passwd and group lines', () => {
    expect(parsePasswd('bad\nx:y:notanumber:0::/:/bin/sh\nok:x:5:6::/h:/s')).toEqual([
      { name: 'ok', uid: 5, gid: 6, home: '/h', shell: '/s' },
    ]);
    expect(parseGroup('g:x:7:a, b ,\n#c:x:8:\nbad')).toEqual([{ name: 'g', gid: 7, members: ['a', 'b'] }]);
  });
});
