import { describe, expect, it } from 'vitest';
import {
  containerResolvConf,
  defaultHosts,
  parseSubordinateIds,
  rootlessIdMapping,
} from '../../../runtime-native/index.js';

describe('containerResolvConf', () => {
  it('drops loopback nameservers and falls back to public ones, as Docker does', () => {
    expect(containerResolvConf('nameserver 127.0.0.53\noptions edns0\n', 'none')).toBe(
      'options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n',
    );
    expect(containerResolvConf('search lan\nnameserver 10.0.0.1\nnameserver ::1\n', 'none')).toBe(
      'search lan\nnameserver 10.0.0.1\n',
    );
    expect(containerResolvConf('nameserver 127.0.0.53\n', 'host')).toBe('nameserver 127.0.0.53\n');
  });

  it('writes the hosts file of a container without a bridge network', () => {
    expect(defaultHosts().split('\n')[0]).toBe('127.0.0.1\tlocalhost');
    expect(defaultHosts()).toContain('ff02::2\tip6-allrouters\n');
  });
});

describe('rootless id maps', () => {
  const subuid = 'other:300000:65536\nme:100000:65536\n1001:500000:10\nbad:line\n';
  it('reads /etc/subuid ranges by name or by uid', () => {
    expect(parseSubordinateIds(subuid, { name: 'me', id: 1001 })).toEqual([
      { start: 100000, count: 65536 },
      { start: 500000, count: 10 },
    ]);
    expect(parseSubordinateIds(subuid, { name: 'nobody', id: 7 })).toEqual([]);
  });

  it('maps the caller to root, and container ids from 1 onto the first range through the tools', () => {
    const tools = { uid: '/usr/bin/newuidmap', gid: '/usr/bin/newgidmap' };
    expect(rootlessIdMapping({ uid: 1001, gid: 1002, name: 'me', subuid, subgid: subuid, tools })).toEqual({
      uid: [
        { container: 0, host: 1001, size: 1 },
        { container: 1, host: 100000, size: 65536 },
      ],
      gid: [
        { container: 0, host: 1002, size: 1 },
        { container: 1, host: 100000, size: 65536 },
      ],
      tools,
    });
  });

  it('maps only the caller without ranges or without the tools', () => {
    const own = {
      uid: [{ container: 0, host: 1001, size: 1 }],
      gid: [{ container: 0, host: 1002, size: 1 }],
    };
    expect(rootlessIdMapping({ uid: 1001, gid: 1002, name: 'x', subuid: '', subgid: '', tools: null })).toEqual(own);
    expect(rootlessIdMapping({ uid: 1001, gid: 1002, name: 'me', subuid, subgid: subuid, tools: null })).toEqual(own);
  });
});
