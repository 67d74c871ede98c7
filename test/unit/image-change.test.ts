// Unit tests for src/spec/image-change.ts: import --change instructions and command selection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectUsageError } from '../helpers/usage-error.js';
import {
  applyChanges,
  commandFor,
  expandWord,
  splitWords,
  type ImageConfig,
} from '../../src/spec/image-change.js';


const one = (change: string, base: ImageConfig = {}): ImageConfig => applyChanges(base, [change]);

// ---- CMD / ENTRYPOINT ----

const cmdCases: Array<[string, string[]]> = [
  ['CMD ["python3", "-m", "http.server"]', ['python3', '-m', 'http.server']],
  ['CMD ["/bin/sh"]', ['/bin/sh']],
  ['CMD []', []],
  ['CMD [ "a" , "b c" ]', ['a', 'b c']],
  ['CMD ["with \\"quote\\""]', ['with "quote"']],
  ['CMD echo hello world', ['/bin/sh', '-c', 'echo hello world']],
  ['CMD   spaced   args  ', ['/bin/sh', '-c', 'spaced   args']],
  ['CMD [not json]', ['/bin/sh', '-c', '[not json]']],
  ['CMD ["a", 1]', ['/bin/sh', '-c', '["a", 1]']],
  ["CMD ['single']", ['/bin/sh', '-c', "['single']"]],
  ['CMD echo $HOME', ['/bin/sh', '-c', 'echo $HOME']],
  ['cmd ["lower"]', ['lower']],
  ['Cmd ["mixed"]', ['mixed']],
  ['CMD\t["tab"]', ['tab']],
  ['  CMD ["leading space"]', ['leading space']],
  ['CMD echo a \\\n  b', ['/bin/sh', '-c', 'echo a   b']],
];
for (const [change, want] of cmdCases) {
  test(`CMD: ${JSON.stringify(change)}`, () => {
    assert.equal(one(change), { Cmd: want });
  });
}

test('ENTRYPOINT exec and shell form', () => {
  assert.equal(one('ENTRYPOINT ["/entry.sh", "--flag"]'), { Entrypoint: ['/entry.sh', '--flag'] });
  assert.equal(one('entrypoint exec nginx -g daemon\\ off;'), {
    Entrypoint: ['/bin/sh', '-c', 'exec nginx -g daemon\\ off;'],
  });
});

test('ENTRYPOINT clears an inherited CMD', () => {
  assert.equal(one('ENTRYPOINT ["/e"]', { Cmd: ['old'] }), { Entrypoint: ['/e'] });
});

test('ENTRYPOINT keeps a CMD set earlier in the same changes, and a later CMD applies', () => {
  assert.equal(applyChanges({ Cmd: ['old'] }, ['CMD ["new"]', 'ENTRYPOINT ["/e"]']), {
    Cmd: ['new'],
    Entrypoint: ['/e'],
  });
  assert.equal(applyChanges({ Cmd: ['old'] }, ['ENTRYPOINT ["/e"]', 'CMD ["later"]']), {
    Entrypoint: ['/e'],
    Cmd: ['later'],
  });
});

test('CMD replaces, never appends', () => {
  assert.equal(applyChanges({ Cmd: ['a'] }, ['CMD ["b"]', 'CMD ["c"]']), { Cmd: ['c'] });
});

for (const kw of ['CMD', 'ENTRYPOINT']) {
  test(`${kw} without arguments is an error`, () => {
    assert.is(expectUsageError(() => one(kw)).message, `invalid change "${kw}": ${kw} requires at least one argument`);
    assert.is(expectUsageError(() => one(`${kw}   `)).message, `invalid change "${kw}   ": ${kw} requires at least one argument`);
  });
}

// ---- ENV ----

