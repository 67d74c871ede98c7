// Unit tests for src/spec/ports.ts: -p parsing, -P expansion and the docker ps PORTS column.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectUsageError, usageMessage } from '../helpers/usage-error.js';
import {
  MAX_PORT_MAPPINGS,
  exposedPortKeys,
  exposedToBindings,
  formatPorts,
  parseExpose,
  withExposed,
  parsePublish,
  parsePublishList,
  type PortBinding,
  type Proto,
} from '../../src/spec/ports.js';

const ANY = '0.0.0.0';
const b = (hostIp: string, hostPort: number, containerPort: number, proto: Proto = 'tcp', given = hostIp !== ANY): PortBinding => ({
  hostIp,
  hostPort,
  containerPort,
  proto,
  ...(given ? { ipGiven: true as const } : {}),
});

// ---------------------------------------------------------------- parsePublish: accepted forms

const good: Array<[string, PortBinding[]]> = [
  ['8080:80', [b(ANY, 8080, 80)]],
  ['127.0.0.1:8080:80', [b('127.0.0.1', 8080, 80)]],
  ['0.0.0.0:8080:80', [b(ANY, 8080, 80, 'tcp', true)]],
  ['8080:80/udp', [b(ANY, 8080, 80, 'udp')]],
  ['8080:80/tcp', [b(ANY, 8080, 80, 'tcp')]],
  ['80', [b(ANY, 0, 80)]],
  ['80/udp', [b(ANY, 0, 80, 'udp')]],
  ['127.0.0.1::80', [b('127.0.0.1', 0, 80)]],
  ['10.1.2.3::53/udp', [b('10.1.2.3', 0, 53, 'udp')]],
  [':80', [b(ANY, 0, 80)]],
  ['::80', [b(ANY, 0, 80)]],
  [':8080:80', [b(ANY, 8080, 80)]],
  ['[127.0.0.1]:8080:80', [b('127.0.0.1', 8080, 80)]],
  ['80/TCP', [b(ANY, 0, 80, 'tcp')]],
  ['8080:80/Udp', [b(ANY, 8080, 80, 'udp')]],
  ['1:1', [b(ANY, 1, 1)]],
  ['65535:65535', [b(ANY, 65535, 65535)]],
  ['255.255.255.255:1:2', [b('255.255.255.255', 1, 2)]],
  ['8000-8000:80-80', [b(ANY, 8000, 80)]],
  ['8000-8002:8000-8002', [b(ANY, 8000, 8000), b(ANY, 8001, 8001), b(ANY, 8002, 8002)]],
  ['9000-9001:80-81', [b(ANY, 9000, 80), b(ANY, 9001, 81)]],
  ['8000-8002', [b(ANY, 0, 8000), b(ANY, 0, 8001), b(ANY, 0, 8002)]],
  ['127.0.0.1:8000-8001:80-81/udp', [b('127.0.0.1', 8000, 80, 'udp'), b('127.0.0.1', 8001, 81, 'udp')]],
  ['127.0.0.1::80-81', [b('127.0.0.1', 0, 80), b('127.0.0.1', 0, 81)]],
];
for (const [spec, want] of good) {
  test(`parsePublish ${JSON.stringify(spec)}`, () => {
    assert.equal(parsePublish(spec), want);
  });
}

test('parsePublish: a range of exactly MAX_PORT_MAPPINGS is accepted', () => {
  const got = parsePublish(`10001-${10000 + MAX_PORT_MAPPINGS}:1-${MAX_PORT_MAPPINGS}/udp`);
  assert.is(got.length, MAX_PORT_MAPPINGS);
  assert.equal(got[0], b(ANY, 10001, 1, 'udp'));
  assert.equal(got[MAX_PORT_MAPPINGS - 1], b(ANY, 11000, 1000, 'udp'));
});

// ---------------------------------------------------------------- parsePublish: rejections
// [spec, leading words the brief fixes, rest of the message]

