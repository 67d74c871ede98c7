// Unit tests for src/network/trace.ts (and the counter arithmetic in counters.ts it rests on):
// counters before and after one probe, the probe's result and conntrack in, the story out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { movedPolicies, movedRules, parseSave } from '../../src/network/counters.js';
import { narrate, parseConntrack, probeEntry, type ProbeResult, type Published, type TraceInputs } from '../../src/network/trace.js';

const WEB = 'ad214b473c5b'.padEnd(64, '0');
const CLIENT = '94f2f16158ee'.padEnd(64, '1');

/** minidock's rules for one network and one published port (18080 -> web 10.88.0.2:80), with
 *  the counters given by name. */
function save(c: Partial<Record<'pre' | 'out' | 'post' | 'fwd' | 'in' | 'dnat' | 'fromHost' | 'hairpin' | 'est' | 'fwdDnat' | 'fwdOut' | 'fwdPolicy', number>> = {}, policy = 'ACCEPT'): string {
  const n = (k: keyof typeof c): string => `[${c[k] ?? 0}:${(c[k] ?? 0) * 60}]`;
  return `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:MINIDOCK-DNAT - [0:0]
:MINIDOCK-POSTROUTING - [0:0]
${n('pre')} -A PREROUTING -m addrtype --dst-type LOCAL -j MINIDOCK-DNAT
${n('out')} -A OUTPUT -m addrtype --dst-type LOCAL -j MINIDOCK-DNAT
${n('post')} -A POSTROUTING -j MINIDOCK-POSTROUTING
[0:0] -A MINIDOCK-POSTROUTING -s 10.88.0.0/16 ! -o mdk0 -m comment --comment "minidock:net:bridge" -j MASQUERADE
${n('fromHost')} -A MINIDOCK-POSTROUTING -o mdk0 -m addrtype --src-type LOCAL -m comment --comment "minidock:net:bridge" -j MASQUERADE
${n('hairpin')} -A MINIDOCK-POSTROUTING -s 10.88.0.0/16 -o mdk0 -m conntrack --ctstate DNAT -m comment --comment "minidock:net:bridge" -j MASQUERADE
${n('dnat')} -A MINIDOCK-DNAT -p tcp -m tcp --dport 18080 -m comment --comment "minidock:${WEB}" -j DNAT --to-destination 10.88.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ${policy} ${n('fwdPolicy')}
:OUTPUT ACCEPT [0:0]
:MINIDOCK-FORWARD - [0:0]
:MINIDOCK-INPUT - [0:0]
${n('in')} -A INPUT -j MINIDOCK-INPUT
${n('fwd')} -A FORWARD -j MINIDOCK-FORWARD
${n('est')} -A MINIDOCK-FORWARD -o mdk0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "minidock:net:bridge" -j ACCEPT
${n('fwdDnat')} -A MINIDOCK-FORWARD -o mdk0 -m conntrack --ctstate DNAT -m comment --comment "minidock:net:bridge" -j ACCEPT
${n('fwdOut')} -A MINIDOCK-FORWARD -i mdk0 -m comment --comment "minidock:net:bridge" -j ACCEPT
COMMIT
`;
}

const BEFORE = parseSave(save({ pre: 10, out: 5, post: 7, fwd: 100, in: 50, dnat: 3, fromHost: 2, est: 40, fwdDnat: 3, fwdOut: 57 }));
const WEB_PUBLISHED: Published = { id: WEB, name: 'web', ip: '10.88.0.2', hostIp: '0.0.0.0', hostPort: 18080, containerPort: 80, bridge: 'mdk0', gateway: '10.88.0.1' };

const probe = (p: Partial<ProbeResult>): ProbeResult => ({ src: '127.0.0.1', sport: 21217, dst: '127.0.0.1', dport: 18080, outcome: 'answered', ms: 17.8, timeoutMs: 2000, ...p });

const PROC_LINE = 'ipv4     2 tcp      6 119 TIME_WAIT src=127.0.0.1 dst=127.0.0.1 sport=21217 dport=18080 src=10.88.0.2 dst=10.88.0.1 sport=80 dport=21217 [ASSURED] mark=0 zone=0 use=2';

const inputs = (o: Partial<TraceInputs>): TraceInputs => ({
  port: 18080,
  from: { kind: 'host' },
  published: [WEB_PUBLISHED],
  before: BEFORE,
  after: BEFORE,
  probe: probe({}),
  conntrack: { source: '/proc/net/nf_conntrack', entries: parseConntrack(PROC_LINE) },
  ...o,
});