const envCases: Array<[string, string[], string[]]> = [
  ['ENV A=1', [], ['A=1']],
  ['ENV A=1 B=2', [], ['A=1', 'B=2']],
  ['ENV A=', [], ['A=']],
  ['ENV A==x', [], ['A==x']],
  ['ENV A="hello world" B=x', [], ['A=hello world', 'B=x']],
  ["ENV A='single $HOME'", ['HOME=/root'], ['HOME=/root', 'A=single $HOME']],
  ['ENV A=hello\\ world', [], ['A=hello world']],
  ['ENV A="say \\"hi\\""', [], ['A=say "hi"']],
  ['ENV A=$HOME/bin', ['HOME=/root'], ['HOME=/root', 'A=/root/bin']],
  ['ENV A=${HOME}bin', ['HOME=/root'], ['HOME=/root', 'A=/rootbin']],
  ['ENV A="$HOME x"', ['HOME=/r'], ['HOME=/r', 'A=/r x']],
  ['ENV A=\\$HOME', ['HOME=/r'], ['HOME=/r', 'A=$HOME']],
  ['ENV A=$UNSET.', [], ['A=.']],
  ['ENV A=${UNSET:-fallback}', [], ['A=fallback']],
  ['ENV A=${EMPTY:-fallback}', ['EMPTY='], ['EMPTY=', 'A=fallback']],
  ['ENV A=${EMPTY-fallback}', ['EMPTY='], ['EMPTY=', 'A=']],
  ['ENV A=${UNSET-fallback}', [], ['A=fallback']],
  ['ENV A=${SET:+alt}', ['SET=1'], ['SET=1', 'A=alt']],
  ['ENV A=${EMPTY:+alt}', ['EMPTY='], ['EMPTY=', 'A=']],
  ['ENV A=${EMPTY+alt}', ['EMPTY='], ['EMPTY=', 'A=alt']],
  ['ENV A=${UNSET:-${HOME}/x}', ['HOME=/h'], ['HOME=/h', 'A=/h/x']],
  ['ENV A="${SET:?must be set}"', ['SET=v'], ['SET=v', 'A=v']],
  ['ENV A=${SET:?unset}', ['SET=v'], ['SET=v', 'A=v']],
  ['ENV A=cost$', [], ['A=cost$']],
  ['ENV A=$1x', [], ['A=x']],
  ['ENV A=a$$b', [], ['A=ab']],
  ['ENV A=$/x', [], ['A=$/x']],
  ['ENV PATH=/opt/bin:$PATH', ['PATH=/usr/bin', 'X=1'], ['PATH=/opt/bin:/usr/bin', 'X=1']],
  ['ENV X=2', ['PATH=/usr/bin', 'X=1'], ['PATH=/usr/bin', 'X=2']],
  ['ENV A=1 B=$A', ['A=0'], ['A=1', 'B=0']],
  ['ENV NAME the rest of the line', [], ['NAME=the rest of the line']],
  ['ENV NAME    spaced   value', [], ['NAME=spaced   value']],
  ['ENV NAME "quoted legacy"', [], ['NAME=quoted legacy']],
  ['ENV NAME $HOME/x', ['HOME=/h'], ['HOME=/h', 'NAME=/h/x']],
  ['env lower=case', [], ['lower=case']],
];
for (const [change, env, want] of envCases) {
  test(`ENV: ${JSON.stringify(change)} over ${JSON.stringify(env)}`, () => {
    assert.equal(one(change, { Env: env }).Env, want);
  });
}

test('ENV sees values set by earlier changes', () => {
  assert.equal(applyChanges({}, ['ENV A=1', 'ENV B=${A}2']).Env, ['A=1', 'B=12']);
});

test('ENV does not modify the base config', () => {
  const base: ImageConfig = { Env: ['A=1'], Cmd: ['x'], ExposedPorts: { '80/tcp': {} } };
  const out = applyChanges(base, ['ENV A=2', 'CMD ["y"]', 'EXPOSE 81']);
  assert.equal(base, { Env: ['A=1'], Cmd: ['x'], ExposedPorts: { '80/tcp': {} } });
  assert.equal(out, { Env: ['A=2'], Cmd: ['y'], ExposedPorts: { '80/tcp': {}, '81/tcp': {} } });
});

const badEnv: Array<[string, string]> = [
  ['ENV', 'ENV requires at least one argument'],
  ['ENV ONLYNAME', 'ENV must have two arguments'],
  ['ENV A=1 B', `can't find = in "B", must be of the form name=value`],
  ['ENV =x', 'ENV names can not be blank'],
  ['ENV A="unterminated', 'unexpected end of statement while looking for matching "'],
  ["ENV A='unterminated", "unexpected end of statement while looking for matching '"],
  ['ENV A=${UNCLOSED', `missing '}' in "\${UNCLOSED"`],
  ['ENV A=${B%x}', 'bad substitution ${B%x}'],
  ['ENV A=${}', 'bad substitution ${}'],
  ['ENV A="${UNSET:?needs a value}"', 'UNSET: needs a value'],
  ['ENV A=${UNSET:?gone}', 'UNSET: gone'],
  ['ENV A=${EMPTY:?}', 'EMPTY: is not allowed to be unset'],
  // Words split on spaces before substitution, as docker's parser does: quote such defaults.
  ['ENV A=${UNSET:-a b}', `missing '}' in "\${UNSET:-a"`],
  ['ENV A=${UNSET?}', 'UNSET: is not allowed to be unset'],
];
for (const [change, detail] of badEnv) {
  test(`ENV rejects ${JSON.stringify(change)}`, () => {
    assert.is(expectUsageError(() => one(change)).message, `invalid change ${JSON.stringify(change)}: ${detail}`);
  });
}