const PORT = 'invalid port ';
const RANGE = 'port out of range 1-65535';
const PROTO = 'invalid protocol ';
const IPV6 = 'IPv6 port bindings are not supported';
const SPEC = 'invalid port spec ';
const bad: Array<[string, string, string]> = [
  ['abc:80', PORT, '"abc" in "abc:80"'],
  ['80:abc', PORT, '"abc" in "80:abc"'],
  ['1asdf:80', PORT, '"1asdf" in "1asdf:80"'],
  ['08080:80', PORT, '"08080" in "08080:80"'],
  ['80:080', PORT, '"080" in "80:080"'],
  ['0x50:80', PORT, '"0x50" in "0x50:80"'],
  ['+80:80', PORT, '"+80" in "+80:80"'],
  ['1e3:80', PORT, '"1e3" in "1e3:80"'],
  [' 80:80', PORT, '" 80" in " 80:80"'],
  ['80 ', PORT, '"80 "'],
  ['8080:', PORT, '"" in "8080:"'],
  ['/tcp', PORT, '"" in "/tcp"'],
  ['127.0.0.1:8080:', PORT, '"" in "127.0.0.1:8080:"'],
  ['-1:80', PORT, '"-1" in "-1:80"'],
  ['8000-:80', PORT, '"8000-" in "8000-:80"'],
  ['1-2-3:80', PORT, '"1-2-3" in "1-2-3:80"'],
  ['80:80.5', PORT, '"80.5" in "80:80.5"'],
  ['65536:80', RANGE, ': 65536 in "65536:80"'],
  ['80:0', RANGE, ': 0 in "80:0"'],
  ['80:65536', RANGE, ': 65536 in "80:65536"'],
  ['0:80', RANGE, ': 0 in "0:80"'],
  ['0', RANGE, ': 0'],
  ['99999999999999999999:80', RANGE, ': 99999999999999999999 in "99999999999999999999:80"'],
  ['0-5:0-5', RANGE, ': 0 in "0-5:0-5"'],
  ['65530-65536', RANGE, ': 65536'],
  ['/sctpx', PROTO, '"sctpx" (tcp or udp) in "/sctpx"'],
  ['80/sctpx', PROTO, '"sctpx" (tcp or udp) in "80/sctpx"'],
  ['/', PROTO, '"" (tcp or udp) in "/"'],
  ['80/', PROTO, '"" (tcp or udp) in "80/"'],
  ['80/sctp', PROTO, '"sctp" (tcp or udp) in "80/sctp"'],
  ['80/tcp/udp', PROTO, '"tcp/udp" (tcp or udp) in "80/tcp/udp"'],
  ['8000-8002:80-81', 'port ranges differ in size', ': 8000-8002 (3 ports) and 80-81 (2 ports) in "8000-8002:80-81"'],
  ['80-81:8000-8002', 'port ranges differ in size', ': 80-81 (2 ports) and 8000-8002 (3 ports) in "80-81:8000-8002"'],
  ['9000-8000:80', 'invalid range ', '"9000-8000" in "9000-8000:80"'],
  ['80:90-81', 'invalid range ', '"90-81" in "80:90-81"'],
  ['9000-8000', 'invalid range ', '"9000-8000"'],
  ['localhost:8080:80', 'host IP must be a literal IP address', ', not "localhost" in "localhost:8080:80"'],
  ['myhost:8080:80', 'host IP must be a literal IP address', ', not "myhost" in "myhost:8080:80"'],
  ['1.2.3.a:8080:80', 'host IP must be a literal IP address', ', not "1.2.3.a" in "1.2.3.a:8080:80"'],
  ['300.1.1.1:8080:80', 'invalid host IP ', '"300.1.1.1" in "300.1.1.1:8080:80"'],
  ['1.2.3:8080:80', 'invalid host IP ', '"1.2.3" in "1.2.3:8080:80"'],
  ['01.2.3.4:8080:80', 'invalid host IP ', '"01.2.3.4" in "01.2.3.4:8080:80"'],
  ['1.2.3.4.5:8080:80', 'invalid host IP ', '"1.2.3.4.5" in "1.2.3.4.5:8080:80"'],
  ['1.2.3.4 :8080:80', 'invalid host IP ', '"1.2.3.4 " in "1.2.3.4 :8080:80"'],
  ['[abc]:8080:80', 'invalid host IP ', '"[abc]" in "[abc]:8080:80"'],
  ['[::1]:8080:80', IPV6, ' in "[::1]:8080:80"'],
  ['[::]:80:80', IPV6, ' in "[::]:80:80"'],
  ['[::1]::80', IPV6, ' in "[::1]::80"'],
  ['[fe80::1%eth0]:80:80', IPV6, ' in "[fe80::1%eth0]:80:80"'],
  ['::1:8080:80', IPV6, ' in "::1:8080:80"'],
  ['::::80', IPV6, ' in "::::80"'],
  ['2001:db8::68::333', IPV6, ' in "2001:db8::68::333"'],
  ['::ffff:1.2.3.4:80:80', IPV6, ' in "::ffff:1.2.3.4:80:80"'],
  ['1:2:3:4:5:6:7:8:80:80', IPV6, ' in "1:2:3:4:5:6:7:8:80:80"'],
  ['8080:80,8081:81', SPEC, '"8080:80,8081:81"'],
  ['80,81', SPEC, '"80,81"'],
  ['1:2:3:4', SPEC, '"1:2:3:4"'],
  ['1.2.3.4:1:2:3', SPEC, '"1.2.3.4:1:2:3"'],
  ['1:2:3:4:5:6:7:80:80', SPEC, '"1:2:3:4:5:6:7:80:80"'],
  ['', SPEC, '""'],
  ['[1.2.3.4]8080:80', SPEC, '"[1.2.3.4]8080:80"'],
  ['[1.2.3.4:8080:80', SPEC, '"[1.2.3.4:8080:80"'],
  ['[1.2.3.4]:80', SPEC, '"[1.2.3.4]:80"'],
  ['1-65535:1-65535', 'too many port mappings (max 1000)', ' in "1-65535:1-65535"'],
  ['1-1001', 'too many port mappings (max 1000)', ' in "1-1001"'],
];
for (const [spec, lead, rest] of bad) {
  test(`parsePublish rejects ${JSON.stringify(spec)}: ${lead.trim()}`, () => {
    const msg = usageMessage(() => parsePublish(spec));
    assert.ok(msg.startsWith(lead), `${JSON.stringify(msg)} should start with ${JSON.stringify(lead)}`);
    assert.is(msg, lead + rest);
  });
}

