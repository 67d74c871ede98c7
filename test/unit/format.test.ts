// Unit tests for src/runtime/format.ts: docker CLI durations, sizes, ps columns, table layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  charWidth,
  commandText,
  createdText,
  ellipsis,
  formatG,
  goQuote,
  humanDuration,
  humanSize,
  renderTable,
  statusText,
} from '../../src/runtime/format.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const W = 7 * D;
const MO = 30 * D;
const Y = 365 * D;

// go-units' own expectations (duration_test.go), plus the boundaries between units.
const durations: Array<[number, string]> = [
  [-5 * S, 'Less than a second'],
  [0, 'Less than a second'],
  [450, 'Less than a second'],
  [999, 'Less than a second'],
  [1 * S, '1 second'],
  [1999, '1 second'],
  [2 * S, '2 seconds'],
  [45 * S, '45 seconds'],
  [47 * S, '47 seconds'],
  [59 * S + 999, '59 seconds'],
  [60 * S, 'About a minute'],
  [119 * S, 'About a minute'],
  [2 * M, '2 minutes'],
  [3 * M, '3 minutes'],
  [35 * M + 40 * S, '35 minutes'],
  [59 * M + 59 * S, '59 minutes'],
  [1 * H, 'About an hour'],
  [1 * H + 29 * M, 'About an hour'],
  [1 * H + 30 * M - 1, 'About an hour'],
  [1 * H + 30 * M, '2 hours'],
  [1 * H + 31 * M, '2 hours'],
  [3 * H + 29 * M, '3 hours'],
  [3 * H + 31 * M, '4 hours'],
  [3 * H + 60 * M, '4 hours'],
  [24 * H, '24 hours'],
  [1 * D + 12 * H, '36 hours'],
  [47 * H + 29 * M, '47 hours'],
  [47 * H + 30 * M, '2 days'],
  [2 * D, '2 days'],
  [7 * D, '7 days'],
  [13 * D + 5 * H, '13 days'],
  [14 * D - 31 * M, '13 days'],
  [2 * W, '2 weeks'],
  [2 * W + 4 * D, '2 weeks'],
  [3 * W, '3 weeks'],
  [4 * W + 3 * D, '4 weeks'],
  [1 * MO, '4 weeks'],
  [1 * MO + 2 * W, '6 weeks'],
  [2 * MO - 31 * M, '8 weeks'],
  [2 * MO, '2 months'],
  [3 * MO + 1 * W, '3 months'],
  [5 * MO + 2 * W, '5 months'],
  [13 * MO, '13 months'],
  [24 * MO, '24 months'],
  [2 * Y - 31 * M, '24 months'],
  [24 * MO + 2 * W, '2 years'],
  [2 * Y, '2 years'],
  [3 * Y + 2 * MO, '3 years'],
  [3 * Y - 1, '2 years'],
];
for (const [ms, want] of durations) {
  test(`humanDuration(${ms}) → ${want}`, () => {
    assert.is(humanDuration(ms), want);
  });
}

test('createdText', () => {
  const now = 1_700_000_000_000;
  assert.is(createdText(now - 3 * M, now), '3 minutes ago');
  assert.is(createdText(now, now), 'Less than a second ago');
  assert.is(createdText(now - 2 * D, now), '2 days ago');
  // docker's API keeps whole seconds of the creation time: created at x.500 counts from x.000.
  assert.is(createdText(now - 1500, now), '2 seconds ago');
  assert.is(createdText(now + 999, now + 1000), '1 second ago');
});

test('statusText: every state', () => {
  const now = 1_700_000_000_000;
  assert.is(statusText({ status: 'created' }, now), 'Created');
  assert.is(statusText({ status: 'running', startedAt: now - 3 * M }, now), 'Up 3 minutes');
  assert.is(statusText({ status: 'running', startedAt: now - 200 }, now), 'Up Less than a second');
  assert.is(statusText({ status: 'running', startedAt: now - 1 * H }, now), 'Up About an hour');
  assert.is(statusText({ status: 'running' }, now), 'Up');
  assert.is(statusText({ status: 'exited', exitCode: 0, finishedAt: now - 5 * S }, now), 'Exited (0) 5 seconds ago');
  assert.is(statusText({ status: 'exited', exitCode: 137, finishedAt: now - 2 * H }, now), 'Exited (137) 2 hours ago');
  assert.is(statusText({ status: 'exited', exitCode: 1, startedAt: now - D, finishedAt: now - M }, now), 'Exited (1) About a minute ago');
  assert.is(statusText({ status: 'exited', exitCode: 2 }, now), 'Exited (2)');
  assert.is(statusText({ status: 'exited', finishedAt: now }, now), 'Exited (0) Less than a second ago');
  assert.is(statusText({ status: 'dead', exitCode: 1, finishedAt: now }, now), 'Dead');
  assert.is(statusText({ status: 'broken' }, now), 'Broken');
});