// ---- WORKDIR ----

const workdirCases: Array<[string[], string]> = [
  [['WORKDIR /app'], '/app'],
  [['WORKDIR /app/'], '/app'],
  [['WORKDIR /a/../b'], '/b'],
  [['WORKDIR /../..'], '/'],
  [['WORKDIR //srv//x'], '/srv/x'],
  [['WORKDIR rel'], '/rel'],
  [['WORKDIR /a', 'WORKDIR b', 'WORKDIR ../c'], '/a/c'],
  [['WORKDIR /a', 'WORKDIR /z'], '/z'],
  [['WORKDIR /my dir'], '/my dir'],
  [['ENV BASE=/opt', 'WORKDIR $BASE/app'], '/opt/app'],
  [['WORKDIR "/quoted path"'], '/quoted path'],
  [['workdir /lower'], '/lower'],
];
for (const [changes, want] of workdirCases) {
  test(`WORKDIR: ${JSON.stringify(changes)}`, () => {
    assert.is(applyChanges({}, changes).WorkingDir, want);
  });
}

test('WORKDIR relative to the base image directory', () => {
  assert.is(one('WORKDIR sub', { WorkingDir: '/base' }).WorkingDir, '/base/sub');
});

test('WORKDIR without an argument', () => {
  assert.is(expectUsageError(() => one('WORKDIR')).message, 'invalid change "WORKDIR": WORKDIR requires exactly one argument');
});

// ---- USER ----

const userCases: Array<[string, string]> = [
  ['USER nobody', 'nobody'],
  ['USER 1000:1000', '1000:1000'],
  ['USER app:staff', 'app:staff'],
  ['user root', 'root'],
  ['USER "quoted"', 'quoted'],
];
for (const [change, want] of userCases) {
  test(`USER: ${JSON.stringify(change)}`, () => {
    assert.is(one(change).User, want);
  });
}

test('USER expands variables', () => {
  assert.is(applyChanges({}, ['ENV U=1234', 'USER $U:$U']).User, '1234:1234');
});

const badUser: Array<[string, string]> = [
  ['USER', 'USER requires exactly one argument'],
  ['USER a b', 'USER requires exactly one argument'],
  ['USER root:', 'invalid user spec "root:"'],
  ['USER -1', 'invalid user spec "-1"'],
  ['USER $UNSET', 'invalid user spec ""'],
];
for (const [change, detail] of badUser) {
  test(`USER rejects ${JSON.stringify(change)}`, () => {
    assert.is(expectUsageError(() => one(change)).message, `invalid change ${JSON.stringify(change)}: ${detail}`);
  });
}

// ---- EXPOSE ----

const exposeCases: Array<[string, string[]]> = [
  ['EXPOSE 80', ['80/tcp']],
  ['EXPOSE 80 443/udp', ['80/tcp', '443/udp']],
  ['EXPOSE 53/UDP', ['53/udp']],
  ['EXPOSE 9/sctp', ['9/sctp']],
  ['EXPOSE 8000-8002', ['8000/tcp', '8001/tcp', '8002/tcp']],
  ['EXPOSE 7-7/udp', ['7/udp']],
  ['EXPOSE 1 65535', ['1/tcp', '65535/tcp']],
  ['EXPOSE   80   80/tcp  ', ['80/tcp']],
  ['expose 22', ['22/tcp']],
];
for (const [change, want] of exposeCases) {
  test(`EXPOSE: ${JSON.stringify(change)}`, () => {
    assert.equal(Object.keys(one(change).ExposedPorts ?? {}), want);
  });
}

test('EXPOSE adds to the base ports and expands variables', () => {
  const out = applyChanges({ ExposedPorts: { '22/tcp': {} } }, ['ENV P=8080', 'EXPOSE $P']);
  assert.equal(out.ExposedPorts, { '22/tcp': {}, '8080/tcp': {} });
});