test('a host range for one container port is one binding over the range (docker picks a free one at run time)', () => {
  assert.equal(parsePublish('8000-8002:80/udp'), [{ hostIp: ANY, hostPort: 8000, hostPortEnd: 8002, containerPort: 80, proto: 'udp' }]);
  assert.equal(parsePublishList(['8000-8002:80', '8001:81']).length, 2, 'not claimed until run time: no duplicate error');
});

test('parsePublish hints: explicit host port 0', () => {
  assert.match(expectUsageError(() => parsePublish('0:80')).hint ?? '', /omit the host port.*-p 80/);
  assert.match(expectUsageError(() => parsePublish('localhost:80:80')).hint ?? '', /127\.0\.0\.1/);
  assert.match(expectUsageError(() => parsePublish('1:2,3')).hint ?? '', /one mapping per -p/);
  assert.match(expectUsageError(() => parsePublish('1-2000')).hint ?? '', /2000 mappings/);
  assert.is(expectUsageError(() => parsePublish('80:abc')).step, 'cli.args');
});

// ---------------------------------------------------------------- parsePublishList

const goodLists: Array<[string, string[], PortBinding[]]> = [
  ['empty', [], []],
  ['concatenated in order', ['8080:80', '53/udp'], [b(ANY, 8080, 80), b(ANY, 0, 53, 'udp')]],
  ['same container port to two host ports', ['8080:80', '8081:80'], [b(ANY, 8080, 80), b(ANY, 8081, 80)]],
  ['same host port, tcp and udp', ['53:53', '53:53/udp'], [b(ANY, 53, 53), b(ANY, 53, 53, 'udp')]],
  ['same host port, two distinct IPs', ['127.0.0.1:80:80', '10.0.0.1:80:81'], [b('127.0.0.1', 80, 80), b('10.0.0.1', 80, 81)]],
  ['random host ports never clash', ['80', '80', '127.0.0.1::80'], [b(ANY, 0, 80), b(ANY, 0, 80), b('127.0.0.1', 0, 80)]],
  ['ranges side by side', ['8000-8001:80-81', '8002:82'], [b(ANY, 8000, 80), b(ANY, 8001, 81), b(ANY, 8002, 82)]],
];
for (const [name, specs, want] of goodLists) {
  test(`parsePublishList: ${name}`, () => {
    assert.equal(parsePublishList(specs), want);
  });
}

