// Unit tests for src/runtime/go-template.ts: the Go text/template subset of --format. Expected
// outputs are what Go's text/template prints for the same template over the same JSON data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageMessage } from '../helpers/usage-error.js';
import { checkTemplate, renderTemplate } from '../../src/runtime/go-template.js';

const DATA = {
  Id: 'abc123',
  Name: '/web',
  State: { Status: 'running', Running: true, Paused: false, Pid: 4242, ExitCode: 0 },
  Config: { Env: ['PATH=/bin', 'A=1'], Cmd: ['sh', '-c', 'sleep 1'], Labels: {}, Entrypoint: null },
  NetworkSettings: {
    IPAddress: '10.88.0.2',
    Ports: {
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
    },
    Networks: { bridge: { IPAddress: '10.88.0.2', IPPrefixLen: 16 }, backend: { IPAddress: '10.99.0.5', IPPrefixLen: 24 } },
  },
  Namespaces: { net: 4026532206, pid: 4026532204 },
  Ratio: 0.5,
  Tiny: 1e-7,
  Empty: '',
  Zero: 0,
};

const render = (tpl: string): string => renderTemplate(tpl, DATA);

const cases: Array<[string, string, string]> = [
  ['plain text', 'no actions here', 'no actions here'],
  ['a field', '{{.Name}}', '/web'],
  ['a nested number', '{{.State.Pid}}', '4242'],
  ['a nested string', '{{.NetworkSettings.IPAddress}}', '10.88.0.2'],
  ['booleans', '{{.State.Running}} {{.State.Paused}}', 'true false'],
  ['text around actions', 'pid={{.State.Pid}}, ip={{.NetworkSettings.IPAddress}}.', 'pid=4242, ip=10.88.0.2.'],
  ['a map key as a field', '{{.Namespaces.net}}', '4026532206'],
  ['a float', '{{.Ratio}} {{.Tiny}}', '0.5 1e-07'],
  ['null', '{{.Config.Entrypoint}}', '<nil>'],
  ['a missing key', '{{.Nope}}', '<no value>'],
  ['below a missing key', '{{.Nope.Deeper}}', '<no value>'],
  ['a missing map entry', '{{.NetworkSettings.Networks.host}}', '<no value>'],
  ['an array, Go style', '{{.Config.Cmd}}', '[sh -c sleep 1]'],
  ['a map, keys sorted', '{{.Namespaces}}', 'map[net:4026532206 pid:4026532204]'],
  ['an empty map', '{{.Config.Labels}}', 'map[]'],
  ['nested maps and arrays', '{{.NetworkSettings.Ports}}', 'map[53/udp:[map[HostIp:127.0.0.1 HostPort:5353]] 80/tcp:[map[HostIp:0.0.0.0 HostPort:8080]]]'],
  ['json of an object, compact, in its own key order', '{{json .State}}', '{"Status":"running","Running":true,"Paused":false,"Pid":4242,"ExitCode":0}'],
  ['json of a string and of an array', '{{json .Name}} {{json .Config.Env}}', '"/web" ["PATH=/bin","A=1"]'],
  ['json of a missing value', '{{json .Nope}}', 'null'],
  ['json does not escape HTML', '{{json "<a&b>"}}', '"<a&b>"'],
  ['index of a map', '{{index .NetworkSettings.Ports "80/tcp"}}', '[map[HostIp:0.0.0.0 HostPort:8080]]'],
  ['index twice', '{{index .NetworkSettings.Ports "80/tcp" 0}}', 'map[HostIp:0.0.0.0 HostPort:8080]'],
  ['a field of a parenthesised index', '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', '8080'],
  ['index of a missing key', '{{index .Namespaces "uts"}}', '<no value>'],
  ['index of an array', '{{index .Config.Cmd 2}}', 'sleep 1'],
  ['range over an array', '{{range .Config.Env}}{{.}} {{end}}', 'PATH=/bin A=1 '],
  ['range over a map: values in key order', '{{range .NetworkSettings.Networks}}{{.IPAddress}};{{end}}', '10.99.0.5;10.88.0.2;'],
  ['range with key and value', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPPrefixLen}} {{end}}', 'backend=24 bridge=16 '],
  ['range with index and element', '{{range $i, $e := .Config.Cmd}}{{$i}}:{{$e}},{{end}}', '0:sh,1:-c,2:sleep 1,'],
  ['range with one variable gets the element', '{{range $e := .Config.Cmd}}[{{$e}}]{{end}}', '[sh][-c][sleep 1]'],
  ['range else on empty', '{{range .Config.Labels}}x{{else}}no labels{{end}}', 'no labels'],
  ['range over missing', '{{range .Nope}}x{{else}}none{{end}}', 'none'],
  ['$ is the root inside range', '{{range .Config.Cmd}}{{$.Id}}{{end}}', 'abc123abc123abc123'],
  ['break and continue', '{{range $i, $e := .Config.Cmd}}{{if eq $i 0}}{{continue}}{{end}}{{if eq $i 2}}{{break}}{{end}}{{$e}}{{end}}', '-c'],
  ['if / else', '{{if .State.Running}}up{{else}}down{{end}}', 'up'],
  ['if on falsy values', '{{if .Empty}}a{{end}}{{if .Zero}}b{{end}}{{if .Config.Labels}}c{{end}}{{if .Nope}}d{{end}}|', '|'],
  ['else if', '{{if .State.Paused}}paused{{else if .State.Running}}running{{else}}other{{end}}', 'running'],
  ['with sets dot', '{{with .NetworkSettings}}{{.IPAddress}}{{end}}', '10.88.0.2'],
  ['with else', '{{with .Nope}}x{{else}}none{{end}}', 'none'],
  ['variables', '{{$ip := .NetworkSettings.IPAddress}}ip={{$ip}}', 'ip=10.88.0.2'],
  ['variable assignment', '{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', '2'],
  ['a pipeline', '{{.Name | upper}}', '/WEB'],
  ['a pipeline into printf', '{{.State.Pid | printf "pid %d"}}', 'pid 4242'],
  ['println', '{{println .Name .State.Pid}}', '/web 4242\n'],
  ['print spacing', '{{print 1 2 "a" "b" 3}}', '1 2ab3'],
  ['printf verbs', '{{printf "%5d|%-5s|%q|%v|%t|%x|%05d|%.2f|%%" 42 "ab" "q\\"" .Config.Cmd true 255 -7 0.5}}', '   42|ab   |"q\\""|[sh -c sleep 1]|true|ff|-0007|0.50|%'],
  ['printf with missing and extra arguments', '{{printf "%s %s" "a"}} {{printf "x" 1}}', 'a %!s(MISSING) x%!(EXTRA int=1)'],
  ['printf with a wrong verb', '{{printf "%d" "x"}}', '%!d(string=x)'],
  ['len', '{{len .Config.Env}} {{len .Namespaces}} {{len .Name}}', '2 2 4'],
  ['docker functions', '{{upper "ab"}} {{lower "CD"}} {{title "hello world"}} {{join .Config.Env ","}}', 'AB cd Hello World PATH=/bin,A=1'],
  ['split', '{{split "a:b:c" ":"}} {{index (split .Name "/") 1}}', '[a b c] web'],
  ['pad and truncate', '[{{pad "x" 2 1}}][{{pad "" 2 1}}][{{truncate "abcdef" 3}}][{{truncate "ab" 3}}]', '[  x ][][abc][ab]'],
  ['comparisons', '{{eq .State.Status "running"}} {{ne .State.Pid 0}} {{lt 1 2}} {{ge "b" "a"}} {{gt 1.5 2}}', 'true true true true false'],
  ['eq with several values', '{{eq .State.Status "paused" "running"}}', 'true'],
  ['and / or / not', '{{and 1 0}} {{or 0 "" "x"}} {{not .State.Running}}', '0 x false'],
  ['string literals', '{{"a\\tb\\u00e9\\x41"}} {{`raw\\n`}}', 'a\tbéA raw\\n'],
  ['number literals', '{{0x1F}} {{-3}} {{1.25}}', '31 -3 1.25'],
  ['nil and bool literals', '{{nil}} {{true}}', '<nil> true'],
  ['a string containing }}', '{{"a}}b"}}', 'a}}b'],
  ['comments', 'a{{/* a comment */}}b', 'ab'],
  ['trim markers', 'a  {{- .Id -}}  \n  b', 'aabc123b'],
  ['trimmed comment', 'a {{- /* x */ -}} b', 'ab'],
  ['a dash without a space is a number, not a trim', 'a {{-3}}', 'a -3'],
  ['an action over several lines', '{{ .State.Pid\n}}', '4242'],
];