const badExpose: Array<[string, string]> = [
  ['EXPOSE', 'EXPOSE requires at least one argument'],
  ['EXPOSE 0', 'invalid port "0": ports are 1-65535'],
  ['EXPOSE 65536', 'invalid port "65536": ports are 1-65535'],
  ['EXPOSE http', 'invalid port "http": use PORT[-PORT][/PROTOCOL]'],
  ['EXPOSE -1', 'invalid port "-1": use PORT[-PORT][/PROTOCOL]'],
  ['EXPOSE 80/', 'invalid port "80/": use PORT[-PORT][/PROTOCOL]'],
  ['EXPOSE 127.0.0.1:80:80', 'invalid port "127.0.0.1:80:80": use PORT[-PORT][/PROTOCOL]'],
  ['EXPOSE 80/icmp', 'invalid protocol "icmp" in "80/icmp" (tcp, udp, sctp)'],
  ['EXPOSE 90-80', 'invalid port range "90-80"'],
];
for (const [change, detail] of badExpose) {
  test(`EXPOSE rejects ${JSON.stringify(change)}`, () => {
    assert.is(expectUsageError(() => one(change)).message, `invalid change ${JSON.stringify(change)}: ${detail}`);
  });
}

// ---- instruction handling ----

for (const kw of ['RUN', 'run', 'COPY', 'ONBUILD', 'FROM', 'CMD["x"]', '#', 'ENVA=1']) {
  test(`unsupported instruction ${kw}`, () => {
    assert.is(
      expectUsageError(() => one(`${kw} something`)).message,
      `unsupported change instruction ${JSON.stringify(kw.toUpperCase())} (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)`,
    );
  });
}