const dupLists: Array<[string, string[], string]> = [
  ['the same spec twice', ['8080:80', '8080:80'], 'duplicate host port 8080/tcp: "8080:80" and "8080:80"'],
  ['two container ports on one host port', ['8080:80', '8080:81'], 'duplicate host port 8080/tcp: "8080:80" and "8080:81"'],
  ['wildcard then specific IP', ['8080:80', '127.0.0.1:8080:81'], 'duplicate host port 8080/tcp: "8080:80" and "127.0.0.1:8080:81"'],
  ['specific IP then wildcard', ['127.0.0.1:8080:81', '0.0.0.0:8080:80'], 'duplicate host port 8080/tcp: "127.0.0.1:8080:81" and "0.0.0.0:8080:80"'],
  ['same specific IP', ['10.0.0.1:53:53/udp', '10.0.0.1:53:54/udp'], 'duplicate host port 53/udp: "10.0.0.1:53:53/udp" and "10.0.0.1:53:54/udp"'],
  ['overlapping ranges', ['8000-8002:80-82', '8002-8003:90-91'], 'duplicate host port 8002/tcp: "8000-8002:80-82" and "8002-8003:90-91"'],
  ['after an unrelated binding', ['1:1', '127.0.0.1:2:2', '2:3'], 'duplicate host port 2/tcp: "127.0.0.1:2:2" and "2:3"'],
];
for (const [name, specs, want] of dupLists) {
  test(`parsePublishList rejects a duplicate: ${name}`, () => {
    const msg = usageMessage(() => parsePublishList(specs));
    assert.ok(msg.startsWith('duplicate host port '), msg);
    assert.is(msg, want);
  });
}

test('parsePublishList: the first bad spec in the list is reported', () => {
  assert.is(usageMessage(() => parsePublishList(['80', 'abc:80', '0:80'])), 'invalid port "abc" in "abc:80"');
});

test('parsePublishList: total count limited by MAX_PORT_MAPPINGS', () => {
  assert.is(parsePublishList(['1-600', '20001-20400:1001-1400']).length, MAX_PORT_MAPPINGS);
  const msg = usageMessage(() => parsePublishList(['1-600', '20001-20401:1001-1401']));
  assert.is(msg, 'too many port mappings (max 1000)');
  assert.is(usageMessage(() => parsePublishList(['1-1000', '5000'])), 'too many port mappings (max 1000)');
});

// ---------------------------------------------------------------- exposedToBindings (-P)

