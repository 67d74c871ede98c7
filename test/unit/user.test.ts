// Unit tests for src/spec/user.ts: -u parsing and runc-style resolution against passwd/group.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageMessage } from '../helpers/usage-error.js';
import { MAX_ID, parseGroup, parseId, parsePasswd, parseUserSpec, resolveUser } from '../../src/spec/user.js';


const goodSpecs: Array<[string, { user: string; group?: string }]> = [
  ['root', { user: 'root' }],
  ['0', { user: '0' }],
  ['1000', { user: '1000' }],
  ['www-data', { user: 'www-data' }],
  ['_apt', { user: '_apt' }],
  ['first.last', { user: 'first.last' }],
  ['machine$', { user: 'machine$' }],
  ['root:root', { user: 'root', group: 'root' }],
  ['1000:1000', { user: '1000', group: '1000' }],
  ['1000:staff', { user: '1000', group: 'staff' }],
  ['nobody:65534', { user: 'nobody', group: '65534' }],
  ['007', { user: '007' }],
  // Not decimal, so names (runc's Atoi fails on them too), never ids 16 and 1000.
  ['0x10', { user: '0x10' }],
  ['1e3', { user: '1e3' }],
  [String(MAX_ID), { user: '4294967294' }],
  [`0:${MAX_ID}`, { user: '0', group: '4294967294' }],
];
for (const [spec, want] of goodSpecs) {
  test(`parseUserSpec ${JSON.stringify(spec)}`, () => {
    assert.equal(parseUserSpec(spec), want);
  });
}

const badSpecs = [
  '',
  ':',
  'root:',
  ':0',
  ':root',
  '-1',
  '+1',
  '-root',
  '0:abc!',
  'a b',
  ' root',
  'root ',
  '1 000',
  '4294967295',
  '99999999999999999999',
  '0:4294967295',
  'a:b:c',
  'root::',
  'ro$ot',
  'us/er',
  'user\0',
  'x'.repeat(257),
];
for (const spec of badSpecs) {
  test(`parseUserSpec rejects ${JSON.stringify(spec)}`, () => {
    assert.is(usageMessage(() => parseUserSpec(spec)), `invalid user spec ${JSON.stringify(spec)}`);
  });
}

test('parseId', () => {
  assert.is(parseId('0'), 0);
  assert.is(parseId('0042'), 42);
  assert.is(parseId('4294967294'), 4294967294);
  assert.is(parseId('4294967295'), null);
  assert.is(parseId('-1'), null);
  assert.is(parseId(''), null);
  assert.is(parseId('1.5'), null);
  assert.is(parseId(' 1'), null);
});

const PASSWD = `# passwd with junk
root:x:0:0:root:/root:/bin/ash

daemon:x:2:2:daemon:/sbin:/sbin/nologin
broken line without colons
bad:x:notanumber:1:bad:/bad:/bin/sh
nobody:x:65534:65534:nobody:/:/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
bob:x:1001:100::/home/bob:/bin/sh
nohome:x:1002:1002:::
alice:x:2000:2000:second alice:/elsewhere:/bin/sh
   # indented comment
dup:x:1000:5:same uid as alice:/dup:/bin/sh
`;

const GROUP = `root:x:0:root
daemon:x:2:root,daemon
wheel:x:10:root,alice
users:x:100:
staff:x:50:alice, bob
bad:x:zzz:alice
# comment:x:1:alice
audio:x:29:bob
alice:x:1000:
`;

test('parsePasswd skips comments, blanks and malformed lines', () => {
  const entries = parsePasswd(PASSWD);
  assert.equal(
    entries.map((e) => e.name),
    ['root', 'daemon', 'nobody', 'alice', 'bob', 'nohome', 'alice', 'dup'],
  );
  assert.equal(entries[0], { name: 'root', uid: 0, gid: 0, gecos: 'root', home: '/root', shell: '/bin/ash' });
  assert.equal(entries[5], { name: 'nohome', uid: 1002, gid: 1002, gecos: '', home: '', shell: '' });
});

test('parsePasswd tolerates CRLF and short lines', () => {
  assert.equal(parsePasswd('a:x:1:2\r\nb:x:3\r\n'), [
    { name: 'a', uid: 1, gid: 2, gecos: '', home: '', shell: '' },
  ]);
  assert.equal(parsePasswd(''), []);
});

test('parseGroup skips malformed lines and trims member lists', () => {
  assert.equal(parseGroup(GROUP), [
    { name: 'root', gid: 0, members: ['root'] },
    { name: 'daemon', gid: 2, members: ['root', 'daemon'] },
    { name: 'wheel', gid: 10, members: ['root', 'alice'] },
    { name: 'users', gid: 100, members: [] },
    { name: 'staff', gid: 50, members: ['alice', 'bob'] },
    { name: 'audio', gid: 29, members: ['bob'] },
    { name: 'alice', gid: 1000, members: [] },
  ]);
});