const commands: Array<[string[], string]> = [
  [['python3', '-m', 'http.server', '8000'], '"python3 -m http.ser…"'],
  [['sh'], '"sh"'],
  [['/bin/sh', '-c', 'echo hi'], `"/bin/sh -c 'echo hi'"`],
  [['sh', '-c', 'echo hi there; sleep 100'], `"sh -c 'echo hi ther…"`],
  [['12345678901234567890'], '"12345678901234567890"'],
  [['123456789012345678901'], '"1234567890123456789…"'],
  [['echo', 'a"b'], '"echo a\\"b"'],
  [['echo', 'back\\slash'], '"echo back\\\\slash"'],
  [['printf', 'a\tb\n'], '"printf a\\tb\\n"'],
  [['echo', '\x1b[0m\x00\x7f'], '"echo \\x1b[0m\\x00\\x7f"'],
  [['echo', 'caf\u00e9'], '"echo café"'],
  [['echo', 'nb\u00a0sp'], '"echo nb\\u00a0sp"'],
  [['/bin/echo', '日本語の長いコマンドです', 'x'], '"/bin/echo 日本語の…"'],
  [['/bin/echo', '日本語 長い'], `"/bin/echo '日本語 …"`], // 長 would end at column 20
  [['echo', '日本語'], '"echo 日本語"'],
  [['echo', 'ééééééééééééééééé'], '"echo éééééééééééééé…"'],
  [[], '""'],
  [['sh', ''], '"sh "'],
];
for (const [argv, want] of commands) {
  test(`commandText ${JSON.stringify(argv)}`, () => {
    assert.is(commandText(argv), want);
  });
}

test('commandText: the no-trunc form', () => {
  assert.is(commandText(['python3', '-m', 'http.server', '8000'], true), '"python3 -m http.server 8000"');
  assert.is(commandText(['sh', '-c', 'a b'], true), `"sh -c 'a b'"`);
});

test('commandText: a 20-column result with a wide character never exceeds 20 columns', () => {
  const out = commandText(['echo', 'abcdefghijkl日本']); // 5 + 12 + 4 = 21 columns
  assert.is(out, '"echo abcdefghijkl日…"');
  assert.is(commandText(['echo', 'abcdefghijklm日本']), '"echo abcdefghijklm…"');
  const inner = [...out.slice(1, -1)];
  const cols = inner.reduce((n, ch) => n + charWidth(ch.codePointAt(0) as number), 0);
  assert.ok(cols <= 20, `${cols} columns`);
});

test('ellipsis edge cases', () => {
  assert.is(ellipsis('abc', 0), '');
  assert.is(ellipsis('abc', -1), '');
  assert.is(ellipsis('abc', 1), 'a');
  assert.is(ellipsis('abc', 2), 'a…');
  assert.is(ellipsis('abc', 3), 'abc');
  // 4 columns > 2, but not even one character fits before the ellipsis: docker returns it whole.
  assert.is(ellipsis('日本', 2), '日本');
  assert.is(ellipsis('日本語', 4), '日…');
  assert.is(ellipsis('', 5), '');
});

test('charWidth', () => {
  assert.is(charWidth('a'.codePointAt(0) as number), 1);
  assert.is(charWidth('é'.codePointAt(0) as number), 1);
  assert.is(charWidth('日'.codePointAt(0) as number), 2);
  assert.is(charWidth('한'.codePointAt(0) as number), 2);
  assert.is(charWidth('Ａ'.codePointAt(0) as number), 2);
  assert.is(charWidth('😀'.codePointAt(0) as number), 2);
  assert.is(charWidth('…'.codePointAt(0) as number), 1);
});