const exposed: Array<[string, Record<string, {}>, PortBinding[]]> = [
  ['none', {}, []],
  ['tcp and udp', { '80/tcp': {}, '53/udp': {} }, [b(ANY, 0, 53, 'udp'), b(ANY, 0, 80)]],
  ['no protocol means tcp', { '8080': {} }, [b(ANY, 0, 8080)]],
  ['protocol case ignored', { '80/TCP': {}, '81/Udp': {} }, [b(ANY, 0, 80), b(ANY, 0, 81, 'udp')]],
  ['range expands', { '8000-8002/tcp': {} }, [b(ANY, 0, 8000), b(ANY, 0, 8001), b(ANY, 0, 8002)]],
  ['duplicates removed', { '80': {}, '80/tcp': {}, '79-80/tcp': {} }, [b(ANY, 0, 79), b(ANY, 0, 80)]],
  ['same port, both protocols, tcp first', { '53/udp': {}, '53/tcp': {} }, [b(ANY, 0, 53), b(ANY, 0, 53, 'udp')]],
  ['sctp skipped', { '132/sctp': {}, '80/tcp': {} }, [b(ANY, 0, 80)]],
];
for (const [name, input, want] of exposed) {
  test(`exposedToBindings: ${name}`, () => {
    assert.equal(exposedToBindings(input), want);
  });
}

const badExposed = ['abc/tcp', '80/icmp', '0/tcp', '90-80/tcp', '', '80/'];
for (const key of badExposed) {
  test(`exposedToBindings rejects ${JSON.stringify(key)}`, () => {
    assert.is(usageMessage(() => exposedToBindings({ [key]: {} })), `invalid exposed port ${JSON.stringify(key)}`);
  });
}

test('exposedToBindings: limited by MAX_PORT_MAPPINGS', () => {
  assert.is(exposedToBindings({ '1-1000/tcp': {} }).length, MAX_PORT_MAPPINGS);
  assert.is(usageMessage(() => exposedToBindings({ '1-1000/tcp': {}, '1000-1001/tcp': {} })), 'too many port mappings (max 1000)');
});

// ---------------------------------------------------------------- formatPorts (docker ps PORTS)

const formats: Array<[string, PortBinding[], string]> = [
  ['nothing', [], ''],
  ['one published', [b(ANY, 8080, 80)], '0.0.0.0:8080->80/tcp'],
  ['one unpublished (host port 0)', [b(ANY, 0, 80)], '80/tcp'],
  ['host port 0 hides a specific IP too', [b('127.0.0.1', 0, 80, 'udp')], '80/udp'],
  ['same host and container port', [b('127.0.0.1', 80, 80)], '127.0.0.1:80->80/tcp'],
  ['identity range collapses', [b(ANY, 8000, 8000), b(ANY, 8001, 8001), b(ANY, 8002, 8002)], '0.0.0.0:8000-8002->8000-8002/tcp'],
  ['identity range collapses whatever the input order', [b(ANY, 8002, 8002), b(ANY, 8000, 8000), b(ANY, 8001, 8001)], '0.0.0.0:8000-8002->8000-8002/tcp'],
  [
    'shifted range does not collapse (as docker)',
    [b(ANY, 9000, 80), b(ANY, 9001, 81), b(ANY, 9002, 82)],
    '0.0.0.0:9000->80/tcp, 0.0.0.0:9001->81/tcp, 0.0.0.0:9002->82/tcp',
  ],
  ['unpublished range collapses', [b(ANY, 0, 8000), b(ANY, 0, 8001), b(ANY, 0, 8002)], '8000-8002/tcp'],
  ['gap splits a run', [b(ANY, 0, 80), b(ANY, 0, 81), b(ANY, 0, 83)], '80-81/tcp, 83/tcp'],
  ['protocols do not merge', [b(ANY, 0, 80), b(ANY, 0, 81, 'udp')], '80/tcp, 81/udp'],
  ['same port, tcp before udp', [b(ANY, 53, 53, 'udp'), b(ANY, 53, 53, 'tcp')], '0.0.0.0:53->53/tcp, 0.0.0.0:53->53/udp'],
  ['IPs do not merge', [b(ANY, 80, 80), b('127.0.0.1', 81, 81)], '0.0.0.0:80->80/tcp, 127.0.0.1:81->81/tcp'],
  ['unpublished before published at one port', [b(ANY, 80, 80), b(ANY, 0, 80)], '80/tcp, 0.0.0.0:80->80/tcp'],
  ['IPs compared as numbers, not text', [b('10.0.0.1', 8080, 80), b('9.0.0.1', 8080, 80)], '9.0.0.1:8080->80/tcp, 10.0.0.1:8080->80/tcp'],
  [
    'IPs compared octet by octet',
    [b('10.0.0.10', 8080, 80), b('10.0.0.9', 8080, 80), b('9.255.255.255', 8080, 80)],
    '9.255.255.255:8080->80/tcp, 10.0.0.9:8080->80/tcp, 10.0.0.10:8080->80/tcp',
  ],
  ['by container port first', [b(ANY, 1000, 90), b(ANY, 2000, 80)], '0.0.0.0:2000->80/tcp, 0.0.0.0:1000->90/tcp'],
  ['then by host port', [b(ANY, 2000, 80), b(ANY, 1000, 80)], '0.0.0.0:1000->80/tcp, 0.0.0.0:2000->80/tcp'],
  ['host mappings come after groups', [b(ANY, 8080, 80), b(ANY, 0, 443)], '443/tcp, 0.0.0.0:8080->80/tcp'],
  [
    'a run closed by a gap is written before runs still open (docker order)',
    [b(ANY, 0, 70), b(ANY, 71, 71), b(ANY, 0, 72)],
    '70/tcp, 72/tcp, 0.0.0.0:71->71/tcp',
  ],
  [
    'open runs in first-seen order',
    [b(ANY, 80, 80), b(ANY, 81, 81), b(ANY, 83, 83), b(ANY, 0, 90)],
    '0.0.0.0:80-81->80-81/tcp, 0.0.0.0:83->83/tcp, 90/tcp',
  ],
];
for (const [name, input, want] of formats) {
  test(`formatPorts: ${name}`, () => {
    assert.is(formatPorts(input), want);
  });
}

