import { describe, expect, it } from 'vitest';
import { parseGoTemplate, printValue } from '../../../cli/render/go-template.js';

const render = (t: string, data: unknown, options = {}) => parseGoTemplate(t, options).render(data);

describe('Go templates for --format', () => {
  it('fields, nested fields and text print as Go prints them', () => {
    expect(render('{{.Repository}}:{{.Tag}}', { Repository: 'busybox', Tag: 'latest' })).toBe('busybox:latest');
    expect(render('{{.Config.Cmd}} {{.Size}}', { Config: { Cmd: ['sh', '-c'] }, Size: 1985631 })).toBe(
      '[sh -c] 1985631',
    );
    expect(render('{{.L}}', { L: { b: '2', a: '1' } })).toBe('map[a:1 b:2]');
    expect(render('{{.}}', 'dot')).toBe('dot');
    expect(render('{{.N}}', { N: null })).toBe('<nil>');
  });

  it('json, join, split, lower, upper, title, pad and truncate are Docker’s functions', () => {
    const d = { A: ['x', 'y'], S: 'Hello world', N: null, O: { k: '<v>' } };
    expect(render('{{json .A}} {{json .N}} {{json .O}}', d)).toBe('["x","y"] null {"k":"<v>"}');
    expect(render('{{join .A ","}}', d)).toBe('x,y');
    expect(render('{{index (split .S " ") 1}}', d)).toBe('world');
    expect(render('{{lower .S}}|{{upper .S}}|{{title "hello world"}}', d)).toBe('hello world|HELLO WORLD|Hello World');
    expect(render('[{{pad "a" 1 2}}]{{truncate .S 5}}', d)).toBe('[ a  ]Hello');
    expect(render('{{.S | upper | printf "%s!"}}', d)).toBe('HELLO WORLD!');
  });

  it('if, else if, range with variables and with work as in Go', () => {
    const d = { Tags: ['a', 'b'], Empty: [], M: { z: 1, y: 2 }, On: true };
    expect(render('{{range .Tags}}<{{.}}>{{end}}', d)).toBe('<a><b>');
    expect(render('{{range $i, $t := .Tags}}{{$i}}={{$t}} {{end}}', d)).toBe('0=a 1=b ');
    expect(render('{{range $k, $v := .M}}{{$k}}{{$v}}{{end}}', d)).toBe('y2z1');
    expect(render('{{range .Empty}}x{{else}}none{{end}}', d)).toBe('none');
    expect(render('{{if .On}}yes{{else}}no{{end}}', d)).toBe('yes');
    expect(render('{{if .Empty}}a{{else if eq (len .Tags) 2}}b{{else}}c{{end}}', d)).toBe('b');
    expect(render('{{with .M}}{{.z}}{{end}}', d)).toBe('1');
    expect(render('{{range .Tags}}{{$.On}}{{end}}', d)).toBe('truetrue');
    expect(render('{{- " a " -}}  {{- "b"}}', d)).toBe(' a b');
  });

  it('a field a struct lacks is an error; a map key it lacks is <no value>', () => {
    expect(() => render('{{.Foo}}', { ID: 'x' }, { missingField: 'error' })).toThrow(
      /template parsing error: .*can't evaluate field Foo/,
    );
    expect(render('{{.Foo}}', { ID: 'x' }, { missingField: 'zero' })).toBe('<no value>');
    const types = { 'Config.Labels': 'map', 'Config.Cmd': 'slice' } as const;
    const d = { Config: { Labels: null, Cmd: null } };
    expect(
      render('{{.Config.Labels.x}}|{{.Config.Labels}}|{{.Config.Cmd}}|{{json .Config.Cmd}}', d, {
        missingField: 'error',
        types,
      }),
    ).toBe('<no value>|map[]|[]|null');
    expect(() => render('{{.Config.Nope}}', d, { missingField: 'error', types })).toThrow(/can't evaluate field Nope/);
  });

  it('malformed templates are parse errors in Docker’s words', () => {
    expect(() => parseGoTemplate('{{.ID')).toThrow('template parsing error: template: :1: unclosed action');
    expect(() => parseGoTemplate('{{if .A}}x')).toThrow(/unexpected EOF/);
    expect(() => parseGoTemplate('{{end}}')).toThrow(/unexpected \{\{end\}\}/);
    expect(() => render('{{nosuch .A}}', {})).toThrow(/function "nosuch" not defined/);
  });

  it('printValue prints slices and maps of JSON values as %v', () => {
    expect(printValue([1, 'a', true, null])).toBe('[1 a true <nil>]');
    expect(printValue({ b: [1], a: {} })).toBe('map[a:map[] b:[1]]');
  });
});