for (const [name, tpl, want] of cases) {
  test(`${name}: ${JSON.stringify(tpl)}`, () => {
    assert.is(render(tpl), want);
  });
}

test('plain values as data', () => {
  assert.is(renderTemplate('{{.}}', 'text'), 'text');
  assert.is(renderTemplate('{{.}}', null), '<nil>');
  assert.is(renderTemplate('{{.}}', [1, [2, 3], { a: null }]), '[1 [2 3] map[a:<nil>]]');
  assert.is(renderTemplate('{{range .}}{{.}}{{end}}', 3), '012', 'Go 1.22 ranges over an integer');
  assert.is(renderTemplate('{{.constructor}}', {}), '<no value>', 'prototype names are not fields');
});

const errors: Array<[string, string, string]> = [
  ['unknown function', '{{foo .Name}}', 'template parsing error: template: :1: function "foo" not defined'],
  ['unknown function in a pipeline', '{{.Name | shout}}', 'template parsing error: template: :1: function "shout" not defined'],
  ['unclosed action', 'x {{.Name', 'template parsing error: template: :1: unclosed action'],
  ['unexpected end', '{{.Name}}{{end}}', 'template parsing error: template: :1: unexpected {{end}}'],
  ['unexpected else', '{{else}}', 'template parsing error: template: :1: unexpected {{else}}'],
  ['missing end', 'a\n{{range .Config.Env}}', 'template parsing error: template: :2: unexpected EOF'],
  ['two elses', '{{if 1}}a{{else}}b{{else}}c{{end}}', 'template parsing error: template: :1: expected end; found {{else}}'],
  ['empty action', '{{}}', 'template parsing error: template: :1: missing value for command'],
  ['empty if', '{{if}}x{{end}}', 'template parsing error: template: :1: missing value for if'],
  ['undefined variable', '{{$x}}', 'template parsing error: template: :1: undefined variable "$x"'],
  ['variable out of scope', '{{if 1}}{{$x := 1}}{{end}}{{$x}}', 'template parsing error: template: :1: undefined variable "$x"'],
  ['unterminated string', '{{"abc}}', 'template parsing error: template: :1: unterminated quoted string'],
  ['unterminated raw string', '{{`abc}}', 'template parsing error: template: :1: unterminated raw quoted string'],
  ['bad character', '{{.Name ! 1}}', "template parsing error: template: :1: unrecognized character in action: U+0021 '!'"],
  ['unclosed paren', '{{(index .A 0}}', 'template parsing error: template: :1: unclosed left paren'],
  ['stray paren', '{{.A)}}', 'template parsing error: template: :1: unexpected right paren'],
  ['unclosed comment', '{{/* x }}', 'template parsing error: template: :1: unclosed comment'],
  ['break outside range', '{{break}}', 'template parsing error: template: :1: {{break}} outside {{range}}'],
  ['literal in a later pipeline stage', '{{.Name | "x"}}', 'template parsing error: template: :1: non executable command in pipeline stage 2'],
  ['define', '{{define "x"}}{{end}}', 'template parsing error: template: :1: {{define}} is not supported'],
  ['line numbers', 'a\nb\n{{nope}}', 'template parsing error: template: :3: function "nope" not defined'],
  ['field of a string', '{{.Name.Foo}}', 'template parsing error: template: :1:2: executing "" at <.Name.Foo>: can\'t evaluate field Foo in type string'],
  ['argument to a non-function', '{{.Name .Id}}', 'template parsing error: template: :1:2: executing "" at <.Name .Id>: can\'t give argument to non-function .Name'],
  ['index out of range', 'x\n  {{index .Config.Env 5}}', 'template parsing error: template: :2:4: executing "" at <index .Config.Env 5>: error calling index: index out of range: 5'],
  ['index of nil', '{{index .Nope "a"}}', 'template parsing error: template: :1:2: executing "" at <index .Nope "a">: error calling index: index of untyped nil'],
  ['wrong number of args', '{{join .Config.Env}}', 'template parsing error: template: :1:2: executing "" at <join .Config.Env>: wrong number of args for join: want 2 got 1'],
  ['wrong argument type', '{{upper .State.Pid}}', 'template parsing error: template: :1:2: executing "" at <upper .State.Pid>: error calling upper: wrong type for value; expected string; got int'],
  ['range over a string', '{{range .Name}}{{end}}', 'template parsing error: template: :1:8: executing "" at <.Name>: range can\'t iterate over /web'],
  ['incomparable', '{{lt .Name 1}}', 'template parsing error: template: :1:2: executing "" at <lt .Name 1>: error calling lt: incompatible types for comparison'],
];