test('LABEL: key=value pairs, quotes removed, $VARS expanded, the legacy form, merged over the base', () => {
  const out = applyChanges({ Env: ['V=1.2'], Labels: { keep: 'x', a: 'old' } }, ['LABEL a=new "b c"="d e" version=$V', 'LABEL legacy the rest of it']);
  assert.equal(out.Labels, { keep: 'x', a: 'new', 'b c': 'd e', version: '1.2', legacy: 'the rest of it' });
  assert.match(expectUsageError(() => one('LABEL')).message, /LABEL requires at least one argument/);
  assert.match(expectUsageError(() => one('LABEL a=1 b')).message, /can't find = in "b"/);
  assert.match(expectUsageError(() => one('LABEL =1')).message, /LABEL names can not be blank/);
});

test('VOLUME: shell or JSON form, absolute paths, cleaned, added to the base', () => {
  assert.equal(applyChanges({ Volumes: { '/old': {} } }, ['VOLUME /data /logs/']).Volumes, { '/old': {}, '/data': {}, '/logs': {} });
  assert.equal(applyChanges({}, ['VOLUME ["/a b", "/c"]']).Volumes, { '/a b': {}, '/c': {} });
  assert.match(expectUsageError(() => one('VOLUME data')).message, /VOLUME "data": the path must be absolute/);
  assert.match(expectUsageError(() => one('VOLUME')).message, /VOLUME requires at least one argument/);
});

test('STOPSIGNAL: a name, a short name or a number, checked, kept as written', () => {
  assert.is(applyChanges({}, ['STOPSIGNAL SIGINT']).StopSignal, 'SIGINT');
  assert.is(applyChanges({}, ['STOPSIGNAL 9']).StopSignal, '9');
  assert.is(applyChanges({ StopSignal: 'SIGTERM' }, []).StopSignal, 'SIGTERM', 'the base\'s kept');
  assert.match(expectUsageError(() => one('STOPSIGNAL SIGBOGUS')).message, /invalid signal "SIGBOGUS"/);
  assert.match(expectUsageError(() => one('STOPSIGNAL A B')).message, /STOPSIGNAL requires exactly one argument/);
});

test('empty changes are ignored; no changes return a copy', () => {
  const base: ImageConfig = { Cmd: ['sh'] };
  const out = applyChanges(base, ['', '   ']);
  assert.equal(out, base);
  assert.is.not(out, base);
  assert.is.not(out.Cmd, base.Cmd);
  assert.equal(applyChanges({}, []), {});
});

test('a change holding two instructions is refused', () => {
  assert.is(
    expectUsageError(() => one('ENV A=1\nCMD ["x"]')).message,
    'invalid change "ENV A=1\\nCMD [\\"x\\"]": one instruction per --change',
  );
});

test('all instructions together', () => {
  const out = applyChanges({}, [
    'ENV APP_HOME=/srv/app PORT=8080',
    'WORKDIR $APP_HOME',
    'USER 1000',
    'EXPOSE ${PORT}',
    'ENTRYPOINT ["/usr/bin/tini", "--"]',
    'CMD ["python3", "-m", "http.server", "8080"]',
  ]);
  assert.equal(out, {
    Env: ['APP_HOME=/srv/app', 'PORT=8080'],
    WorkingDir: '/srv/app',
    User: '1000',
    ExposedPorts: { '8080/tcp': {} },
    Entrypoint: ['/usr/bin/tini', '--'],
    Cmd: ['python3', '-m', 'http.server', '8080'],
  });
});

// ---- word helpers ----

test('splitWords keeps quotes and escapes inside words', () => {
  assert.equal(splitWords(`a "b c" 'd e' f\\ g  h`), ['a', '"b c"', "'d e'", 'f\\ g', 'h']);
  assert.equal(splitWords('   '), []);
  assert.equal(splitWords(`x="1 2"y`), ['x="1 2"y']);
  assert.equal(splitWords(`'a\\' b`), ["'a\\'", 'b']);
});

test('expandWord', () => {
  const env = new Map([
    ['A', 'x'],
    ['E', ''],
  ]);
  assert.is(expandWord('$A$A', env), 'xx');
  assert.is(expandWord('${A}_$A_', env), 'x_');
  assert.is(expandWord(`"$A"'$A'\\$A`, env), 'x$A$A');
  assert.is(expandWord('"a\\b"', env), 'a\\b');
  assert.is(expandWord('trailing\\', env), 'trailing\\');
  assert.is(expandWord('${E:-d}${E-d}', env), 'd');
});

// ---- commandFor ----

const commandCases: Array<[ImageConfig, string[], string[]]> = [
  [{ Cmd: ['sh'] }, [], ['sh']],
  [{ Cmd: ['sh'] }, ['echo', 'hi'], ['echo', 'hi']],
  [{ Entrypoint: ['/e'] }, [], ['/e']],
  [{ Entrypoint: ['/e', '-x'], Cmd: ['default'] }, [], ['/e', '-x', 'default']],
  [{ Entrypoint: ['/e'], Cmd: ['default'] }, ['given'], ['/e', 'given']],
  [{ Entrypoint: [], Cmd: ['c'] }, [], ['c']],
  [{}, ['ls', '-l'], ['ls', '-l']],
  [{ Cmd: [] }, ['x'], ['x']],
];
for (const [config, args, want] of commandCases) {
  test(`commandFor ${JSON.stringify(config)} ${JSON.stringify(args)}`, () => {
    assert.equal(commandFor(config, args), want);
  });
}

for (const config of [{}, { Cmd: [] }, { Entrypoint: [] }, { Entrypoint: [], Cmd: [] }] as ImageConfig[]) {
  test(`commandFor ${JSON.stringify(config)} without args: no command specified`, () => {
    const err = expectUsageError(() => commandFor(config, []));
    assert.is(err.message, 'no command specified');
    assert.ok(err.hint?.includes(`--change 'CMD [`), err.hint);
  });
}

// --entrypoint (docker run reference): replaces ENTRYPOINT with one word, drops the image's CMD;
// "" drops both; CLI args still follow it.
const entrypointCases: Array<[ImageConfig, string, string[], string[]]> = [
  [{ Entrypoint: ['/e'], Cmd: ['default'] }, '/other', [], ['/other']],
  [{ Entrypoint: ['/e'], Cmd: ['default'] }, '/other', ['a', 'b'], ['/other', 'a', 'b']],
  [{ Cmd: ['sh'] }, 'ls', [], ['ls']],
  [{ Entrypoint: ['/e'], Cmd: ['default'] }, '', ['sh'], ['sh']],
  [{ Cmd: ['c'] }, 'two words', [], ['two words']],
];
for (const [config, entry, args, want] of entrypointCases) {
  test(`commandFor ${JSON.stringify(config)} --entrypoint ${JSON.stringify(entry)} ${JSON.stringify(args)}`, () => {
    assert.equal(commandFor(config, args, entry), want);
  });
}
test('commandFor --entrypoint "" and no args: no command specified', () => {
  assert.is(expectUsageError(() => commandFor({ Entrypoint: ['/e'], Cmd: ['c'] }, [], '')).message, 'no command specified');
});

test('commandFor does not alias the config arrays', () => {
  const config: ImageConfig = { Entrypoint: ['/e'], Cmd: ['c'] };
  const argv = commandFor(config, []);
  argv.push('extra');
  assert.equal(config, { Entrypoint: ['/e'], Cmd: ['c'] });
});

test.run();
