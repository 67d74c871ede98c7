import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pflagArgs, type FlagShape } from '../../src/cli/pflag.js';

const RUN: FlagShape[] = [
  { long: '--rm', takesValue: false },
  { short: '-d', long: '--detach', takesValue: false },
  { short: '-t', long: '--tty', takesValue: false },
  { short: '-p', long: '--publish', takesValue: true },
  { long: '--name', takesValue: true },
];

test('a boolean with =true is the flag, with =false it is left out (ParseBool\'s spellings)', () => {
  assert.equal(pflagArgs(['--rm=true', '-d=false', '--tty=0', '-t=T', 'img'], RUN), ['--rm', '-t', 'img']);
  for (const v of ['1', 't', 'TRUE', 'True']) assert.equal(pflagArgs([`--rm=${v}`], RUN), ['--rm']);
  for (const v of ['0', 'f', 'FALSE', 'False']) assert.equal(pflagArgs([`--rm=${v}`], RUN), []);
});

test('a short flag\'s value after = is its value; a long one commander reads as it is', () => {
  assert.equal(pflagArgs(['-p=8080:80', '--publish=1:2', '--name=x', 'img'], RUN), ['-p', '8080:80', '--publish=1:2', '--name=x', 'img']);
});

test('nothing after the first operand or -- is touched: it is the container\'s command', () => {
  assert.equal(pflagArgs(['--rm', 'img', 'sh', '-c', '--rm=false', '-d=true'], RUN), ['--rm', 'img', 'sh', '-c', '--rm=false', '-d=true']);
  assert.equal(pflagArgs(['--', '-d=false'], RUN), ['--', '-d=false']);
  // A value option's value is not the first operand, even when it looks like a flag.
  assert.equal(pflagArgs(['--name', '-d=false', '-d=true', 'img'], RUN), ['--name', '-d=false', '-d', 'img']);
});

test('unknown flags pass through for commander to refuse', () => {
  assert.equal(pflagArgs(['--bogus=1', 'img'], RUN), ['--bogus=1', 'img']);
});

test('a boolean value ParseBool refuses is docker\'s usage error', () => {
  assert.throws(() => pflagArgs(['--rm=yes'], RUN), /invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax/);
  assert.throws(() => pflagArgs(['-d=maybe'], RUN), /for "-d, --detach" flag/);
});

test('a flag that defaults on, defined as its negation: --sig-proxy and =true keep it, =false is --no-sig-proxy', () => {
  const ATTACH: FlagShape[] = [{ long: '--no-sig-proxy', takesValue: false }];
  assert.equal(pflagArgs(['--sig-proxy=false', 'web'], ATTACH), ['--no-sig-proxy', 'web']);
  assert.equal(pflagArgs(['--sig-proxy=true', 'web'], ATTACH), ['web']);
  assert.equal(pflagArgs(['--sig-proxy', 'web'], ATTACH), ['web']);
  assert.equal(pflagArgs(['--no-sig-proxy', 'web'], ATTACH), ['--no-sig-proxy', 'web']);
  assert.throws(() => pflagArgs(['--sig-proxy=maybe'], ATTACH), /invalid argument "maybe" for "--sig-proxy" flag/);
});

test.run();