type R = ReturnType<typeof resolveUser>;
const resolveCases: Array<[string, { user: string; group?: string }, string | null, string | null, R]> = [
  ['default root', { user: '0' }, PASSWD, GROUP, { uid: 0, gid: 0, additionalGids: [0, 2, 10], home: '/root' }],
  ['root by name', { user: 'root' }, PASSWD, GROUP, { uid: 0, gid: 0, additionalGids: [0, 2, 10], home: '/root' }],
  ['root, no files', { user: '0' }, null, null, { uid: 0, gid: 0, additionalGids: [0], home: '/root' }],
  ['root, empty passwd', { user: '0' }, '', '', { uid: 0, gid: 0, additionalGids: [0], home: '/root' }],
  ['name: first match wins', { user: 'alice' }, PASSWD, GROUP, { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/alice' }],
  ['uid: first match by uid', { user: '1000' }, PASSWD, GROUP, { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/alice' }],
  ['uid 2000 is the second alice', { user: '2000' }, PASSWD, GROUP, { uid: 2000, gid: 2000, additionalGids: [2000, 10, 50], home: '/elsewhere' }],
  ['bob: primary gid from passwd', { user: 'bob' }, PASSWD, GROUP, { uid: 1001, gid: 100, additionalGids: [100, 50, 29], home: '/home/bob' }],
  ['uid without entry', { user: '4242' }, PASSWD, GROUP, { uid: 4242, gid: 0, additionalGids: [0], home: '/' }],
  ['uid without entry, gid given', { user: '4242', group: '4343' }, PASSWD, GROUP, { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' }],
  ['uid without entry, group name', { user: '4242', group: 'staff' }, PASSWD, GROUP, { uid: 4242, gid: 50, additionalGids: [50], home: '/' }],
  ['explicit group disables supplementary', { user: 'alice', group: 'audio' }, PASSWD, GROUP, { uid: 1000, gid: 29, additionalGids: [29], home: '/home/alice' }],
  ['explicit numeric gid in group file', { user: 'alice', group: '10' }, PASSWD, GROUP, { uid: 1000, gid: 10, additionalGids: [10], home: '/home/alice' }],
  ['explicit numeric gid not in group file', { user: 'alice', group: '777' }, PASSWD, GROUP, { uid: 1000, gid: 777, additionalGids: [777], home: '/home/alice' }],
  ['numeric gid, no group file', { user: '5', group: '6' }, null, null, { uid: 5, gid: 6, additionalGids: [6], home: '/' }],
  ['empty home becomes /', { user: 'nohome' }, PASSWD, GROUP, { uid: 1002, gid: 1002, additionalGids: [1002], home: '/' }],
  ['user found, no group file', { user: 'alice' }, PASSWD, null, { uid: 1000, gid: 1000, additionalGids: [1000], home: '/home/alice' }],
  ['max id', { user: String(MAX_ID) }, null, null, { uid: MAX_ID, gid: 0, additionalGids: [0], home: '/' }],
];
for (const [title, spec, passwd, group, want] of resolveCases) {
  test(`resolveUser: ${title}`, () => {
    assert.equal(resolveUser(spec, passwd, group), want);
  });
}

test('resolveUser: unknown name', () => {
  assert.is(
    usageMessage(() => resolveUser({ user: 'carol' }, PASSWD, GROUP)),
    'unable to find user carol: no matching entries in passwd file',
  );
});

test('resolveUser: a name needs a passwd file', () => {
  assert.is(
    usageMessage(() => resolveUser({ user: 'root' }, null, null)),
    'unable to find user root: no matching entries in passwd file',
  );
});

test('resolveUser: unknown group name', () => {
  assert.is(
    usageMessage(() => resolveUser({ user: 'alice', group: 'video' }, PASSWD, GROUP)),
    'unable to find group video: no matching entries in group file',
  );
  assert.is(
    usageMessage(() => resolveUser({ user: '0', group: 'wheel' }, PASSWD, null)),
    'unable to find group wheel: no matching entries in group file',
  );
});

test('resolveUser: commented-out entries are not matched', () => {
  assert.is(
    usageMessage(() => resolveUser({ user: '0', group: 'comment' }, PASSWD, GROUP)),
    'unable to find group comment: no matching entries in group file',
  );
});

test('resolveUser: names are case-sensitive', () => {
  assert.throws(() => resolveUser({ user: 'Alice' }, PASSWD, GROUP), /unable to find user Alice/);
});

test.run();