for (const [name, tpl, want] of errors) {
  test(`error, ${name}: ${JSON.stringify(tpl)}`, () => {
    assert.is(usageMessage(() => render(tpl)), want);
  });
}

test('checkTemplate: parse errors without running; execution errors are left to rendering', () => {
  assert.is(usageMessage(() => checkTemplate('{{foo}}')), 'template parsing error: template: :1: function "foo" not defined');
  checkTemplate('{{.Name.Foo}} {{index .X 9}}');
});

test('slice: Go\'s builtin on strings and lists; out of range is an error', () => {
  assert.is(renderTemplate('{{slice .M 0 5}}', { M: '02:42:0a:58:00:02' }), '02:42');
  assert.is(renderTemplate('{{slice .M 3}}', { M: 'abcdef' }), 'def');
  assert.is(renderTemplate('{{slice .L 1 2}}', { L: ['a', 'b', 'c'] }), '[b]');
  assert.throws(() => renderTemplate('{{slice .M 0 9}}', { M: 'abc' }), /error calling slice: index out of range/);
});

test('a method of the data: a function found as a field is called with the arguments, as Go calls a method', () => {
  const row = { Names: 'web', Label: (k: unknown) => ({ tier: 'front' } as Record<string, string>)[String(k)] ?? '' };
  assert.is(renderTemplate('{{.Label "tier"}}|{{.Label "nope"}}|{{.Names}}', row), 'front||web');
  assert.is(renderTemplate('{{json .}}', row), '{"Names":"web"}', 'methods are not data');
  assert.throws(() => renderTemplate('{{.Names "x"}}', row), /can't give argument to non-function/);
});

test.run();
