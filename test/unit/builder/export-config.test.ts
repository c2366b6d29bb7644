import { describe, expect, it } from 'vitest';
import { clampCreated, configDocument, fillCreated } from '../../../builder/export-image.js';
import { goJson, goJsonString } from '../../../builder/go-json.js';

describe('goJson', () => {
  it('escapes <, > and & as Go does', () => {
    expect(goJsonString('a && b > c <d>')).toBe('"a \\u0026\\u0026 b \\u003e c \\u003cd\\u003e"');
  });

  it('escapes control characters, U+2028 and U+2029, and keeps other unicode', () => {
    expect(goJsonString('\t\n\r\u0001\u2028\u2029é😀"\\')).toBe('"\\t\\n\\r\\u0001\\u2028\\u2029é😀\\"\\\\"');
  });

  it('writes a lone surrogate as U+FFFD', () => {
    expect(goJsonString('a\ud800b\udc00')).toBe('"a\\ufffdb\\ufffd"');
  });

  it('sorts map keys by bytes (a number-like key is not first) and keeps struct order', () => {
    const labels = new Map([
      ['1', 'one'],
      ['/z', 'z'],
      ['a', 'x'],
    ]);
    expect(goJson({ b: 1, a: labels, c: undefined, d: null })).toBe(
      '{"b":1,"a":{"/z":"z","1":"one","a":"x"},"d":null}',
    );
  });
});

describe('configDocument', () => {
  it('writes the fields in BuildKit order, drops empty ones and the engine container fields', () => {
    const base = {
      Hostname: '',
      Domainname: '',
      AttachStdin: false,
      Image: '',
      Entrypoint: null,
      Volumes: null,
      Cmd: [],
      OnBuild: null,
      Shell: ['/bin/sh', '-xc'],
      Healthcheck: { Retries: 3, Test: ['CMD', 'true'], Interval: 5e9 },
      Labels: { '1': 'one', '/z': 'z' },
      ArgsEscaped: true,
      Env: ['PATH=/bin'],
      User: 'nobody',
    };
    // a stored config may hold nulls the graph's type does not list
    expect(goJson(configDocument(base as unknown as Parameters<typeof configDocument>[0]))).toBe(
      '{"User":"nobody","Env":["PATH=/bin"],"Labels":{"/z":"z","1":"one"},"ArgsEscaped":true,' +
        '"Healthcheck":{"Test":["CMD","true"],"Interval":5000000000,"Retries":3},"Shell":["/bin/sh","-xc"]}',
    );
  });
});

describe('fillCreated', () => {
  it('gives metadata entries before the first new layer the time of that layer, not the base time', () => {
    const filled = fillCreated([
      { created: 'base', comment: 'Imported from -' },
      { created_by: 'ARG a', empty_layer: true },
      { created: 'run1', created_by: 'RUN a' },
      { created_by: 'ENV b', empty_layer: true },
      { created: 'run2', created_by: 'RUN b' },
      { created_by: 'CMD c', empty_layer: true },
    ]);
    expect(filled.map((h) => h.created)).toEqual(['base', 'run1', 'run1', 'run1', 'run2', 'run2']);
  });

  it('uses the last time when no new layer follows', () => {
    const filled = fillCreated([{ created: 'base' }, { created_by: 'ENV a', empty_layer: true }]);
    expect(filled.map((h) => h.created)).toEqual(['base', 'base']);
  });
});

describe('clampCreated', () => {
  it('gives SOURCE_DATE_EPOCH to entries without a time or newer than it, to the nanosecond', () => {
    const epoch = '2020-01-01T00:00:00Z';
    const out = clampCreated(
      [
        { created: '2019-06-01T00:00:00.123456789Z' },
        { created: '2020-01-01T00:00:00.000000001Z' },
        { created: '2020-01-01T01:00:00+02:00' },
        { created: '2026-11-23T06:56:30.859Z', created_by: 'RUN x' },
        { created_by: 'ENV a=1', empty_layer: true },
      ],
      epoch,
    );
    expect(out.map((h) => h.created)).toEqual([
      '2019-06-01T00:00:00.123456789Z',
      epoch,
      '2020-01-01T01:00:00+02:00',
      epoch,
      epoch,
    ]);
    expect(out[3]!.created_by).toBe('RUN x');
  });
});