test('formatPorts does not reorder its input', () => {
  const input = [b(ANY, 0, 90), b(ANY, 0, 80)];
  assert.is(formatPorts(input), '80/tcp, 90/tcp');
  assert.equal(input, [b(ANY, 0, 90), b(ANY, 0, 80)]);
});

test('formatPorts of parsed -p values', () => {
  assert.is(
    formatPorts(parsePublishList(['127.0.0.1:8000-8001:8000-8001/udp', '8080:80', '443'])),
    '443/tcp, 127.0.0.1:8000-8001->8000-8001/udp, 0.0.0.0:8080->80/tcp',
  );
});

test('exposedPortKeys: EXPOSE, --expose and the -p container ports, expanded, sorted, once each', () => {
  const keys = exposedPortKeys({ '443/tcp': {}, '8000-8001': {}, '53/UDP': {} }, parsePublishList(['8080:80', '127.0.0.1:5353:53/udp', '443']));
  assert.equal(keys, ['53/udp', '80/tcp', '443/tcp', '8000/tcp', '8001/tcp']);
  assert.equal(exposedPortKeys({}, []), []);
});

test('parseExpose: ports and ranges as EXPOSE keys; bad ones refused', () => {
  assert.equal(parseExpose(['80', '7000-7001/udp']), { '80': {}, '7000-7001/udp': {} });
  assert.match(usageMessage(() => parseExpose(['eighty'])), /invalid exposed port "eighty"/);
  assert.match(usageMessage(() => parseExpose(['80/icmp'])), /invalid exposed port/);
  assert.match(usageMessage(() => parseExpose([''])), /invalid --expose value/);
});

test('withExposed: exposed ports nothing publishes show as unpublished in PORTS', () => {
  const published = parsePublishList(['8080:80']);
  const all = withExposed(published, ['80/tcp', '443/tcp', '53/udp']);
  assert.is(formatPorts(all), '53/udp, 443/tcp, 0.0.0.0:8080->80/tcp');
  assert.is(formatPorts(withExposed(published)), '0.0.0.0:8080->80/tcp');
});

test('the module is pure: no fs, net, child_process or process.env', () => {
  const source = readFileSync(new URL('../../../src/spec/ports.ts', import.meta.url), 'utf8');
  const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
  assert.equal(imports, ['../core/errors.js']);
  assert.not.match(source, /process\.|require\(/);
});

test.run();
