// Unit tests for src/spec/name.ts: docker's container-name rule, generated names, id helpers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageMessage } from '../helpers/usage-error.js';
import {
  ID_RE,
  NAME_MAX,
  NAME_RE,
  NAME_WORDS,
  generateName,
  isFullId,
  shortId,
  validateContainerName,
} from '../../src/spec/name.js';


const HEX64 = 'a'.repeat(32) + '0123456789abcdef0123456789abcdef';

const goodNames: Array<[string, string]> = [
  ['web', 'web'],
  ['ab', 'ab'],
  ['/web', 'web'],
  ['My_App.v2-final', 'My_App.v2-final'],
  ['0x', '0x'],
  ['a..b', 'a..b'],
  ['a--', 'a--'],
  ['x'.repeat(NAME_MAX), 'x'.repeat(NAME_MAX)],
  ['/' + 'y'.repeat(NAME_MAX), 'y'.repeat(NAME_MAX)],
  // Near-ids are fine: only an exact 64-lowercase-hex string could be mistaken for an id.
  [HEX64.slice(0, 63), HEX64.slice(0, 63)],
  [HEX64.toUpperCase(), HEX64.toUpperCase()],
  [HEX64 + '0', HEX64 + '0'],
];

for (const [input, want] of goodNames) {
  test(`validateContainerName accepts ${JSON.stringify(input.slice(0, 40))}`, () => {
    assert.is(validateContainerName(input), want);
  });
}

const RULE = '[a-zA-Z0-9][a-zA-Z0-9_.-]+';
const badNames = ['', 'a', '/', '/a', '//ab', '_web', '.web', '-web', 'we b', 'web/x', 'wéb', 'web!', 'a:b', 'ab\n', '\tab'];
for (const name of badNames) {
  test(`validateContainerName rejects ${JSON.stringify(name)}`, () => {
    assert.is(
      usageMessage(() => validateContainerName(name)),
      `invalid container name ${JSON.stringify(name)}: must match ${RULE}`,
    );
  });
}

test('validateContainerName rejects names over 128 characters', () => {
  const long = 'x'.repeat(NAME_MAX + 1);
  assert.is(
    usageMessage(() => validateContainerName(long)),
    `invalid container name "${long}": name too long (max 128)`,
  );
  assert.throws(() => validateContainerName('/' + long), /name too long/);
});

test('validateContainerName rejects a full id', () => {
  assert.is(
    usageMessage(() => validateContainerName(HEX64)),
    `invalid container name "${HEX64}": must match ${RULE} and not be a 64-character hex id`,
  );
  assert.throws(() => validateContainerName('/' + HEX64), /64-character hex id/);
});

test('isFullId / ID_RE', () => {
  assert.ok(isFullId(HEX64));
  assert.ok(ID_RE.test('0'.repeat(64)));
  assert.not.ok(isFullId(HEX64.slice(1)));
  assert.not.ok(isFullId(HEX64 + 'a'));
  assert.not.ok(isFullId(HEX64.toUpperCase()));
  assert.not.ok(isFullId(HEX64.slice(0, 63) + 'g'));
  assert.not.ok(isFullId(''));
  assert.not.ok(isFullId(` ${HEX64.slice(1)}`));
});

test('shortId is the first 12 characters', () => {
  assert.is(shortId(HEX64), 'aaaaaaaaaaaa');
  assert.is(shortId('0123456789abcdef'), '0123456789ab');
  assert.is(shortId('abc'), 'abc');
});

test('generateName is adjective_surname and deterministic for a given source', () => {
  const seq = [0, 0];
  let i = 0;
  const src = () => seq[i++] as number;
  const name = generateName(src);
  assert.is(name, `${NAME_WORDS.adjectives[0]}_${NAME_WORDS.surnames[0]}`);
  assert.match(name, /^[a-z]+_[a-z]+$/);
});

test('generateName picks by position in each list', () => {
  const values = [0.5, 0.999999];
  let i = 0;
  const name = generateName(() => values[i++] as number);
  const adj = NAME_WORDS.adjectives[Math.floor(0.5 * NAME_WORDS.adjectives.length)];
  const sur = NAME_WORDS.surnames[NAME_WORDS.surnames.length - 1];
  assert.is(name, `${adj}_${sur}`);
});

test('generateName survives a source returning 1 or a negative', () => {
  assert.is(
    generateName(() => 1),
    `${NAME_WORDS.adjectives[NAME_WORDS.adjectives.length - 1]}_${NAME_WORDS.surnames[NAME_WORDS.surnames.length - 1]}`,
  );
  assert.is(generateName(() => -0.5), `${NAME_WORDS.adjectives[0]}_${NAME_WORDS.surnames[0]}`);
});

test('generateName defaults to Math.random and yields valid names', () => {
  for (let k = 0; k < 200; k++) {
    const name = generateName();
    assert.is(validateContainerName(name), name);
  }
});

test('word lists: sizes, no duplicates, every combination valid', () => {
  const { adjectives, surnames } = NAME_WORDS;
  assert.ok(adjectives.length >= 40, `only ${adjectives.length} adjectives`);
  assert.ok(surnames.length >= 60, `only ${surnames.length} surnames`);
  assert.is(new Set(adjectives).size, adjectives.length);
  assert.is(new Set(surnames).size, surnames.length);
  for (const a of adjectives) {
    for (const s of surnames) {
      const n = `${a}_${s}`;
      assert.ok(NAME_RE.test(n) && n.length <= NAME_MAX, n);
    }
  }
});

test.run();