test('counters: moved rules by occurrence, new rules from zero, policies', () => {
  const a = parseSave('*filter\n:FORWARD DROP [5:300]\n[1:60] -A FORWARD -j X\n[1:60] -A FORWARD -j X\nCOMMIT\n');
  const b = parseSave('*filter\n:FORWARD DROP [7:420]\n[1:60] -A FORWARD -j X\n[4:240] -A FORWARD -j X\n[2:120] -A FORWARD -j Y\nCOMMIT\n');
  assert.equal(movedRules(a, b).map((m) => [m.item.spec, m.pkts, m.bytes]), [['-j X', 3, 180], ['-j Y', 2, 120]]);
  assert.equal(movedPolicies(a, b).map((m) => [m.item.chain, m.item.policy, m.pkts]), [['FORWARD', 'DROP', 2]]);
  assert.is(parseSave(save()).rules[6]!.spec, `-p tcp -m tcp --dport 18080 -m comment --comment minidock:${WEB} -j DNAT --to-destination 10.88.0.2:80`, 'comment unquoted');
});

test('conntrack: both formats, flags, and the probe\'s entry', () => {
  const tool = 'tcp      6 431999 ESTABLISHED src=198.18.0.2 dst=198.18.0.1 sport=31213 dport=18080 src=10.88.0.2 dst=198.18.0.2 sport=80 dport=31213 [ASSURED] mark=0 use=1\n' +
    'tcp      6 118 SYN_SENT src=10.88.0.2 dst=10.88.0.1 sport=28798 dport=18080 [UNREPLIED] src=10.88.0.2 dst=10.88.0.2 sport=80 dport=28798 mark=0 use=1\n' +
    'udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=53 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=53 mark=0 use=1\n' +
    'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.\n';
  const e = parseConntrack(tool);
  assert.is(e.length, 3);
  assert.equal(e[0], { proto: 'tcp', state: 'ESTABLISHED', orig: { src: '198.18.0.2', dst: '198.18.0.1', sport: 31213, dport: 18080 }, reply: { src: '10.88.0.2', dst: '198.18.0.2', sport: 80, dport: 31213 }, flags: ['ASSURED'] });
  assert.equal(e[1]!.flags, ['UNREPLIED']);
  assert.is(e[2]!.state, undefined, 'udp has no state');
  const [proc] = parseConntrack(PROC_LINE);
  assert.equal(proc!.reply, { src: '10.88.0.2', dst: '10.88.0.1', sport: 80, dport: 21217 });
  assert.is(probeEntry([...e, proc!], probe({})), proc);
  assert.is(probeEntry(e, probe({})), undefined);
});

