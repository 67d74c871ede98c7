// Traffic shaping, the pure half (src/network/bandwidth.ts): tc's rate units, the default
// burst, and the tc and ip lines for each direction.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { defaultBurst, formatRate, ifbName, parseRate, planShaping } from '../../src/network/bandwidth.js';

test('parseRate: tc\'s units (bits, bytes, SI and IEC), a bare number in bits; too slow, too fast and garbage refused', () => {
  assert.is(parseRate('10mbit', '--ingress-rate'), 10_000_000);
  assert.is(parseRate('500kbit', 'x'), 500_000);
  assert.is(parseRate('1gbit', 'x'), 1e9);
  assert.is(parseRate('1.5mbit', 'x'), 1_500_000);
  assert.is(parseRate('125000bps', 'x'), 1_000_000, 'bps is bytes');
  assert.is(parseRate('1mibit', 'x'), 1024 * 1024);
  assert.is(parseRate('64000', 'x'), 64000);
  for (const bad of ['10mb', 'fast', '', '-1mbit', '100bit', '40gbit']) {
    assert.throws(() => parseRate(bad, '--egress-rate'), (e: Error) => e instanceof MinidockError && /--egress-rate/.test(e.message), bad);
  }
});

test('planShaping: tbf on the host end for ingress; an ifb, the ingress qdisc and a mirred redirect for egress', () => {
  assert.equal(planShaping('mdkabc', 'mdbabc', { ingressRate: 10_000_000 }), {
    ip: [],
    tc: ['qdisc add dev mdkabc root tbf rate 1250000bps burst 32768b latency 25ms'],
  });
  assert.equal(planShaping('mdkabc', 'mdbabc', { egressRate: 8_000_000, egressBurst: 800_000 }), {
    ip: ['link add name mdbabc type ifb', 'link set mdbabc up'],
    tc: [
      'qdisc add dev mdkabc handle ffff: ingress',
      'filter add dev mdkabc parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev mdbabc',
      'qdisc add dev mdbabc root tbf rate 1000000bps burst 100000b latency 25ms',
    ],
  });
  assert.is(defaultBurst(10_000_000), 262144, '32 KiB at 10mbit');
  assert.is(defaultBurst(10e9), 1e8, '10 ms at 10gbit');
  assert.is(ifbName('0123456789abcdef'), 'mdb0123456789ab');
  assert.is(formatRate(10_000_000), '10mbit');
  assert.is(formatRate(1_500_000_000), '1.5gbit');
  assert.is(formatRate(64_000), '64kbit');
});

test.run();