test('goQuote', () => {
  assert.is(goQuote(''), '""');
  assert.is(goQuote('plain text'), '"plain text"');
  assert.is(goQuote('\x07\b\f\n\r\t\v'), '"\\a\\b\\f\\n\\r\\t\\v"');
  assert.is(goQuote('\u200b'), '"\\u200b"');
  assert.is(goQuote('\u{e0001}'), '"\\U000e0001"');
  assert.is(goQuote('😀…'), '"😀…"');
  assert.is(goQuote('\ud800'), '"\ufffd"');
});

// go-units HumanSize (precision 4) expectations, reproduced through formatG, then docker's 3.
test('formatG matches Go %.4g on go-units examples', () => {
  assert.is(formatG(1, 4), '1');
  assert.is(formatG(1.024, 4), '1.024');
  assert.is(formatG(1.048576, 4), '1.049');
  assert.is(formatG(3.42, 4), '3.42');
  assert.is(formatG(5.372, 4), '5.372');
  assert.is(formatG(10000, 4), '1e+04');
});

const gCases: Array<[number, string]> = [
  [0, '0'],
  [1, '1'],
  [100, '100'],
  [999, '999'],
  [999.4, '999'],
  [999.5, '1e+03'],
  [12.34, '12.3'],
  [1.005, '1'], // the double is just under 1.005
  [1.125, '1.12'], // exact tie rounds to even
  [1.375, '1.38'],
  [0.5, '0.5'],
  [0.0001234, '0.000123'],
  [0.00001234, '1.23e-05'],
  [123456, '1.23e+05'],
  [-2.5, '-2.5'],
  [5e-324, '4.94e-324'],
];
for (const [x, want] of gCases) {
  test(`formatG(${x}, 3) → ${want}`, () => {
    assert.is(formatG(x, 3), want);
  });
}

const sizes: Array<[number, string]> = [
  [0, '0B'],
  [1, '1B'],
  [999, '999B'],
  [1000, '1kB'],
  [1024, '1.02kB'],
  [1125, '1.12kB'],
  [512000, '512kB'],
  [999_499, '999kB'],
  [999_999, '1e+03kB'],
  [1_000_000, '1MB'],
  [1_048_576, '1.05MB'],
  [7_812_345, '7.81MB'],
  [77_800_000, '77.8MB'],
  [1_200_000_000, '1.2GB'],
  [3.42e9, '3.42GB'],
  [5.372e12, '5.37TB'],
  [2.22e15, '2.22PB'],
  [1e28, '1e+04YB'],
];
for (const [bytes, want] of sizes) {
  test(`humanSize(${bytes}) → ${want}`, () => {
    assert.is(humanSize(bytes), want);
  });
}

test('renderTable: docker ps layout (min width 10, padding 3, last column unpadded)', () => {
  const out = renderTable(
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    [
      ['4f1c2d3e4b5a', 'alpine', '"sh"', '3 minutes ago', 'Up 3 minutes', '', 'focused_turing'],
      ['0a1b2c3d4e5f', 'python:3.12', '"python3 -m http.ser…"', '2 hours ago', 'Exited (0) 5 seconds ago', '', 'web'],
    ],
  );
  const want =
    'CONTAINER ID   IMAGE         COMMAND                  CREATED         STATUS                     PORTS     NAMES\n' +
    '4f1c2d3e4b5a   alpine        "sh"                     3 minutes ago   Up 3 minutes                         focused_turing\n' +
    '0a1b2c3d4e5f   python:3.12   "python3 -m http.ser…"   2 hours ago     Exited (0) 5 seconds ago             web\n';
  assert.is(out, want);
});

test('renderTable: header only', () => {
  assert.is(renderTable(['REPOSITORY', 'TAG', 'IMAGE ID'], []), 'REPOSITORY   TAG       IMAGE ID\n');
});

test('renderTable: a single column is never padded', () => {
  assert.is(renderTable(['NAME'], [['a'], ['longer']]), 'NAME\na\nlonger\n');
});

test('renderTable: widths count characters, and short rows get empty cells', () => {
  assert.is(renderTable(['A', 'B', 'C'], [['日本語', 'x'], ['é', 'y', 'z']]), 'A         B         C\n日本語       x         \né         y         z\n');
});

test('renderTable: a cell exactly at min width minus padding', () => {
  assert.is(renderTable(['1234567', 'B'], [['x', 'y']]), '1234567   B\nx         y\n');
  assert.is(renderTable(['12345678', 'B'], [['x', 'y']]), '12345678   B\nx          y\n');
});

test.run();