test('from the host, answered: OUTPUT, the DNAT rule, the from-host MASQUERADE, and the reply un-NATed by conntrack', () => {
  const after = parseSave(save({ pre: 10, out: 6, post: 8, fwd: 100, in: 53, dnat: 4, fromHost: 3, est: 40, fwdDnat: 3, fwdOut: 57 }));
  const { text, answered } = narrate(inputs({ after }));
  assert.ok(answered);
  const lines = text.split('\n');
  assert.is(lines[0], 'trace tcp port 18080 from this host: one connection 127.0.0.1:21217 → 127.0.0.1:18080, waiting at most 2000 ms');
  assert.is(lines[1], 'published: 0.0.0.0:18080 → container web (ad214b473c5b) at 10.88.0.2:80, on mdk0');
  const steps = lines.filter((l) => /^ {2}\d+\. /.test(l));
  assert.equal(steps, [
    '  1. nat OUTPUT: --dst-type LOCAL -j MINIDOCK-DNAT   (+1 packet)',
    '  2. nat MINIDOCK-DNAT: -p tcp --dport 18080 -j DNAT --to-destination 10.88.0.2:80   (+1 packet)',
    '  3. nat POSTROUTING: -j MINIDOCK-POSTROUTING   (+1 packet)',
    '  4. nat MINIDOCK-POSTROUTING: -o mdk0 --src-type LOCAL -j MASQUERADE   (+1 packet)',
    '  5. filter INPUT: -j MINIDOCK-INPUT   (+3 packets)',
  ]);
  assert.match(text, /→ destination rewritten to 10\.88\.0\.2:80: container web/);
  assert.match(text, /→ source rewritten to 10\.88\.0\.1 \(mdk0's address\): the sender is this host/);
  assert.match(text, /→ the container's replies, coming back to the probe's socket/);
  assert.match(text, /outcome: ANSWERED in 17\.8 ms: container web \(10\.88\.0\.2:80\) accepted the connection/);
  assert.match(text, / {2}original {2}127\.0\.0\.1:21217 → 127\.0\.0\.1:18080\n {2}reply {5}10\.88\.0\.2:80 → 10\.88\.0\.1:21217 {3}TIME_WAIT \[ASSURED\]/);
  assert.match(text, /undoing the DNAT/);
  assert.match(text, /the masqueraded source\); conntrack rewrites that back to 127\.0\.0\.1:21217/);
});

test('from the LAN: PREROUTING, FORWARD admits the DNAT\'d connection, no source NAT', () => {
  const after = parseSave(save({ pre: 11, out: 5, post: 8, fwd: 106, in: 50, dnat: 4, fromHost: 2, est: 43, fwdDnat: 4, fwdOut: 59 }));
  const line = 'tcp 6 119 TIME_WAIT src=198.18.0.2 dst=198.18.0.1 sport=31213 dport=18080 src=10.88.0.2 dst=198.18.0.2 sport=80 dport=31213 [ASSURED] mark=0 use=1';
  const { text, answered } = narrate(inputs({
    from: { kind: 'lan', client: '198.18.0.2' }, after,
    probe: probe({ src: '198.18.0.2', dst: '198.18.0.1', sport: 31213 }),
    conntrack: { source: 'conntrack -L', entries: parseConntrack(line) },
  }));
  assert.ok(answered);
  assert.match(text, /from a LAN machine \(namespace at 198\.18\.0\.2\)/);
  assert.match(text, /1\. nat PREROUTING: --dst-type LOCAL -j MINIDOCK-DNAT {3}\(\+1 packet\)\n {5}→ .*arriving from outside the host/);
  assert.match(text, /filter MINIDOCK-FORWARD: -o mdk0 --ctstate DNAT -j ACCEPT {3}\(\+1 packet\)\n {5}→ admitted into the bridge/);
  assert.match(text, /filter MINIDOCK-FORWARD: -i mdk0 -j ACCEPT {3}\(\+2 packets\)\n {5}→ admitted out of the bridge: what the container sends \(here, its replies\)/);
  assert.match(text, /conntrack \(conntrack -L\)/);
  assert.match(text, /no source NAT, so the container saw the client's real address/);
});

test('an unpublished port: no rule matched, the host answered RST, conntrack forgot it', () => {
  const after = parseSave(save({ pre: 10, out: 6, post: 8, fwd: 100, in: 52, dnat: 3, fromHost: 2, est: 40, fwdDnat: 3, fwdOut: 57 }));
  const { text, answered } = narrate(inputs({ port: 18081, published: [], after, probe: probe({ dport: 18081, outcome: 'refused', error: 'ECONNREFUSED' }), conntrack: { source: '/proc/net/nf_conntrack', entries: [] } }));
  assert.not.ok(answered);
  assert.match(text, /published: nothing on port 18081 \(minidock ps lists published ports\)/);
  assert.not.match(text, /MINIDOCK-DNAT: /, 'no DNAT rule among the steps');
  assert.match(text, /outcome: STOPPED at the host: no MINIDOCK-DNAT rule matched: nothing is published on port 18081, and no program on the host listens on 127\.0\.0\.1:18081, so the host's kernel answered RST/);
  assert.match(text, /no entry left: a RST answering a SYN ends the connection's entry at once/);
  assert.match(text, /→ addressed to the host itself \(nothing redirected it\)/);
});

test('refused after DNAT: the container has no listener', () => {
  const after = parseSave(save({ pre: 10, out: 6, post: 8, fwd: 100, in: 52, dnat: 4, fromHost: 3, est: 40, fwdDnat: 3, fwdOut: 57 }));
  const { text } = narrate(inputs({ after, probe: probe({ outcome: 'refused', error: 'ECONNREFUSED' }), conntrack: { source: '/proc/net/nf_conntrack', entries: [] } }));
  assert.match(text, /outcome: STOPPED at container web \(10\.88\.0\.2:80\): it answered RST, nothing listens on port 80 inside it/);
});

test('from the LAN to a port published on 127.0.0.1 only', () => {
  const local = { ...WEB_PUBLISHED, hostIp: '127.0.0.1' };
  const after = parseSave(save({ pre: 11, out: 5, post: 7, fwd: 100, in: 52, dnat: 3, fromHost: 2, est: 40, fwdDnat: 3, fwdOut: 57 }));
  const { text } = narrate(inputs({ from: { kind: 'lan', client: '198.18.0.2' }, published: [local], after, probe: probe({ src: '198.18.0.2', dst: '198.18.0.1', outcome: 'refused' }), conntrack: { source: 'none', entries: [] } }));
  assert.match(text, /STOPPED at the host: no MINIDOCK-DNAT rule matched: port 18080 is published on 127\.0\.0\.1 only, which only this host's own processes reach/);
  assert.match(text, /conntrack: neither the conntrack tool nor \/proc\/net\/nf_conntrack is available/);
});

test('a timeout under FORWARD policy DROP names the policy; a self-hairpin without hairpin mode names the port', () => {
  const before = parseSave(save({ pre: 10, dnat: 3 }, 'DROP'));
  const after = parseSave(save({ pre: 12, dnat: 5, fwdPolicy: 2 }, 'DROP'));
  const lan = narrate(inputs({ from: { kind: 'lan', client: '198.18.0.2' }, before, after, probe: probe({ outcome: 'timeout', ms: 2000 }), conntrack: { source: '/proc/net/nf_conntrack', entries: [] } }));
  assert.match(lan.text, /filter FORWARD: policy DROP {3}\(\+2 packets\)\n {5}→ no rule decided, so the chain's policy DROP did/);
  assert.match(lan.text, /outcome: STOPPED in filter FORWARD: no rule admitted the packets and its policy DROP took them/);
  assert.match(lan.text, /these were dropped first/);

  const self = narrate(inputs({
    from: { kind: 'container', name: 'web', id: WEB, ip: '10.88.0.2' },
    after: parseSave(save({ pre: 12, out: 5, post: 7, fwd: 100, in: 50, dnat: 5, fromHost: 2, est: 40, fwdDnat: 3, fwdOut: 57 })),
    probe: probe({ src: '10.88.0.2', dst: '10.88.0.1', outcome: 'timeout', ms: 2000 }),
    conntrack: { source: '/proc/net/nf_conntrack', entries: [] },
    bridgePort: { veth: 'mdkad214b473c5b', hairpin: false, bridgeNfCallIptables: '1' },
  }));
  assert.match(self.text, /STOPPED at the bridge: container web called its own published port/);
  assert.match(self.text, /Fix: ip link set mdkad214b473c5b type bridge_slave hairpin on/);
});

test('from a sibling container: the hairpin MASQUERADE', () => {
  const after = parseSave(save({ pre: 11, out: 5, post: 8, fwd: 106, in: 50, dnat: 4, fromHost: 2, hairpin: 1, est: 45, fwdDnat: 4, fwdOut: 57 }));
  const line = 'ipv4 2 tcp 6 119 TIME_WAIT src=10.88.0.3 dst=10.88.0.1 sport=29709 dport=18080 src=10.88.0.2 dst=10.88.0.1 sport=80 dport=29709 [ASSURED] mark=0 zone=0 use=2';
  const { text, answered } = narrate(inputs({
    from: { kind: 'container', name: 'client', id: CLIENT, ip: '10.88.0.3' }, after,
    probe: probe({ src: '10.88.0.3', dst: '10.88.0.1', sport: 29709 }),
    conntrack: { source: '/proc/net/nf_conntrack', entries: parseConntrack(line) },
    bridgePort: { veth: 'mdk94f2f16158ee', hairpin: false, bridgeNfCallIptables: '1' },
  }));
  assert.ok(answered);
  assert.match(text, /from container client \(10\.88\.0\.3\)/);
  assert.match(text, /MINIDOCK-POSTROUTING: -s 10\.88\.0\.0\/16 -o mdk0 --ctstate DNAT -j MASQUERADE {3}\(\+1 packet\)\n {5}→ source rewritten to 10\.88\.0\.1 \(mdk0's address\): a container called a published port/);
  assert.match(text, /rewrites that back to 10\.88\.0\.3:29709/);
});

test.run();
